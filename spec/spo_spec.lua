-- sxlua export --format spo: a SeccompProfile custom resource of the
-- security-profiles-operator, valid against the operator's CRD schema (vendored in
-- spec/fixtures, checked by python3-jsonschema), meaning what the filter means.
local proc = require "support.proc"
local seccomp = require "sx.seccomp"
local oci = require "sx.oci"
local spo = require "sx.spo"

local source = assert(os.getenv("SX_SOURCE_DIR"), "run through ctest")
local SCHEMA = source .. "/spec/fixtures/spo-seccompprofile-v1.schema.yaml"
local VALIDATE = "python3 " .. proc.shell_quote(source .. "/spec/support/validate_crd.py")

-- validate(yaml) -> true, the document as JSON | false, the violations
local function validate(text)
  local path = proc.tmpname() .. ".yaml"
  proc.write(path, text)
  local code, out, err = proc.run(("%s %s %s"):format(VALIDATE, proc.shell_quote(SCHEMA), path))
  os.remove(path)
  assert(code == 0 or code == 1, "the validator did not run: " .. err)
  return code == 0, out
end

local function export(args)
  return proc.run(proc.SXLUA .. " export --format spo " .. args)
end

local function policy(text)
  local path = proc.tmpname() .. ".lua"
  proc.write(path, text)
  return path
end

describe("sxlua export --format spo #lua54", function()
  it("writes a SeccompProfile that the operator's CRD schema accepts", function()
    local code, out, err = export("--name web-server --allow-exec " .. source .. "/policies/minimal.lua")
    assert.equal(0, code, err)
    assert.equal("", err)
    assert.matches("\napiVersion: security%-profiles%-operator%.x%-k8s%.io/v1\nkind: SeccompProfile\n", out)
    assert.matches('\nmetadata:\n  name: "web%-server"\n', out)
    local ok, json = validate(out)
    assert.is_true(ok, json)
    local doc = require("cjson").decode(json)
    assert.equal("security-profiles-operator.x-k8s.io/v1", doc.apiVersion)
    assert.equal("SeccompProfile", doc.kind)
    assert.equal("web-server", doc.metadata.name)
    assert.equal("SCMP_ACT_KILL_PROCESS", doc.spec.defaultAction)
  end)

  it("means what the filter means: its spec imports back to the same decisions", function()
    local pol = policy([[local seccomp = require "sx.seccomp"
      return assert(seccomp.builder()
        :allow { "read", "write", "close", "exit_group", "execve" }
        :allow("socket", "arg0 == AF_UNIX")
        :allow("socketcall")      -- i386's: libseccomp gives it socket's rules (oci_export)
        :allow("mprotect", "arg2 & PROT_EXEC == 0")
        :deny("ptrace")
        :rule(seccomp.errno("ENOSYS"), "clone3")
        :rule("log", "uname")
        :build { default = "kill_process", arches = { "x86_64", "i386" } })]])
    local code, out, err = export("--name probe " .. pol)
    assert.equal(0, code, err)
    local f = assert(dofile(pol))
    os.remove(pol)
    local ok, json = validate(out)
    assert.is_true(ok, json)
    local g, report = oci.import(json, { arches = { "x86_64", "i386" } })
    assert(g, tostring(report))
    local probes = { { "read" }, { "socket", { 1 } }, { "socket", { 2 } }, { "mprotect", { 0, 0, 1 } },
                     { "mprotect", { 0, 0, 4 } }, { "ptrace" }, { "clone3" }, { "uname" }, { "openat" } }
    for _, arch in ipairs { "x86_64", "i386" } do
      for _, p in ipairs(probes) do
        assert.equal(f:eval(p[1], p[2], arch), g:eval(p[1], p[2], arch))
      end
    end
  end)

  it("the schema check is real: it refuses what the CRD does not allow", function()
    local good = assert(spo.export(assert(seccomp.deny_list({ "ptrace" }, { arch = "x86_64" })), { name = "ok" }))
    assert.is_true((validate(good)))
    local broken = {
      { good:gsub('action: "SCMP_ACT_ERRNO"', 'action: "SCMP_ACT_DENY"'), "action" },
      { good:gsub("errnoRet: 1", "errnoRet: 5000"), "errnoRet" },
      { good:gsub("errnoRet: 1", "errno: 1"), "errno" },              -- the API server would prune it
      { good:gsub("spec:\n", "spec:\n  defaultErrnoRet: 38\n"), "defaultErrnoRet" },
      { good:gsub('"SCMP_ARCH_X86_64"', '"SCMP_ARCH_LOONGARCH64"'), "architectures" },
    }
    for _, b in ipairs(broken) do
      local ok, why = validate(b[1])
      assert.is_false(ok, b[2])
      assert.matches(b[2], why)
    end
  end)

  it("refuses what the CRD cannot hold, saying what to do instead", function()
    local cases = {
      { "return require('sx.seccomp').allow_list({ 'read' }, { default = require('sx.seccomp').errno('ENOSYS') })",
        "has no defaultErrnoRet" },
      { "local s = require 'sx.seccomp'\nreturn assert(s.builder():allow('mmap', 'arg1 != 1 && arg1 < 100'):build { arch = 'x86_64' })",
        "does not fit the int64" },
      { "return require('sx.seccomp').from_rules({ { require('sx.seccomp').trace(5000), 'ptrace' } }, 'allow', { arch = 'x86_64' })",
        "above the 4095" },
      { "return require('sx.seccomp').deny_list({ 'ptrace' }, { arch = 'loongarch64' })",
        "does not take the architecture SCMP_ARCH_LOONGARCH64" },
    }
    for _, c in ipairs(cases) do
      local pol = policy(c[1])
      local code, out, err = export("--name x --allow-exec " .. pol)
      os.remove(pol)
      assert.equal(125, code, err)
      assert.equal("", out)
      assert.matches(c[2], err)
    end
    local pol = policy("return require('sx.seccomp').deny_list({ 'ptrace' })")
    for _, name in ipairs { "Web", "-web", "web_1", ("a"):rep(254), "" } do
      local code, _, err = export("--name '" .. name .. "' " .. pol)
      assert.equal(125, code)
      assert.matches("is not a Kubernetes object name", err)
    end
    local code, _, err = export(pol)
    os.remove(pol)
    assert.equal(125, code)
    assert.matches("a SeccompProfile needs a name %(%-%-name NAME%)", err)
  end)
end)

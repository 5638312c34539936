-- sx.oci reads profiles as the real producers write them: containers/common (podman,
-- CRI-O, buildah) with each errno given twice, runc's config.json, and the
-- security-profiles-operator's SeccompProfile. Fields that truly disagree are refused
-- with their JSON path.
local oci = require "sx.oci"
local seccomp = require "sx.seccomp"
local cjson = require "cjson"
local proc = require "support.proc"

local FIXTURES = (os.getenv("SX_SOURCE_DIR") or ".") .. "/spec/fixtures/"
local X86 = { arches = { "x86_64", "i386", "x32" } }
local EPERM, ENOSYS, EINVAL = seccomp.errno("EPERM"), seccomp.errno("ENOSYS"), seccomp.errno("EINVAL")

local function read(path) return assert(proc.read(path), path) end

-- import(text or table [, opts]) -> filter, report; refused(...) -> the bad_profile error
local function import(profile, opts)
  local f, report = oci.import(profile, opts or X86)
  assert(f, tostring(report))
  return f, report
end

local function refused(profile, opts)
  local f, err = oci.import(profile, opts or X86)
  assert.is_nil(f)
  assert.equal("bad_profile", err.code, tostring(err))
  return err
end

-- containers/common's profile, decoded (64-bit values exact), for editing; import takes
-- the table as it is
local function common()
  return assert(oci.decode(read(FIXTURES .. "containers_common_profile.json")))
end

describe("containers/common's shape (podman, CRI-O, buildah)", function()
  it("loads, with errnoRet and errno both given and agreeing", function()
    local text = read(FIXTURES .. "containers_common_profile.json")
    assert.matches('"defaultErrnoRet": 38,%s+"defaultErrno": "ENOSYS"', text)
    assert.matches('"errnoRet": 1,%s+"errno": "EPERM"', text)
    local f = import(text)
    assert.equal(ENOSYS, f:eval("uname"))                 -- the default
    assert.equal("allow", f:eval("openat"))
    assert.equal(EPERM, f:eval("kexec_load"))
    assert.equal(EPERM, f:eval("vm86", nil, "i386"))
    assert.equal("allow", f:eval("personality", { 8 }))
    assert.equal(ENOSYS, f:eval("personality", { 0 }))
    assert.equal("allow", f:eval("arch_prctl"))
    assert.equal(EPERM, f:eval("ptrace"))                 -- CAP_SYS_PTRACE not held
    assert.equal("allow", f:eval("socket", { 16, 3, 9 })) -- CAP_AUDIT_WRITE held
  end)

  it("evaluates its caps-gated pairs for the capabilities given", function()
    local text = read(FIXTURES .. "containers_common_profile.json")
    local f = import(text, { arches = { "x86_64" }, caps = { "CAP_SYS_PTRACE" } })
    assert.equal("allow", f:eval("ptrace"))
    assert.equal(EINVAL, f:eval("socket", { 16, 3, 9 }))  -- AF_NETLINK, NETLINK_AUDIT
    assert.equal("allow", f:eval("socket", { 16, 3, 0 }))
    assert.equal("allow", f:eval("socket", { 2, 1, 0 }))
  end)

  it("refuses a name and a number that disagree, at the name's path", function()
    local p = common()
    p.defaultErrno = "EPERM"
    local err = refused(p)
    assert.equal("defaultErrno", err.path)
    assert.matches('"EPERM" is errno 1, but defaultErrnoRet is 38', err.message)

    p = common()
    p.syscalls[1].errno = "ENOSYS"
    err = refused(p)
    assert.equal("syscalls[0].errno", err.path)
    assert.matches('syscalls%[0%]%.errno: "ENOSYS" is errno 38, but errnoRet is 1', tostring(err))

    p = common()
    p.syscalls[7].errno = "EPERM"                         -- errnoRet 22 is EINVAL
    assert.equal("syscalls[6].errno", refused(p).path)
  end)

  it("takes either form alone, and an empty name as absent", function()
    local p = common()
    p.defaultErrnoRet = nil
    p.syscalls[1].errnoRet = nil
    local f = import(p)
    assert.equal(ENOSYS, f:eval("uname"))
    assert.equal(EPERM, f:eval("kexec_load"))
    p = common()
    p.defaultErrno = ""
    p.syscalls[1].errno = ""
    f = import(p)
    assert.equal(ENOSYS, f:eval("uname"))
    assert.equal(EPERM, f:eval("kexec_load"))
  end)

  it("refuses the same disagreement inside a runc config.json, with the whole path", function()
    local config = assert(oci.decode(read(FIXTURES .. "oci_config.json")))
    config.linux.seccomp.defaultErrno = "EPERM"          -- defaultErrnoRet is 38
    local err = refused(config)
    assert.equal("linux.seccomp.defaultErrno", err.path)
    config.linux.seccomp.defaultErrno = "ENOSYS"
    import(config)
  end)
end)

describe("the security-profiles-operator's SeccompProfile", function()
  local function resource(spec, version)
    return cjson.encode({ apiVersion = "security-profiles-operator.x-k8s.io/" .. (version or "v1"),
                          kind = "SeccompProfile", metadata = { name = "demo" }, spec = spec })
  end
  local SPEC = { defaultAction = "SCMP_ACT_ERRNO", architectures = { "SCMP_ARCH_X86_64" },
                 syscalls = { { names = { "read", "write" }, action = "SCMP_ACT_ALLOW" },
                              { names = { "ptrace" }, action = "SCMP_ACT_ERRNO", errnoRet = 38 } } }

  it("imports the resource (kubectl get -o json) as its spec, v1 and v1beta1", function()
    for _, version in ipairs { "v1", "v1beta1" } do
      local f = import(resource(SPEC, version), { arches = { "x86_64" } })
      assert.equal("allow", f:eval("read"))
      assert.equal(ENOSYS, f:eval("ptrace"))
      assert.equal(EPERM, f:eval("uname"))                -- SCMP_ACT_ERRNO alone: EPERM
    end
  end)

  it("imports the spec alone, with the operator's own fields", function()
    local spec = { defaultAction = "SCMP_ACT_LOG", state = "Enabled", disabled = false,
                   syscalls = { { names = { "read" }, action = "SCMP_ACT_ALLOW" } } }
    local f, report = import(cjson.encode(spec), { arches = { "x86_64" } })
    assert.equal("log", f:eval("uname"))
    assert.same({}, report.notes)
    spec.state = "Disabled"
    f, report = import(cjson.encode(spec), { arches = { "x86_64" } })
    assert.matches("disabled", report.notes[1])
  end)

  it("names spec.* paths, and refuses what it cannot honour", function()
    local spec = { defaultAction = "SCMP_ACT_ERRNO",
                   syscalls = { { names = { "read" }, action = "SCMP_ACT_ALOW" } } }
    assert.equal("spec.syscalls[0].action", refused(resource(spec)).path)
    local err = refused(resource({ defaultAction = "SCMP_ACT_ERRNO", baseProfileName = "runc-v1.2.0" }))
    assert.equal("spec.baseProfileName", err.path)
    assert.matches("status.path", err.message)
    assert.equal("spec.state", refused(resource({ defaultAction = "SCMP_ACT_ERRNO", state = "Off" })).path)
    assert.equal("kind", refused('{"apiVersion": "v1", "kind": "Pod", "spec": {}}').path)
    assert.equal("spec", refused('{"apiVersion": "security-profiles-operator.x-k8s.io/v1", "kind": "SeccompProfile"}').path)
    assert.equal("apiVersion", refused('{"apiVersion": "example.com/v1", "kind": "SeccompProfile", "spec": {}}').path)
  end)

  it("says that YAML is not JSON, and how to get JSON", function()
    local err = refused("apiVersion: security-profiles-operator.x-k8s.io/v1\nkind: SeccompProfile\n")
    assert.matches("looks like YAML.*kubectl get seccompprofile NAME %-o json", err.message)
  end)
end)

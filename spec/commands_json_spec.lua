-- sxlua dump, explain and summary --json: one JSON object with the documented field
-- names (docs/sxlua.1), parsed here with lua-cjson, as a script or CI job would.
local cjson = require "cjson"
local seccomp = require "sx.seccomp"
local proc = require "support.proc"

local source = assert(os.getenv("SX_SOURCE_DIR"), "run through ctest")
local known = source .. "/spec/fixtures/known_policy.lua"
local podman = source .. "/spec/fixtures/podman_profile.json"

local function json_of(args)
  local code, out, err = proc.run(proc.SXLUA .. " " .. args)
  assert.equal(0, code, err)
  assert.equal(1, select(2, out:gsub("\n", "")))    -- one line
  return cjson.decode(out)
end

local function known_filter() return (assert(dofile(known))) end

describe("sxlua --json #lua54", function()
  it("dump: each filter's arches and instructions, with the disassembly's text", function()
    local t = json_of("dump --json " .. known)
    local f = known_filter()
    assert.equal(1, #t.filters)
    local d = t.filters[1]
    assert.same({ "x86_64" }, d.arches)
    assert.equal(#f, #d.instructions)
    for pc, insn in ipairs(d.instructions) do
      assert.equal(pc - 1, insn.pc)
      local code, jt, jf, k = ("=I2BBI4"):unpack(f.bpf, (pc - 1) * 8 + 1)
      assert.same({ code, jt, jf, k }, { insn.code, insn.jt, insn.jf, insn.k })
      assert.is_string(insn.text)
    end
    assert.equal("ld [4] ; arch", d.instructions[1].text)
    assert.equal(0xc000003e, d.instructions[2].k)
  end)

  it("explain: the probe, each filter's decision and path, and the kernel's answer", function()
    local t = json_of("explain --json " .. known .. " -- socket 1")
    assert.same({ "0x1", "0x0", "0x0", "0x0", "0x0", "0x0" }, t.args)
    assert.equal("allow", t.action)
    assert.equal(0x7fff0000, t.value)
    assert.equal(1, t.decided_by)
    local e = t.filters[1]
    assert.equal("socket", e.syscall)
    assert.equal(41, e.nr)
    assert.equal("x86_64", e.arch)
    assert.equal(3, e.rule)
    assert.matches("^rule 3 at .*known_policy%.lua:%d+: its conditions hold$", e.reason)
    assert.equal(9, e.executed)          -- family is an int: its low word only
    assert.same({ 0, 1, 2, 3, 4, 5, 6, 7, 8 }, e.path)
    t = json_of("explain --json " .. known .. " -- ptrace")
    assert.equal("errno(EPERM)", t.action)
    assert.equal(0x00050001, t.value)
  end)

  it("explain: a stack of filters, and 64-bit arguments kept exact as hex", function()
    local stack = os.tmpname() .. ".lua"
    proc.write(stack, ([[local s = require "sx.seccomp"
      return { filters = { dofile(%q), s.deny_list({ "read" }, { arch = "x86_64", deny_action = "kill_process" }) } }]])
      :format(known))
    local t = json_of("explain --json " .. stack .. " -- read 0xffffffffffffffff")
    os.remove(stack)
    assert.equal(2, #t.filters)
    assert.equal("allow", t.filters[1].action)
    assert.equal("kill_process", t.filters[2].action)
    assert.equal("kill_process", t.action)
    assert.equal(2, t.decided_by)
    assert.equal("0xffffffffffffffff", t.args[1])
  end)

  it("summary: per arch, each action's syscalls, what depends on arguments, the cache", function()
    local t = json_of("summary --json " .. known)
    local f = known_filter()
    local s = t.filters[1]
    assert.equal(#f, s.instructions)
    assert.same({ "x86_64" }, s.arches)
    local a = s.per_arch[1]
    assert.equal("x86_64", a.arch)
    assert.same({ "read", "write" }, a.actions.allow)
    assert.same({ "ptrace" }, a.actions["errno(EPERM)"])
    assert.same(f.summary.arches[1].actions.kill_process, a.actions.kill_process)
    assert.same({ "socket" }, a.depends_on_arguments)
    assert.is_boolean(a.cache.kernel_caches_arch)
    assert.equal(2, a.cache.eligible)
    assert.equal("socket", a.cache.not_eligible[1].syscall)
    assert.is_string(a.cache.not_eligible[1].reason)
  end)

  it("every command with --oci: the import report under 'import'", function()
    for _, command in ipairs { "dump", "summary", "explain" } do
      local t = json_of(("%s --json --oci %s --arch x86_64 %s"):format(command, podman,
                        command == "explain" and "-- keyctl" or ""))
      local r = t.import
      assert.same({ "x86_64" }, r.arches)
      assert.equal("opts", r.arches_from)
      assert.equal("syscalls[3]", r.excluded[1].path)
      assert.same({ "keyctl", "add_key", "request_key" }, r.excluded[1].names)
      assert.equal("includes.caps: CAP_SYS_ADMIN is not held", r.excluded[1].reason)
      assert.is_table(r.skipped.x86_64)
      assert.equal("bdflush", r.unknown[1].name)             -- i386 only
      assert.is_true(r.unknown[1].known)
      assert.is_table(r.caps)
      assert.is_table(r.notes)
    end
  end)

  it("empty lists are arrays, and a raw-BPF source has no rule", function()
    local only = os.tmpname() .. ".lua"
    proc.write(only, 'return require("sx.seccomp").allow_list({ "read" }, { arch = "x86_64", default = "allow" })')
    local t = json_of("summary --json " .. only)
    os.remove(only)
    local out = select(2, proc.run(proc.SXLUA .. " summary --json " .. known))
    assert.matches('"depends_on_arguments":%["socket"%]', out)
    assert.same({}, t.filters[1].per_arch[1].depends_on_arguments)
    local bpf = os.tmpname()
    assert(proc.run(("%s bpf -o %s %s"):format(proc.SXLUA, bpf, known)) == 0)
    t = json_of(("explain --json --bpf %s --arch x86_64 -- ptrace"):format(bpf))
    os.remove(bpf)
    assert.is_nil(t.filters[1].rule)
    assert.equal("errno(EPERM)", t.action)
    assert.equal(seccomp.errno("EPERM"), seccomp.action(t.action))
  end)
end)

-- LuaJIT tests: the FFI binding (lua/sx/ffi.lua over libsx.so) and, in a LuaJIT build
-- (-DSX_LUA=luajit), the sx.core C module itself. Busted needs Lua 5.3+, so this is a
-- small harness that prints busted's summary line for .ci/run to count.
-- usage: luajit spec/luajit/ffi_test.lua [core]
local sx = require "sx.ffi"

local passed, failed = 0, 0
local function test(name, fn)
  local ok, err = pcall(fn)
  if ok then passed = passed + 1
  else failed = failed + 1; io.stderr:write("FAIL ", name, ": ", tostring(err), "\n") end
end

local function eq(want, got, what)
  if want ~= got then
    error(("%s: expected %s, got %s"):format(what or "value", tostring(want), tostring(got)), 2)
  end
end

local function run(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("*a")
  p:close()
  return out
end

test("deny list decides by emulation", function()
  local f = assert(sx.deny_list({ "execve", "ptrace" }, { arch = "x86_64" }))
  eq("errno(EPERM)", (f:eval("execve")))
  eq("allow", (f:eval("read")))
  eq("kill_process", (f:eval("read", nil, "i386")))
end)

test("64-bit argument values cross exactly as strings", function()
  local f = assert(sx.from_rules({ { action = "errno(EACCES)", syscall = "socket",
    args = { { index = 0, op = "eq", value = "0xffffffffffffffff" } } } }, "allow", { arch = "x86_64" }))
  eq("errno(EACCES)", (f:eval("socket", { "0xffffffffffffffff" })))
  eq("errno(EACCES)", (f:eval("socket", { "-1" })))
  eq("allow", (f:eval("socket", { "0xfffffffffffffffe" })))
  eq(nil, (sx.u64(2 ^ 60 + 1)), "inexact number refused")
  eq(nil, (sx.u64("18446744073709551616")), "overflow refused")
end)

test("errors name the problem and the line", function()
  local f, err = sx.allow_list({ "read", "opne" })
  eq(nil, f)
  eq("unknown_syscall", err.code)
  assert(tostring(err):find("did you mean 'open'", 1, true), tostring(err))
  assert(tostring(err):find("ffi_test.lua:%d+:"), tostring(err))
  f, err = sx.allow_list({ "read" }, { default = "errno(EPREM)" })
  eq("bad_action", err.code)
  f, err = sx.from_rules({ { "allow", "read" }, { "allow", "read" } }, "kill_process")
  eq("duplicate_rule", err.code)
end)

test("a list with a hole or a stray key is an error, never a shorter filter", function()
  local f, err = sx.deny_list({ "ptrace", nil, "kexec_load" })
  eq(nil, f)
  eq("bad_rule", err.code)
  assert(tostring(err):find("hole"), tostring(err))
  f, err = sx.allow_list({ "read", extra = "write" })
  eq("bad_rule", err.code)
  f, err = sx.from_rules({ { "allow", "read" }, nil, { "allow", "write" } }, "kill_process")
  eq("bad_rule", err.code)
  f, err = sx.from_rules({ { action = "allow", syscall = "socket",
    args = { { index = 0, op = "eq", value = 1 }, nil, { index = 1, op = "eq", value = 1 } } } }, "kill_process")
  eq("bad_rule", err.code)
  f, err = sx.deny_list({ "ptrace" }, { arches = { "x86_64", nil, "i386" } })
  eq("unsupported_arch", err.code)
end)

test("a list of syscalls in a rule is a rule each, as in sx.seccomp", function()
  local args = { { index = 0, op = "eq", value = 3 } }
  local f = assert(sx.from_rules({ { "allow", { "read", "write" } },
    { action = "errno(EACCES)", syscall = { "openat", 2 }, args = args } }, "kill_process", { arch = "x86_64" }))
  local g = assert(sx.from_rules({ { "allow", "read" }, { "allow", "write" },
    { action = "errno(EACCES)", syscall = "openat", args = args },
    { action = "errno(EACCES)", syscall = 2, args = args } }, "kill_process", { arch = "x86_64" }))
  eq(g.bpf, f.bpf, "the program")
  eq("errno(EACCES)", (f:eval("open", { 3 })))
  local h, err = sx.from_rules({ { "allow", "getpid" }, { "allow", { "read", "raed" } } }, "kill_process")
  eq("unknown_syscall", err.code)
  eq(2, err.rule)
  eq("raed", err.syscall)
  h, err = sx.from_rules({ { "allow", {} } }, "kill_process")
  eq("bad_rule", err.code)
  assert(tostring(err):find("rule 1: its list of syscalls is empty", 1, true), tostring(err))
  h, err = sx.from_rules({ { "allow", { "read", nil, "write" } } }, "kill_process")
  eq("bad_rule", err.code)
  h, err = sx.from_rules({ 7 }, "kill_process")
  eq("bad_rule", err.code)
  assert(tostring(err):find("rule 1 is a number", 1, true), tostring(err))
end)

test("install puts the filter on the calling process", function()
  local script = [[
    local sx = require "sx.ffi"
    assert(sx.install(assert(sx.deny_list({ "openat", "open" }, { deny_action = "errno(EACCES)" }))))
    local f, msg, code = io.open("/proc/self/status")
    io.write(tostring(f), " ", tostring(code))
  ]]
  eq("nil 13", run(("luajit -e %q"):format(script)))
end)

if arg[1] == "core" then
  -- (rule tables are read by sx.ffi here: sx.core's reader needs Lua 5.3's integers)
  test("sx.core built for LuaJIT emulates with string values", function()
    local core = require "sx.core"
    local f = assert(sx.from_rules({ { action = "errno(1)", syscall = "mmap",
      args = { { index = 1, op = "eq", value = "0xffffffffffffffff" } } } },
      "allow", { arch = "x86_64" }))
    local bpf = f.bpf
    eq(0x50001, (core.emulate(bpf, core.audit("x86_64"), 9, 0, "0xffffffffffffffff")))
    eq(0x7fff0000, (core.emulate(bpf, core.audit("x86_64"), 9, 0, "0xfffffffffffffffe")))
    local ok = pcall(core.emulate, bpf, core.audit("x86_64"), 9, 0, 2 ^ 60 + 1)
    eq(false, ok, "inexact number refused")
  end)
end

print(("%d successes / %d failures / 0 errors / 0 pending"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)

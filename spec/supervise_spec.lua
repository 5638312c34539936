-- The supervisor (sx.supervise): Lua handlers for notify rules, denial reports, complain
-- mode and the broker, on real workloads and the real kernel. Tagged lua54 where it runs
-- the built sxlua, which embeds Lua 5.4.
local process = require "sx.process"
local seccomp = require "sx.seccomp"
local supervise = require "sx.supervise"
local proc = require "support.proc"

local q = proc.shell_quote
local SIGSYS = process.signals.SYS

local function nr(name) return tostring(assert(seccomp.syscall_number(name))) end
local SXTRY = q(proc.bin("sxtry"))

local files = {}
local function policy(text)
  local path = proc.tmpname() .. ".lua"
  proc.write(path, text)
  files[#files + 1] = path
  return path
end

local function sxlua(args)
  return proc.run("cd / && " .. proc.SXLUA .. " " .. args)
end

-- Run argv under filter f with handlers `on`; the wait's results, and the events with
-- each one's line (sx.supervise.format, made while the caller is still there).
local function run(argv, f, on, mode)
  local p = assert(process.spawn{ argv = argv, on = on, supervise = mode })
  assert(p:install(f))
  assert(p:proceed())
  local events = {}
  local how, value = p:wait{ report = function(ev)
    ev.line = supervise.format(ev)
    events[#events + 1] = ev
  end }
  return how, value, events
end

local function status(...) return { (select(1, ...)), (select(2, ...)) } end

describe("the supervisor", function()
  teardown(function() for _, f in ipairs(files) do os.remove(f) end end)

  -- A workload that makes every syscall number there is grew sxlua's list of denials
  -- without bound (2.2 kB each, 441 MB for 200,000 numbers: review).
  it("lists at most MAX_LISTED different denials, and counts the rest", function()
    local lines, max = {}, supervise.MAX_LISTED
    local report, summary = supervise.reporter("denials", function(l) lines[#lines + 1] = l end)
    local host = seccomp.arch()
    for n = 1, max + 10 do
      report({ kind = "errno", outcome = "denied", arch = host, syscall = tostring(1000 + n),
               filter = 1, action = "errno(1)", pid = 2,
               describe = function() return "w", tostring(1000 + n) .. "()" end })
    end
    assert.equal(max + 1, #lines)
    assert.matches("the rest are counted, not listed", lines[max + 1])
    summary()
    assert.equal("      10  calls of other kinds, not listed", lines[#lines])
  end)

  describe("handlers for notify rules (sx.process)", function()
    local f = assert(seccomp.from_rules({ { "notify", "getppid" }, { "notify", "uname" } }, "allow"))

    it("change a call's result: a value, or an errno", function()
      local out = proc.tmpname()
      local how, code = run({ "sh", "-c", "echo $PPID > " .. out }, f,
                            { getppid = function(call) return call:ret(4242) end })
      assert.same({ "exited", 0 }, { how, code })
      assert.equal("4242\n", proc.read(out))
      os.remove(out)
      assert.same({ "exited", 13 }, status(run({ proc.bin("sxtry"), nr("uname"), "0" }, f,
                                       { uname = function(call) return call:fail("EACCES") end })))
    end)

    it("read the caller's arguments, then decide", function()
      local g = assert(seccomp.from_rules({ { "notify", "openat" } }, "allow"))
      local seen = {}
      local on = { openat = function(call)
        local path = assert(call:string(1))
        seen[#seen + 1] = path
        if path:find("^/etc/hostname") then return call:fail("EPERM") end
        return call:continue()
      end }
      local how, code = run({ "/bin/cat", "/etc/hostname" }, g, on)
      assert.same({ "exited", 1 }, { how, code })
      local found = false
      for _, path in ipairs(seen) do found = found or path == "/etc/hostname" end
      assert.is_true(found)
    end)

    -- The listener of a notify rule is handed over through the gate's door for its
    -- sendmsg (the policy kills sendmsg). A filter near the limit has no room for that
    -- door: proceed says so, rather than hand the listener over without it.
    it("refuse a filter with no room for the door their listener goes through", function()
      local function near(n)
        local rules = {}
        for i = 1, n do rules[i] = { "allow", "getpid", "arg0 == " .. i } end
        for _, name in ipairs { "execve", "arch_prctl", "set_tid_address", "newfstatat",
                                "set_robust_list", "prlimit64", "rseq", "exit_group", "getrandom",
                                "rt_sigprocmask", "futex", "read", "write", "openat", "close", "mmap",
                                "mprotect", "munmap", "brk", "pread64", "access" } do
          rules[#rules + 1] = { "allow", name }
        end
        rules[#rules + 1] = { "notify", "uname" }
        return assert(seccomp.from_rules(rules, "kill_process"))
      end
      local on = { uname = function(call) return call:ret(0) end }
      assert.same({ "exited", 0 }, status(run({ proc.bin("sxtry"), nr("uname"), "0" }, near(4000), on)))
      local g = near(4030)
      assert.is_true(#g.bpf // 8 + 30 > 4096, "the door does not fit")
      local p = assert(process.spawn{ argv = { proc.bin("sxtry"), nr("uname"), "0" }, on = on })
      assert(p:install(g))
      local ok, err = p:proceed()
      assert.is_nil(ok)
      assert.matches("too long for the gate in front of it", tostring(err))
      p:wait()
    end)

    it("fail closed: EPERM when a handler raises or answers nothing, ENOSYS without one", function()
      local how, code, events = run({ proc.bin("sxtry"), nr("uname"), "0" }, f,
                                    { uname = function() error("broken handler") end })
      assert.same({ "exited", 1 }, { how, code })
      assert.equal("failed", events[1].outcome)
      assert.matches("broken handler", events[1].message)
      assert.same({ "exited", 1 }, status(run({ proc.bin("sxtry"), nr("uname"), "0" }, f,
                                              { uname = function() end })))
      how, code, events = run({ proc.bin("sxtry"), nr("uname"), "0" }, f, {})
      assert.same({ "exited", 38 }, { how, code })
      assert.equal("no handler", events[1].message)
      assert.matches("^sxtry %(pid %d+%) refused: uname%(NULL%): notify, rule at .*supervise_spec%.lua:%d+ %[no handler%]$",
                     events[1].line)
    end)
  end)

  describe("kills, reported (mode kills)", function()
    it("kill the caller's process and name the call; the workload's own shows SIGSYS", function()
      local f = assert(seccomp.deny_list({ "socket" }, { deny_action = "kill_process" }))
      local how, value, events = run({ proc.bin("sxtry"), nr("socket"), "1", "1", "0" }, f, nil, "kills")
      assert.same({ "signaled", SIGSYS }, { how, value })
      assert.equal("killed", events[1].outcome)
      assert.matches("^sxtry %(pid %d+%) killed: socket%(AF_UNIX, SOCK_STREAM, 0%): kill_process, rule at ",
                     events[1].line)
    end)
  end)

  -- Raw BPF may return an action made at run time (RET A). Such answers are
  -- notified as constant ones are (gate.h): an action in A, and constant ones beside them.
  local function insn(code, jt, jf, k) return string.pack("<I2I1I1I4", code, jt, jf, k) end
  local LD_ABS, LD_IMM, JEQ, RET_K, RET_A_ = 0x20, 0x00, 0x15, 0x06, 0x16
  local RET_A = assert(seccomp.load(table.concat{
    insn(LD_ABS, 0, 0, 0),
    insn(JEQ, 7, 0, nr("getppid")), insn(JEQ, 8, 0, nr("sched_yield")),
    insn(JEQ, 9, 0, nr("getuid")), insn(JEQ, 10, 0, nr("getpid")),
    insn(JEQ, 11, 0, nr("ptrace")), insn(JEQ, 11, 0, nr("sync")),
    insn(LD_IMM, 0, 0, 0x7fff0000), insn(RET_A_, 0, 0, 0),         -- allow
    insn(LD_IMM, 0, 0, 0x80000000), insn(RET_A_, 0, 0, 0),         -- getppid: kill_process
    insn(LD_IMM, 0, 0, 0), insn(RET_A_, 0, 0, 0),                  -- sched_yield: kill_thread
    insn(LD_IMM, 0, 0, 0x0005000d), insn(RET_A_, 0, 0, 0),         -- getuid: errno(EACCES)
    insn(LD_IMM, 0, 0, 0x7ffc0000), insn(RET_A_, 0, 0, 0),         -- getpid: log
    insn(RET_K, 0, 0, 0x00050002),                                 -- ptrace: errno(ENOENT)
    insn(RET_K, 0, 0, 0x80000000) }))                              -- sync: kill_process

  describe("actions returned in A (raw BPF)", function()
    it("are reported: a kill in mode kills, an errno in mode denials", function()
      local how, value, events = run({ proc.bin("sxtry"), nr("getppid") }, RET_A, nil, "kills")
      assert.same({ "signaled", SIGSYS }, { how, value })
      assert.equal("killed", events[1] and events[1].outcome)
      assert.matches("^sxtry %(pid %d+%) killed: getppid%(%): kill_process", events[1].line)
      how, value, events = run({ proc.bin("sxtry"), nr("getuid") }, RET_A, nil, "denials")
      assert.same({ "exited", 13 }, { how, value })
      assert.equal("denied", events[1] and events[1].outcome)
      assert.matches("^sxtry %(pid %d+%) denied: getuid%(%): errno%(EACCES%)", events[1].line)
    end)

    it("are let through and listed in complain mode", function()
      for _, case in ipairs{ { "getppid", "kill_process" }, { "sched_yield", "kill_thread" },
                             { "getuid", "errno%(EACCES%)" }, { "ptrace", "errno%(ENOENT%)" } } do
        local how, value, events = run({ proc.bin("sxtry"), nr(case[1]) }, RET_A, nil, "complain")
        assert.equal("exited", how, case[1])
        assert.is_true(value ~= 13 and value ~= 2, case[1] .. " returned its errno")
        assert.matches("would be stopped: " .. case[1] .. "%(.-%): " .. case[2],
                       events[1] and events[1].line or "", nil, nil, case[1])
      end
    end)
  end)

  describe("decides every call as the policy does (never wider), in each mode", function()
    -- harmless with zero arguments: what each returns when allowed is the kernel's own
    local CALLS = { "getppid", "getpid", "getuid", "sched_yield", "ptrace", "uname", "sync",
                    "getpgrp", "setsid", "getcwd" }
    local function outcome(name, f, mode)
      local p = assert(process.spawn{ argv = { proc.bin("sxtry"), nr(name) }, supervise = mode })
      assert(p:install(f))
      assert(p:proceed())
      return { p:wait() }
    end
    local function expected(f, name, plain)
      local act = tostring(f:eval(name))
      if act == "kill_process" or act == "kill_thread" then return { "signaled", SIGSYS } end
      local e = act:match("^errno%((%w+)%)$")
      if e then return { "exited", require("sx.core").errno_number(e) } end
      return plain[name]
    end
    local allow_all = assert(seccomp.from_rules({}, "allow"))
    local plain = {}
    for _, name in ipairs(CALLS) do plain[name] = outcome(name, allow_all, false) end
    local policies = {
      assert(seccomp.allow_list({ "read", "write", "openat", "close", "fstat", "newfstatat", "brk",
        "mmap", "munmap", "mprotect", "pread64", "access", "arch_prctl", "set_tid_address",
        "set_robust_list", "rseq", "prlimit64", "getrandom", "exit_group", "getpid", "uname" })),
      assert(seccomp.deny_list({ "getppid", "ptrace", "sync" }, { deny_action = "kill_process" })),
      assert(seccomp.deny_list({ "getuid", "getcwd", "setsid" }, { deny_action = seccomp.errno("EACCES") })),
      assert(seccomp.builder():deny("getpgrp", seccomp.errno("ENOENT")):deny("sched_yield", "kill_process")
        :rule("log", "getpid"):build{ default = "allow" }),
      RET_A,
    }
    for _, mode in ipairs{ false, "kills", "denials" } do
      it("mode " .. tostring(mode), function()
        for i, f in ipairs(policies) do
          for _, name in ipairs(CALLS) do
            assert.same(expected(f, name, plain), outcome(name, f, mode or nil),
                        ("policy %d, %s, mode %s"):format(i, name, tostring(mode)))
          end
        end
      end)
    end
  end)

  describe("sxlua #lua54", function()
    -- (io_uring_setup too: else sxlua warns, rightly, that io_uring makes sockets)
    local DENY_SOCKET = [[
local seccomp = require "sx.seccomp"
local f = seccomp.deny_list({ "socket", "io_uring_setup" }, { deny_action = "kill_process" })
return f
]]
    local DENY_MKDIR = [[
local seccomp = require "sx.seccomp"
return seccomp.deny_list({ "mkdir", "mkdirat" }, { deny_action = seccomp.errno "EACCES" })
]]

    it("reports a kill in a grandchild with the syscall and the policy line", function()
      local pol = policy(DENY_SOCKET)
      local code, _, err = sxlua(q(pol) .. " -- sh -c " ..
                                 q("sh -c '" .. proc.bin("sxtry") .. " " .. nr("socket") ..
                                   " 1 2 0'; echo after $?"))
      assert.equal(0, code)
      assert.matches("sxlua: sxtry %(pid %d+%) killed: socket%(AF_UNIX, SOCK_DGRAM, 0%): " ..
                     "kill_process, rule at " .. pol:gsub("%p", "%%%0") .. ":2\n", err)
    end)

    it("exits 159 with one line when the workload itself is killed", function()
      local pol = policy(DENY_SOCKET)
      local code, _, err = sxlua(q(pol) .. " -- " .. SXTRY .. " " .. nr("socket") .. " 2 1 0")
      assert.equal(159, code)
      local lines = select(2, err:gsub("\n", ""))
      assert.equal(1, lines, err)
      assert.matches("^sxlua: sxtry %(pid %d+%) killed: socket%(AF_INET, SOCK_STREAM, 0%)", err)
    end)

    -- A filter may decide on the instruction pointer: here socket(2) from a shared
    -- library (libc's wrappers, mapped near the top of the 47-bit space: 0x7e... to
    -- 0x7f...) kills, from the program's own text (a PIE, at 0x55... or 0x56...) it is
    -- allowed. The supervisor must decide with the ip the kernel saw, or it would let
    -- through a call the kernel handed it to kill. (The split was at 0x7f00...: one run in
    -- fifty put libc below it, and the kernel allowed the call.)
    it("decides with the instruction pointer the kernel saw", function()
      local pol = policy([[
local seccomp = require "sx.seccomp"
local function insn(code, jt, jf, k) return string.pack("<I2I1I1I4", code, jt, jf, k) end
local LD_ABS, JEQ, JGE, RET = 0x20, 0x15, 0x35, 0x06
return seccomp.load(insn(LD_ABS, 0, 0, 4) .. insn(JEQ, 0, 5, 0xc000003e) ..
  insn(LD_ABS, 0, 0, 0) .. insn(JEQ, 0, 2, 41) ..
  insn(LD_ABS, 0, 0, 12) .. insn(JGE, 1, 0, 0x6000) ..
  insn(RET, 0, 0, 0x7fff0000) .. insn(RET, 0, 0, 0x80000000))
]])
      local code, out, err = sxlua(q(pol) .. " -- " .. SXTRY .. " " .. nr("socket") .. " 1 1 0")
      assert.equal(159, code, out .. err)
      -- the emulation agrees with the kernel (the filter's kill), rather than failing
      -- closed on a call it would have allowed
      assert.matches("killed: socket%(AF_UNIX, SOCK_STREAM, 0%): kill_process, the default\n", err)
      assert.is_nil(err:find("failed closed"), err)
    end)

    -- The kernel gives a process one listener: under an outer sxlua (which holds the one
    -- for the workload's tree) the inner one installs its plain filter, says so, and its
    -- kills stay with the kernel.
    it("runs unsupervised, and says so, under an outer sxlua", function()
      local outer = policy([[return require("sx.seccomp").builder():deny("ptrace", "kill_process"):build{ default = "allow" }]])
      local inner = policy(DENY_SOCKET)
      local code, _, err = sxlua(q(outer) .. " -- " .. proc.SXLUA .. " " .. q(inner) .. " -- " ..
                                 SXTRY .. " " .. nr("socket") .. " 1 1 0")
      assert.equal(159, code, err)
      assert.matches("listener already %(sxlua in sxlua%?%).*kills stay with the kernel", err)
      assert.matches("killed by the seccomp filter %(SIGSYS%)", err)
      assert.is_nil(err:find("killed: socket"), err)       -- no supervisor saw it
    end)

    -- Complain mode lets denied calls through and learn records every call: with the
    -- plain filter instead, complain would stop what it promised to list, and learn would
    -- write a policy of nothing. Neither runs without a listener of its own.
    it("complain and learn refuse to run without a listener (an outer sxlua holds it)", function()
      local outer = policy([[return require("sx.seccomp").builder():deny("ptrace", "kill_process"):build{ default = "allow" }]])
      local inner = policy(DENY_MKDIR)
      local dir = proc.tmpname()
      local code, _, err = sxlua(q(outer) .. " -- " .. proc.SXLUA .. " --complain " .. q(inner) ..
                                 " -- mkdir " .. q(dir))
      assert.equal(125, code, err)
      assert.matches("cannot install filter 1: the kernel refused filter 1 a listener: the process " ..
                     "runs under a filter with one already", err)
      assert.is_nil(io.open(dir), "nothing ran")
      local out = proc.tmpname()
      code, _, err = sxlua(q(outer) .. " -- " .. proc.SXLUA .. " learn -o " .. q(out) .. " -- true")
      assert.equal(125, code, err)
      assert.matches("learn: the kernel refused filter 1 a listener", err)
      assert.is_nil(io.open(out), "no policy written")
    end)

    -- A policy near the kernel's 4096 instructions (4061) fits with the gate's door for
    -- the listener's handover, but not with its kills' tails behind too: reports give way
    -- (the kernel kills, and sxlua says so), while notify rules' handlers, which need no
    -- tail, still answer. Complain mode cannot do without its notifications, and refuses
    -- a filter they take over the limit.
    it("installs a policy too long to supervise plain, and says so; complain refuses it", function()
      local text = [[
local seccomp = require "sx.seccomp"
local rules = {}
for i = 1, 4000 do rules[i] = { "allow", "getpid", "arg0 == " .. i } end
for _, name in ipairs { "execve", "arch_prctl", "set_tid_address", "newfstatat", "set_robust_list",
                        "prlimit64", "rseq", "exit_group", "getrandom", "rt_sigprocmask", "futex",
                        "read", "write", "openat", "close", "mmap", "mprotect", "munmap", "brk",
                        "pread64", "access", HANDLED } do
  rules[#rules + 1] = { name == HANDLED and "notify" or "allow", name }
end
local f = assert(seccomp.from_rules(rules, "kill_process"))
return HANDLED and { filter = f, on = { [HANDLED] = function(call) return call:ret(0) end } } or f
]]
      local len = #assert(load("local HANDLED\n" .. text))().bpf // 8
      assert.is_true(len > 4096 - 40 and len <= 4096 - 30, "the policy is " .. len .. " instructions")
      local code, _, err = sxlua(q(policy("local HANDLED\n" .. text)) .. " -- " .. SXTRY .. " " ..
                                 nr("socket") .. " 1 1 0")
      assert.equal(159, code, err)
      assert.matches("a filter is too long to supervise: .*: kills stay with the kernel, unreported", err)
      assert.matches("killed by the seccomp filter %(SIGSYS%)", err)
      code, _, err = sxlua(q(policy("local HANDLED = 'uname'\n" .. text)) .. " -- " .. SXTRY .. " " ..
                           nr("uname") .. " 0")
      assert.equal(0, code, err)                          -- the handler's 0, not uname's EFAULT
      assert.matches("a filter is too long to supervise", err)
      -- 4081 instructions: not even the gate's door fits; --no-supervise needs none
      local longer = policy("local HANDLED\n" .. text:gsub("for i = 1, 4000 do", "for i = 1, 4020 do"))
      code, _, err = sxlua("--no-supervise " .. q(longer) .. " -- " .. SXTRY .. " " .. nr("socket") .. " 1 1 0")
      assert.equal(159, code, err)
      assert.is_nil(err:find("too long"), err)
      code, _, err = sxlua(q(longer) .. " -- " .. SXTRY .. " " .. nr("socket") .. " 1 1 0")
      assert.equal(159, code, err)
      assert.matches("a filter is too long to supervise", err)
      -- a policy that kills nothing notifies nothing, so needs no door for a handover:
      -- 4051 instructions with the gate's execve test (it allows no execve) run as they
      -- are, with nothing to say; at 4078 the execve test alone does not fit, and the
      -- refusal says so
      local quiet = [[
local seccomp = require "sx.seccomp"
local rules = {}
for i = 1, N do rules[i] = { "allow", "getpid", "arg0 == " .. i } end
for _, name in ipairs { "arch_prctl", "set_tid_address", "newfstatat", "set_robust_list",
                        "prlimit64", "rseq", "exit_group", "getrandom", "rt_sigprocmask", "futex",
                        "read", "write", "openat", "close", "mmap", "mprotect", "munmap", "brk",
                        "pread64", "access", "fstat" } do
  rules[#rules + 1] = { "allow", name }
end
return assert(seccomp.from_rules(rules, seccomp.errno("EPERM"), { bad_arch = seccomp.errno("EPERM") }))
]]
      code, _, err = sxlua(q(policy("local N = 3990\n" .. quiet)) .. " -- " .. SXTRY .. " " ..
                           nr("socket") .. " 1 1 0")
      assert.equal(1, code, err)                          -- EPERM
      assert.equal("", err)
      code, _, err = sxlua("--no-supervise " .. q(policy("local N = 4017\n" .. quiet)) .. " -- " ..
                           SXTRY .. " " .. nr("socket") .. " 1 1 0")
      assert.equal(125, code, err)
      assert.matches("too long for the gate in front of it, which lets the agent's own execve", err)
      -- raw BPF of 4090 instructions that kills socket through A (and allows execve and
      -- sendmsg: no gate): with the tail that notifies what A holds, over 4096
      local nops = string.rep(insn(JEQ, 0, 0, 0xffff), 4083)
      local raw = policy(([[
local function insn(code, jt, jf, k) return string.pack("<I2I1I1I4", code, jt, jf, k) end
return require("sx.seccomp").load(insn(0x20, 0, 0, 0) .. string.rep(insn(0x15, 0, 0, 0xffff), 4083) ..
  insn(0x15, 0, 2, %d) .. insn(0x00, 0, 0, 0x80000000) .. insn(0x16, 0, 0, 0) ..
  insn(0x00, 0, 0, 0x7fff0000) .. insn(0x16, 0, 0, 0))
]]):format(nr("socket")))
      assert.equal(4090, (#nops + 7 * 8) // 8)
      code, _, err = sxlua("--complain " .. q(raw) .. " -- " .. SXTRY .. " " .. nr("socket") .. " 1 1 0")
      assert.equal(125, code, err)
      assert.matches("the filter is too long to supervise", err)
      code, _, err = sxlua(q(raw) .. " -- " .. SXTRY .. " " .. nr("socket") .. " 1 1 0")
      assert.equal(159, code, err)
      assert.matches("a filter is too long to supervise", err)
    end)

    -- A kernel before 5.19 has no SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (spec-bin/before_5_19
    -- makes seccomp(2) answer as those do): supervision falls back to the plain filter,
    -- where the kernel kills, and says so; complain, learn and handlers refuse.
    describe("on a kernel before 5.19", function()
      local old = q(proc.bin("before_5_19")) .. " "
      local function old_sxlua(args) return proc.run("cd / && " .. old .. proc.SXLUA .. " " .. args) end
      if proc.run(old .. "true") == 77 then return pending("before_5_19: not made for this architecture") end

      it("leaves the kills to the kernel, and says so", function()
        local code, _, err = old_sxlua(q(policy(DENY_SOCKET)) .. " -- " .. SXTRY .. " " .. nr("socket") .. " 1 1 0")
        assert.equal(159, code, err)
        assert.matches("no SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV %(Linux 5%.19%).*kills stay with " ..
                       "the kernel, unreported", err)
        assert.matches("killed by the seccomp filter %(SIGSYS%)", err)
        -- --report's errno denials: decided by the kernel too, the same way
        code, _, err = old_sxlua("--report " .. q(policy(DENY_MKDIR)) .. " -- mkdir /proc/sx-spec")
        assert.equal(1, code, err)
        assert.matches("mkdir: cannot create directory '?‘?/proc/sx%-spec'?’?: Permission denied", err)
        assert.matches("denials stay with the kernel, unreported", err)
      end)

      it("refuses complain mode, learn and handlers", function()
        local dir = proc.tmpname()
        local code, _, err = old_sxlua("--complain " .. q(policy(DENY_MKDIR)) .. " -- mkdir " .. q(dir))
        assert.equal(125, code, err)
        assert.matches("a listener whose calls a signal cannot withdraw %(Linux 5%.19 and later%), " ..
                       "which this plan needs", err)
        assert.is_nil(io.open(dir), "nothing ran")
        code, _, err = old_sxlua("learn -- true")
        assert.equal(125, code, err)
        assert.matches("learn: the kernel refused filter 1 a listener whose calls", err)
        code, _, err = old_sxlua(q(policy([[
local seccomp = require "sx.seccomp"
return { filter = seccomp.builder():rule("notify", "getppid"):build{ default = "allow" },
         on = { getppid = function(call) return call:ret(1) end } }
]])) .. " -- true")
        assert.equal(125, code, err)
        assert.matches("which this plan needs", err)
      end)
    end)

    it("warns when handlers decide calls a policy also lets through io_uring", function()
      local pol = policy([[
local seccomp = require "sx.seccomp"
return { filter = seccomp.builder():allow{ "@system-service" }:rule("notify", "connect"):build(),
         on = { connect = function(call) return call:fail("EACCES") end } }
]])
      local code, _, err = sxlua(q(pol) .. " -- true")
      assert.equal(0, code)
      assert.matches(":2: warning: on [%w_]+ the policy answers connect with notify, but " ..
                     "io_uring_setup gets allow: io_uring makes that call as an operation of " ..
                     "its own, which no filter sees", err)
      -- a handler for what io_uring cannot do: nothing to say
      pol = policy([[
local seccomp = require "sx.seccomp"
return { filter = seccomp.builder():allow{ "@system-service" }:rule("notify", "getppid"):build(),
         on = { getppid = function(call) return call:ret(1) end } }
]])
      code, _, err = sxlua(q(pol) .. " -- true")
      assert.equal(0, code)
      assert.equal("", err)
    end)

    it("--report lists each denial once and counts them at the end", function()
      local pol = policy([[
local seccomp = require "sx.seccomp"
local f = seccomp.deny_list({ "getppid" }, { deny_action = seccomp.errno("EPERM") })
return f
]])
      local code, _, err = sxlua("--report " .. q(pol) .. " -- sh -c " ..
                                 q("for i in 1 2 3; do " .. proc.bin("sxtry") .. " " ..
                                   nr("getppid") .. "; done"))
      assert.equal(1, code)                                  -- the last sxtry: EPERM
      assert.matches("sh %(pid %d+%) denied: getppid%(%): errno%(EPERM%), rule at " ..
                     pol:gsub("%p", "%%%0") .. ":2\n", err)
      local _, lines = err:gsub("denied: getppid", "")
      assert.equal(1, lines, err)                             -- the first only
      assert.matches("denials:\nsxlua: +%d+  getppid +errno%(EPERM%) +" .. pol:gsub("%p", "%%%0"), err)
      local count = tonumber(err:match("\nsxlua: +(%d+)  getppid"))
      assert.is_true(count >= 3, err)                         -- sh asks too
    end)

    -- A call from an ABI the filter was not built for gets its bad-arch action: the report
    -- said "the default" (and named the call without its ABI) where explain says so (review).
    it("names the ABI and the bad-arch action of a call from another ABI", function()
      local pol = policy([[
local seccomp = require "sx.seccomp"
return seccomp.builder():allow{ "@system-service" }
  :build{ default = seccomp.errno("EPERM") }                  -- bad_arch: kill_process
]])
      local code, _, err = sxlua(q(pol) .. " -- " .. SXTRY .. " 0x40000027")   -- x32 getpid
      assert.equal(159, code, err)
      assert.matches("sxtry %(pid %d+%) killed: x32 getpid%(%): kill_process, the bad%-arch action %(" ..
                     pol:gsub("%p", "%%%0") .. ":3%)", err)
    end)

    -- The kernel answers SECCOMP_RET_ERRNO with at most MAX_ERRNO (4095); so does the
    -- supervisor, for a raw program's errno past it, under --report.
    it("caps an errno past 4095 as the kernel does", function()
      local pol = policy([[
local seccomp = require "sx.seccomp"
local f = assert(seccomp.from_rules({ { seccomp.errno(7), "getppid" } }, "allow"))
local bpf, n = f.bpf:gsub("\7\0\5\0", "\x88\x13\5\0")     -- errno(7) -> errno 5000
assert(n == 1)
return assert(seccomp.load(bpf))
]])
      for _, mode in ipairs{ "--report ", "--no-supervise " } do
        local code, _, err = sxlua(mode .. q(pol) .. " -- " .. SXTRY .. " " .. nr("getppid"))
        assert.equal(4095 & 0xff, code, mode .. err)
      end
    end)

    it("--complain runs a program the policy would kill, and lists what it would stop", function()
      local pol = policy(DENY_SOCKET)
      local code, _, err = sxlua("--complain " .. q(pol) .. " -- " .. SXTRY .. " " .. nr("socket") ..
                                 " 1 1 0")
      assert.equal(0, code)                                   -- the socket was made
      assert.matches("complain mode", err)
      assert.matches("sxtry %(pid %d+%) would be stopped: socket%(AF_UNIX, SOCK_STREAM, 0%): kill_process", err)
      assert.matches("what the policy would have stopped:\nsxlua: +1  socket +kill_process", err)
    end)

    it("--no-supervise leaves the kill to the kernel, with no report", function()
      local pol = policy(DENY_SOCKET)
      local code, _, err = sxlua("--no-supervise " .. q(pol) .. " -- " .. SXTRY .. " " ..
                                 nr("socket") .. " 1 1 0")
      assert.equal(159, code)
      assert.matches("killed by the seccomp filter %(SIGSYS%)", err)
    end)

    it("handlers in a declarative policy: `on`", function()
      local pol = policy([[
local seccomp = require "sx.seccomp"
local f = seccomp.from_rules({ { "notify", "getppid" } }, "allow")
return { filter = f, on = { getppid = function(call) return call:ret(7) end } }
]])
      local code, out = sxlua(q(pol) .. " -- sh -c 'echo $PPID'")
      assert.equal(0, code)
      assert.equal("7\n", out)
    end)

    for _, flag in ipairs{ "", "--no-pid-namespace " } do
      it("when sxlua is killed, notified calls never succeed (" .. (flag == "" and "namespace" or flag) .. ")", function()
        local dir = proc.tmpname()
        os.execute("mkdir " .. q(dir))
        local pol = policy([[
local seccomp = require "sx.seccomp"
local f = seccomp.from_rules({ { "notify", "uname" } }, "allow")
return { filter = f, on = { uname = function(call) return call:ret(0) end } }
]])
        -- a grandchild (no parent-death signal) waits for sxlua's end, then calls uname
        proc.write(dir .. "/inner.sh", ("while [ ! -e %s/go ]; do sleep 0.05; done\n" ..
          "uname > %s/out 2>&1; echo $? > %s/rc\n"):format(dir, dir, dir))
        proc.write(dir .. "/outer.sh", ("sh %s/inner.sh &\nwait\n"):format(dir))
        proc.write(dir .. "/run.sh", ("echo $$ > %s/pid\nexec %s %s%s -- sh %s/outer.sh\n")
                   :format(dir, proc.SXLUA, flag, q(pol), dir))
        os.execute(("sh %s/run.sh >/dev/null 2>&1 &"):format(q(dir)))
        local pid = assert(proc.eventually_line(dir .. "/pid"))
        os.execute("sleep 0.3")
        assert(os.execute("kill -KILL " .. pid))
        os.execute("sleep 0.2")
        proc.write(dir .. "/go", "")
        if flag == "" then
          os.execute("sleep 0.5")
          assert.is_nil(proc.read(dir .. "/rc"))            -- the whole tree went with sxlua
        else
          assert.equal("1\n", proc.eventually_line(dir .. "/rc"))
          assert.matches("Function not implemented", proc.read(dir .. "/out"))   -- ENOSYS
        end
        os.execute("rm -rf " .. q(dir))
      end)
    end

    describe("policies/broker.lua", function()
      local BROKER = (os.getenv("SX_SOURCE_DIR") or ".") .. "/policies/broker.lua"
      local dir
      setup(function()
        dir = proc.tmpname()
        os.execute("mkdir -p " .. q(dir .. "/t/sub"))
        proc.write(dir .. "/t/data.txt", "hello\n")
        proc.write(dir .. "/t/sub/x", "inner\n")
        proc.write(dir .. "/outside", "secret\n")
        os.execute(("ln -s /etc/hostname %s/t/escape && ln -s sub/x %s/t/inside && ln -s ../outside %s/t/up")
                   :format(dir, dir, dir))
      end)
      teardown(function() os.execute("rm -rf " .. q(dir)) end)

      local function broker(cmd)
        return sxlua(q(BROKER) .. " " .. q(dir .. "/t") .. " -- sh -c " .. q(cmd))
      end

      it("opens files beneath the tenant's directory and injects them", function()
        local code, out = broker("cat data.txt sub/x inside " .. dir .. "/t/data.txt")
        assert.equal(0, code)
        assert.equal("hello\ninner\ninner\nhello\n", out)
        code, out = broker("echo new > new.txt && cat new.txt")
        assert.equal(0, code)
        assert.equal("new\n", out)
        assert.equal("new\n", proc.read(dir .. "/t/new.txt"))
      end)

      it("refuses paths outside it: absolute, .., symlinks, /proc magic links", function()
        for _, path in ipairs{ "/etc/hostname", "../outside", "escape", "up",
                               "sub/../../outside", "/proc/self/root/etc/hostname" } do
          local code, _, err = broker("cat " .. path)
          assert.equal(1, code, path)
          assert.matches("Permission denied", err, 1, false, path)
        end
        local code = broker("echo x > /usr/lib/sx-broker-test")   -- the system is read-only
        assert.are_not.equal(0, code)
        assert.is_nil(proc.read("/usr/lib/sx-broker-test"))
      end)

      -- The red team's ways around a broker of opens: a hard link to a file outside (then
      -- opened beneath), a rename or unlink outside, a device node, open_tree's descriptor
      -- of any file, io_uring's OPENAT (no syscall, so no rule sees it), userfaultfd.
      it("denies what would reach files by name where it does not look", function()
        local script = dir .. "/t/try.py"
        proc.write(script, [[
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def sys(nr, *a):
    r = libc.syscall(nr, *a)
    return ctypes.get_errno() if r < 0 else "ran"
tries = {
  "link": lambda: os.link("]] .. dir .. [[/outside", "mine"),
  "rename": lambda: os.rename("]] .. dir .. [[/outside", "]] .. dir .. [[/moved"),
  "unlink": lambda: os.unlink("]] .. dir .. [[/outside"),
  "mknod": lambda: os.mknod("node"),
  "symlink": lambda: os.symlink("/etc", "etc"),
  "chmod": lambda: os.chmod("]] .. dir .. [[/outside", 0o777),
}
for name, f in sorted(tries.items()):
    try:
        f(); print(name, "ran")
    except OSError as e:
        print(name, e.errno)
params = ctypes.create_string_buffer(120)
print("io_uring_setup", sys(425, 4, params))
print("open_tree", sys(428, -100, b"/etc/hostname", 0))
print("userfaultfd", sys(323, 0))
import socket
try:
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); print("unix_socket ran")
except OSError as e:
    print("unix_socket", e.errno)
a, b = socket.socketpair(); print("socketpair ok")
]])
        local code, out, err = broker("/usr/bin/python3 try.py")
        assert.equal(0, code, out .. err)
        for _, name in ipairs{ "link", "rename", "unlink", "mknod", "symlink", "chmod",
                               "io_uring_setup", "open_tree", "userfaultfd", "unix_socket" } do
          assert.matches("\n?" .. name .. " 13\n", out, 1, false, name)   -- EACCES
        end
        assert.matches("socketpair ok", out)
        assert.equal("secret\n", proc.read(dir .. "/outside"))
      end)

      -- A system file the broker opened read-only: root changed its mode, owner and file
      -- capability through the descriptor (review). On a scratch file of the spec's own
      -- under /usr/local/lib, which it removes.
      it("leaves the system's files alone through the descriptors it hands out", function()
        local sysdir = "/usr/local/lib/sx-broker-spec-" .. proc.mypid()
        local target = sysdir .. "/prog"
        os.execute(("mkdir -p %s && cp /bin/true %s && chmod 755 %s"):format(q(sysdir), q(target), q(target)))
        local script = dir .. "/t/meta.py"
        proc.write(script, [[
import os, fcntl, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
tries = {
  "fchmod": lambda: os.fchmod(fd, 0o4777),
  "fchown": lambda: os.fchown(fd, 65534, 65534),
  "fsetxattr": lambda: os.setxattr(fd, "trusted.sx", b"x"),
  "fremovexattr": lambda: os.removexattr(fd, "trusted.sx"),
  "setflags": lambda: fcntl.ioctl(fd, 0x40086602, struct.pack("l", 0x10)),   # FS_IOC_SETFLAGS
  "lease": lambda: fcntl.fcntl(fd, 1024, fcntl.F_RDLCK),                   # F_SETLEASE
}
for name, f in sorted(tries.items()):
    try:
        f(); print(name, "ran")
    except OSError as e:
        print(name, e.errno)
print("isatty", os.isatty(0), "fionread", len(fcntl.ioctl(fd, 0x541B, b"1234")))   # FIONREAD
]])
        local code, out, err = broker("/usr/bin/python3 meta.py " .. target)
        local mode = io.popen("stat -c %a:%u " .. q(target)):read("l")
        os.execute("rm -rf " .. q(sysdir))
        assert.equal(0, code, out .. err)
        for _, name in ipairs{ "fchmod", "fchown", "fsetxattr", "fremovexattr", "setflags", "lease" } do
          assert.matches("\n?" .. name .. " 13\n", out, 1, false, name)   -- EACCES
        end
        assert.matches("isatty False fionread 4", out)
        assert.equal("755:0", mode)
      end)

      -- The broker opens for the program: an open that waited (a FIFO without a peer, a
      -- lease the program holds: 45 s an open) held the supervisor up, and kills with it.
      it("opens without waiting: a FIFO without a peer fails at once", function()
        os.execute("mkfifo " .. q(dir .. "/t/fifo"))
        local started = os.time()
        local code, _, err = broker("echo x > fifo; echo rc=$?")
        assert.equal(0, code, err)
        assert.matches("No such device or address", err)          -- ENXIO, no reader
        assert.is_true(os.time() - started < 5)
        local process = require "sx.process"
        local d = assert(process.open_dir(dir .. "/t"))
        local fd = assert(process.open_beneath(d, "fifo", 0))    -- O_RDONLY: at once
        local flags = proc.read("/proc/self/fdinfo/" .. fd):match("flags:%s*(%d+)")
        assert.equal(0, tonumber(flags, 8) & 0x800)               -- O_NONBLOCK cleared after
        require("sx.process_core").close_fd(fd)
        -- O_PATH opens never wait, and openat2 takes no O_NONBLOCK with it (review)
        fd = assert(process.open_beneath(d, "sub", 0x200000))    -- O_PATH
        require("sx.process_core").close_fd(fd)
        require("sx.process_core").close_fd(d)
      end)
    end)
  end)
end)

-- sx.process: real workloads spawned, parked, filtered and run on the real kernel.
local process = require "sx.process"
local seccomp = require "sx.seccomp"
local proc = require "support.proc"

local SIGSYS = process.signals.SYS

-- What a small dynamically linked C program (and /bin/true) really needs; no execve.
local SMALL_PROGRAM = { "read", "write", "openat", "close", "fstat", "newfstatat", "brk",
  "mmap", "munmap", "mprotect", "pread64", "access", "arch_prctl", "set_tid_address",
  "set_robust_list", "rseq", "prlimit64", "getrandom", "getdents64", "rt_sigaction",
  "rt_sigprocmask", "rt_sigreturn", "exit_group" }

local function run(opts, filters)
  local p = assert(process.spawn(opts))
  for _, f in ipairs(filters or {}) do assert(p:install(f)) end
  assert(p:proceed())
  return p:wait()
end

describe("sx.process", function()
  describe("exit status", function()
    it("reports success, failure and death by signal", function()
      assert.same({ "exited", 0 }, { run{ argv = { "/bin/true" } } })
      assert.same({ "exited", 3 }, { run{ argv = { "sh", "-c", "exit 3" } } })
      assert.same({ "signaled", 15 }, { run{ argv = { "sh", "-c", "kill -TERM $$" } } })
    end)

    it("says not_found for a program that is not there", function()
      local p, err = process.spawn{ argv = { "no-such-program-sx" } }
      assert.is_nil(p)
      assert.equal("not_found", err.code)
      p, err = process.spawn{ argv = { "/nonexistent/prog" } }
      assert.equal("not_found", err.code)
    end)

    it("says exec_failed with EACCES for a file that is not executable", function()
      local path = proc.tmpname()
      proc.write(path, "#!/bin/sh\nexit 0\n")
      local p = assert(process.spawn{ argv = { path } })
      local ok, err = p:proceed()
      os.remove(path)
      assert.is_nil(ok)
      assert.equal("exec_failed", err.code)
      assert.equal("EACCES", err.errno_name)
      assert.equal("no_process", select(2, p:install(seccomp.deny_list{ "ptrace" })).code)
    end)

    it("passes env and cwd", function()
      local out = proc.tmpname()
      assert.same({ "exited", 0 }, { run{ argv = { "sh", "-c", 'echo "$SXVAR $(pwd)" > ' .. out },
                                          env = { SXVAR = "hello", "PATH=/usr/bin:/bin" },
                                          cwd = "/tmp" } })
      assert.equal("hello /tmp\n", proc.read(out))
      os.remove(out)
      local p, err = process.spawn{ argv = { "/bin/true" }, cwd = "/nonexistent-dir" }
      assert.is_nil(p)
      assert.equal("cwd_failed", err.code)
      assert.equal("ENOENT", err.errno_name)
    end)

    it("rejects unknown options and bad argv loudly", function()
      assert.error_matches(function() process.spawn{ argv = { "/bin/true" }, stdin = 0 } end,
                           "unknown option 'stdin'")
      assert.error_matches(function() process.spawn{ argv = {} } end, "argv")
      assert.error_matches(function() process.spawn{ argv = { "/bin/true", 5 } } end, "argv%[2%]")
      assert.error_matches(function() process.spawn{ argv = { "/bin/true", "a\0b" } } end,
                           "argv%[2%] holds a NUL byte")
      assert.error_matches(function() process.spawn{ argv = { "/bin/true" }, env = { X = "a\0b" } } end,
                           "env%[1%] holds a NUL byte")
      assert.error_matches(function() process.spawn{ argv = { "/bin/true" }, cwd = "/\0tmp" } end,
                           "cwd holds a NUL byte")
      assert.error_matches(function() process.spawn{ argv = { "/bin/true" }, fds = { 2^32 + 3 } } end,
                           "fds: a descriptor is an integer")   -- a float, not fd 3
      assert.error_matches(function() process.spawn{ argv = { "/bin/true" }, fds = { (1 << 32) + 3 } } end,
                           "fds: 4294967299 is not a descriptor number")
      assert.error_matches(function() process.spawn{ argv = { "/bin/true" }, fds = { -1 } } end,
                           "fds: %-1 is not a descriptor number")
      assert.error_matches(function() process.spawn{ argv = { "/bin/true" }, pid_namespace = 1 } end,
                           "pid_namespace must be true or false")
    end)

    it("closes its descriptors of the process as soon as it is waited for", function()
      collectgarbage()
      local before = #proc.fds()
      local p = assert(process.spawn{ argv = { "/bin/true" } })
      assert(p:install(assert(seccomp.from_rules({ { "notify", "uname" } }, "allow"))))
      assert(p:proceed())
      assert.is_true(#proc.fds() > before)         -- pidfds and a listener
      assert.same({ "exited", 0 }, { p:wait() })
      assert.equal(before, #proc.fds())            -- before any collection
      assert.equal("gone", p:state())
    end)
  end)

  describe("filters", function()
    local uname = seccomp.syscall_number("uname")
    local getppid = seccomp.syscall_number("getppid")

    it("lets an allowed syscall work and gives a denied one its errno", function()
      local deny = assert(seccomp.deny_list({ "getppid" }, { deny_action = seccomp.errno("EACCES") }))
      local other = assert(seccomp.deny_list({ "uname" }, { deny_action = seccomp.errno("EACCES") }))
      assert.same({ "exited", 0 }, { run({ argv = { proc.bin("sxtry"), tostring(getppid) } }, { other }) })
      assert.same({ "exited", 13 },
                  { run({ argv = { proc.bin("sxtry"), tostring(getppid) } }, { deny }) })
    end)

    it("kills with SIGSYS for a syscall the filter kills", function()
      local deny = assert(seccomp.deny_list({ "uname" }, { deny_action = "kill_process" }))
      assert.same({ "signaled", SIGSYS },
                  { run({ argv = { proc.bin("sxtry"), tostring(uname) } }, { deny }) })
    end)

    -- The kernel reads writev's fd through fdget(unsigned int) and clone's flags through
    -- lower_32_bits, though it declares both unsigned long: with an upper bit set, the
    -- call still writes to fd 1 and still forks. A rule on them compares the low 32 bits.
    it("denies on the bits the kernel reads: writev(1 << 32 | 1) and clone(0x100000011)", function()
      local f = assert(seccomp.builder()
        :deny("writev", { { index = 0, op = "eq", value = 1 } })
        :deny("clone", { { index = 0, op = "eq", value = 0x11 } })
        :build { default = "allow" })
      local writev, clone = seccomp.syscall_number("writev"), seccomp.syscall_number("clone")
      local function try(...) return { run({ argv = { proc.bin("sxtry"), ... } }, { f }) } end
      -- unfiltered both succeed: the upper half is dropped (writev of 0 iovecs returns 0)
      assert.same({ "exited", 0 }, { run({ argv = { proc.bin("sxtry"), tostring(writev), "0x100000001", "0", "0" } }) })
      assert.same({ "exited", 1 }, try(tostring(writev), "1", "0", "0"))
      assert.same({ "exited", 1 }, try(tostring(writev), "0x100000001", "0", "0"))
      assert.same({ "exited", 0 }, try(tostring(writev), "2", "0", "0"))
      if seccomp.arch() == "x86_64" then   -- clone's flags are argument 0 here (not on s390x)
        assert.same({ "exited", 1 }, try(tostring(clone), "0x100000011", "0", "0", "0", "0"))
      end
    end)

    it("stacks filters: the most restrictive answer wins", function()
      local a = assert(seccomp.deny_list({ "uname" }, { deny_action = seccomp.errno("EPERM") }))
      local b = assert(seccomp.deny_list({ "getppid" }, { deny_action = seccomp.errno("EACCES") }))
      local argv = { proc.bin("sxtry"), tostring(uname) }
      assert.same({ "exited", 1 }, { run({ argv = argv }, { a, b }) })
      argv[2] = tostring(seccomp.syscall_number("getppid"))
      assert.same({ "exited", 13 }, { run({ argv = argv }, { a, b }) })
    end)

    it("runs an allow list without futex (the agent spins instead of blocking)", function()
      local f = assert(seccomp.allow_list(SMALL_PROGRAM))
      assert.is_true(f:eval("futex") == "kill_process")
      assert.same({ "exited", 0 }, { run({ argv = { "/bin/true" } }, { f }) })
    end)
  end)

  describe("exec-once", function()
    local allow = assert(seccomp.allow_list(SMALL_PROGRAM, { default = "kill_process" }))

    it("starts a program under a filter that forbids execve", function()
      assert.equal("kill_process", allow:eval("execve"))
      assert.same({ "exited", 0 }, { run({ argv = { "/bin/true" } }, { allow }) })
      -- an allowed syscall reaches the kernel (close(99): EBADF), a denied one is killed
      local close = tostring(seccomp.syscall_number("close"))
      local getpid = tostring(seccomp.syscall_number("getpid"))
      assert.same({ "exited", 9 }, { run({ argv = { proc.bin("sxtry"), close, "99" } }, { allow }) })
      assert.same({ "signaled", SIGSYS }, { run({ argv = { proc.bin("sxtry"), getpid } }, { allow }) })
    end)

    it("kills a workload that calls execve after it started", function()
      local p = assert(process.spawn{ argv = { proc.bin("execer"), "/bin/true" } })
      assert(p:install(allow))
      assert(p:proceed())
      assert.same({ "signaled", SIGSYS }, { p:wait() })
    end)

    it("gives a later execve the filter's errno", function()
      local deny = assert(seccomp.deny_list({ "execve" }, { deny_action = seccomp.errno("EPERM") }))
      assert.same({ "exited", 101 }, { run({ argv = { proc.bin("execer"), "/bin/true" } }, { deny }) })
      -- a filter that allows exec is installed as it is: the later exec runs
      local other = assert(seccomp.deny_list{ "ptrace" })
      assert.same({ "exited", 0 }, { run({ argv = { proc.bin("execer"), "/bin/true" } }, { other }) })
    end)

    it("decides execveat too", function()
      local deny = assert(seccomp.deny_list({ "execve", "execveat" },
                                            { deny_action = seccomp.errno("EPERM") }))
      local execveat = seccomp.syscall_number("execveat")
      -- execveat(AT_FDCWD, "", ...) from the running workload gets the policy's errno
      assert.same({ "exited", 1 },
                  { run({ argv = { proc.bin("sxtry"), tostring(execveat), "-100", "0" } },
                        { deny }) })
    end)

    describe("never lets another ABI's execve slip past (x86_64)", function()
      local X86 = seccomp.arch() == "x86_64"
      local function compat(mode, f)
        local p = assert(process.spawn{ argv = { proc.bin("compat_exec"), mode } })
        if f then assert(p:install(f)) end
        assert(p:proceed())
        return { p:wait() }
      end
      local function deny(arches, act)
        return assert(seccomp.deny_list({ "execve", "execveat" },
                                        { deny_action = act or "kill_process", arches = arches }))
      end

      it("x32: bad_arch for a native-only filter, the filter's action for one with x32", function()
        if not X86 then return pending("x86_64 only") end
        assert.same({ "signaled", SIGSYS }, compat("x32", deny{ "x86_64" }))
        assert.same({ "signaled", SIGSYS }, compat("x32", deny{ "x86_64", "x32" }))
        assert.same({ "exited", 101 }, compat("x32", deny({ "x86_64", "x32" }, seccomp.errno("EPERM"))))
      end)

      it("i386 (int 0x80): the same, where the kernel runs i386 code", function()
        if not X86 then return pending("x86_64 only") end
        local control = compat("i386")
        if control[1] == "signaled" and control[2] == process.signals.SEGV then
          return pending("this kernel has no i386 emulation: int 0x80 faults before seccomp")
        end
        assert.same({ "exited", 0 }, control)
        assert.same({ "signaled", SIGSYS }, compat("i386", deny{ "x86_64" }))
        assert.same({ "signaled", SIGSYS }, compat("i386", deny{ "x86_64", "i386" }))
      end)
    end)

    it("reports a failed exec even when the filter forbids write, futex and exit", function()
      local f = assert(seccomp.allow_list{ "read" })   -- the child spins, reports in memory
      local path = proc.tmpname()
      proc.write(path, "not a program\n")
      local p = assert(process.spawn{ argv = { path } })
      assert(p:install(f))
      local ok, err = p:proceed()
      os.remove(path)
      assert.is_nil(ok)
      assert.equal("exec_failed", err.code)
      assert.equal("EACCES", err.errno_name)
      -- exit_group was forbidden too: the kernel killed the child after its report
      assert.same({ "signaled", SIGSYS }, { p:wait() })
    end)

    it("starts a program under a raw-BPF filter that forbids execve, and kills a later one", function()
      local raw = assert(seccomp.load(allow.bpf))
      assert.same({ "exited", 0 }, { run({ argv = { "/bin/true" } }, { raw }) })
      assert.same({ "signaled", SIGSYS },
                  { run({ argv = { proc.bin("execer"), "/bin/true" } }, { raw }) })
    end)

    it("gates each filter of a stack that forbids execve, and only those", function()
      local deny = assert(seccomp.deny_list({ "execve" }, { deny_action = seccomp.errno("EACCES") }))
      local other = assert(seccomp.deny_list{ "ptrace" })
      assert.same({ "exited", 0 }, { run({ argv = { "/bin/true" } }, { other, deny, allow }) })
      -- the later execve: EACCES (13) from one, kill from the other; the kill wins
      assert.same({ "signaled", SIGSYS },
                  { run({ argv = { proc.bin("execer"), "/bin/true" } }, { deny, other, allow }) })
      assert.same({ "exited", 113 },
                  { run({ argv = { proc.bin("execer"), "/bin/true" } }, { other, deny }) })
    end)
  end)

  describe("install at the wrong time, and failed installs", function()
    it("says not_parked after proceed and no_process after the end", function()
      local f = assert(seccomp.deny_list{ "ptrace" })
      local flag = proc.tmpname()
      local p = assert(process.spawn{ argv = { proc.bin("execer"), "--after", flag, "/bin/true" } })
      assert.equal("parked", p:state())
      assert(p:proceed())
      assert.equal("running", p:state())
      local ok, err = p:install(f)
      assert.is_nil(ok)
      assert.equal("not_parked", err.code)
      assert.equal("not_parked", select(2, p:proceed()).code)
      proc.write(flag, "go")
      assert.is_true(proc.eventually(function() return p:state() == "exited" end))
      assert.same({ "exited", 0 }, { p:wait() })
      assert.equal("gone", p:state())
      os.remove(flag)
      ok, err = p:install(f)
      assert.equal("no_process", err.code)
    end)

    it("says parked when waited for before proceed, instead of waiting for ever", function()
      local p = assert(process.spawn{ argv = { "/bin/true" } })
      local how, err = p:wait()
      assert.is_nil(how)
      assert.equal("parked", err.code)
      assert.equal("parked", p:state())
      assert(p:proceed())
      assert.same({ "exited", 0 }, { p:wait() })
    end)

    it("says exited, then no_process, for a parked child that was killed", function()
      local p = assert(process.spawn{ argv = { "/bin/true" } })
      assert(p:kill("KILL"))
      assert.is_true(proc.eventually(function() return p:state() == "exited" end))
      local ok, err = p:install(seccomp.deny_list{ "ptrace" })
      assert.is_nil(ok)
      assert.equal("no_process", err.code)
      assert.equal("no_process", select(2, p:proceed()).code)
      assert.same({ "signaled", 9 }, { p:wait() })
      assert.equal("gone", p:state())
      assert.equal("no_process", select(2, p:kill()).code)
    end)

    it("refuses at install a plan over the kernel's 32768 instructions", function()
      local ld, ret = string.pack("<I2BBI4", 0x20, 0, 0, 0), string.pack("<I2BBI4", 0x06, 0, 0, 0x7fff0000)
      local big = assert(seccomp.load(ld:rep(4095) .. ret))
      local p = assert(process.spawn{ argv = { "/bin/true" } })
      local ok, err
      for _ = 1, 9 do
        ok, err = p:install(big)
        if not ok then break end
      end
      assert.is_nil(ok)
      assert.equal("bad_program", err.code)
      assert.matches("32768", err.message)
      assert(p:proceed())                   -- the filters it took still run
      assert.same({ "exited", 0 }, { p:wait() })
    end)

    it("runs nothing when the kernel refuses a filter at proceed, and says which", function()
      -- this Lua's own filters (inherited by the child) leave room the plan does not know
      local out = proc.tmpname()
      local script = ([[
        local seccomp, process = require "sx.seccomp", require "sx.process"
        local ld, ret = string.pack("<I2BBI4", 0x20, 0, 0, 0), string.pack("<I2BBI4", 0x06, 0, 0, 0x7fff0000)
        local big = assert(seccomp.load(ld:rep(4095) .. ret))
        for _ = 1, 5 do assert(seccomp.install(big, { tsync = false })) end
        local p = assert(process.spawn{ argv = { "/bin/sh", "-c", "echo ran > %s" } })
        for _ = 1, 3 do assert(p:install(big)) end
        local ok, err = p:proceed()
        io.write(tostring(ok), " ", err.code, " ", tostring(err.errno_name), " ", err.index, " ",
                 p:state())
      ]]):format(out)
      local _, text, errors = proc.run((os.getenv("SX_LUA") or "lua5.4") .. " -e " .. proc.shell_quote(script))
      assert.equal("nil install_failed ENOMEM 3 gone", text, errors)
      assert.is_nil(proc.read(out))
      os.remove(out)
    end)

    it("says blocked when an earlier filter kills seccomp(2), and errno when it denies it", function()
      local p = assert(process.spawn{ argv = { "/bin/true" } })
      assert(p:install(assert(seccomp.allow_list(SMALL_PROGRAM))))
      local ok, err = p:install(seccomp.deny_list{ "ptrace" })
      assert.is_nil(ok)
      assert.equal("blocked", err.code)
      p:close()
      p = assert(process.spawn{ argv = { "/bin/true" } })
      assert(p:install(assert(seccomp.deny_list{ "seccomp" })))
      ok, err = p:install(seccomp.deny_list{ "ptrace" })
      assert.equal("install_failed", err.code)
      assert.equal("EPERM", err.errno_name)
      assert(p:proceed())
      assert.same({ "exited", 0 }, { p:wait() })
    end)
  end)

  describe("signal dispositions", function()
    -- A spawner that ignores TERM (from its shell) and catches INT (lua.c does while a
    -- script runs). The parked workload shares its memory: a handler of the spawner's
    -- must not run there, so none is left to it; and, as sxlua has always done
    -- (sxlua_spec), the workload resets what the spawner ignores, so the program starts
    -- with defaults.
    local function spawner(script)
      local path = proc.tmpname()
      proc.write(path, script)
      local cmd = ("trap '' TERM; exec %s %s"):format(os.getenv("SX_LUA") or "lua5.4", path)
      local code, out = proc.run("sh -c " .. proc.shell_quote(cmd))
      os.remove(path)
      return code, out
    end

    -- The kernel resets the spawner's handlers as it makes the child (clone3's
    -- CLONE_CLEAR_SIGHAND); where clone3 is refused (Docker's profile answers ENOSYS, to
    -- make glibc fall back to clone), clone and a reset of all 64 stand in.
    local function parked_masks(refuse_clone3)
      local code, out = spawner((refuse_clone3 and [[
        local seccomp = require "sx.seccomp"
        assert(seccomp.install(assert(seccomp.from_rules({ { "errno(ENOSYS)", "clone3" } }, "allow"))))
      ]] or "") .. [[
        local process = require "sx.process"
        local function status(pid)
          local f = assert(io.open("/proc/" .. pid .. "/status"))
          local s = f:read("a")
          f:close()
          return s:match("SigIgn:\t%x+") .. " " .. s:match("SigCgt:\t%x+")
        end
        local p = assert(process.spawn{ argv = { "/bin/true" } })
        print(status("self"))
        print(status(p.pid))
        p:close()
      ]])
      assert.equal(0, code, out)
      local spawner_masks, parked = out:match("^([^\n]*)\n([^\n]*)\n$")
      local ign, cgt = spawner_masks:match("SigIgn:\t(%x+) SigCgt:\t(%x+)")
      assert.are_not.equal(tonumber(ign, 16), 0)       -- TERM
      assert.are_not.equal(tonumber(cgt, 16), 0)       -- INT
      return parked
    end

    it("the parked workload catches and ignores nothing", function()
      assert.equal("SigIgn:\t0000000000000000 SigCgt:\t0000000000000000", parked_masks())
    end)

    it("nor where clone3 is refused", function()
      assert.equal("SigIgn:\t0000000000000000 SigCgt:\t0000000000000000", parked_masks(true))
    end)

    -- The agent reads what the spawner ignores from the first 4 KB of its status; in
    -- hundreds of groups the field moves past that, cut off, then gone (every group
    -- count from 380 to 470 moves it 8 bytes on): where the agent cannot read it whole,
    -- the workload resets every signal. (setgroups: the specs run as root.)
    it("nor where the spawner's status is too long to read whole", function()
      local path = proc.tmpname()
      proc.write(path, [[
        local process = require "sx.process"
        local p = assert(process.spawn{ argv = { "/bin/true" } })
        local f = assert(io.open("/proc/" .. p.pid .. "/status"))
        io.write(f:read("a"):match("SigIgn:\t%x+"), "\n")
        f:close()
        p:close()
      ]])
      local seen = {}
      for n = 380, 470 do
        local groups = {}
        for i = 1, n do groups[i] = 1000000 + i end
        local cmd = ("trap '' TERM; exec setpriv --groups %s %s %s"):format(
          table.concat(groups, ","), os.getenv("SX_LUA") or "lua5.4", path)
        local code, out = proc.run("sh -c " .. proc.shell_quote(cmd))
        assert.equal(0, code, out)
        seen[out] = (seen[out] or 0) + 1
      end
      os.remove(path)
      assert.same({ ["SigIgn:\t0000000000000000\n"] = 91 }, seen)
    end)
  end)

  describe("descriptors and children", function()
    it("leaks no descriptor into the workload, and passes the ones asked for", function()
      local out = proc.tmpname()
      local held = assert(io.open("/dev/null"))   -- not close-on-exec: would leak
      assert.same({ "exited", 0 }, { run{ argv = { proc.bin("fdlist"), out } } })
      assert.equal("0 1 2\n", proc.read(out))
      local passed_name = proc.tmpname()
      local passed = assert(io.open(passed_name, "w"))
      local fd = assert(proc.fd_of(passed_name))
      assert.same({ "exited", 0 }, { run{ argv = { proc.bin("fdlist"), out }, fds = { passed } } })
      assert.equal("0 1 2 " .. fd .. "\n", proc.read(out))
      held:close()
      passed:close()
      os.remove(passed_name)
      os.remove(out)
    end)

    it("leaves no descriptor of the agent in the workload: exec gate, listeners, pidfds", function()
      local out = proc.tmpname()
      local allow = assert(seccomp.allow_list(SMALL_PROGRAM))
      local notify = assert(seccomp.from_rules({ { "notify", "uname" } }, "allow"))
      for _, opts in ipairs{ {}, { pid_namespace = false } } do
        opts.argv = { proc.bin("fdlist"), out }
        assert.same({ "exited", 0 }, { run(opts, { notify, allow }) })
        assert.equal("0 1 2\n", proc.read(out))
      end
      os.remove(out)
    end)

    it("kills and reaps a parked child on close #lua54", function()
      -- loaded from a string: Lua 5.3 cannot parse <close>
      local pid = assert(load([[
        local process, proc = ...
        local pid
        do
          local p <close> = assert(process.spawn{ argv = { "/bin/true" } })
          pid = p.pid
          assert(proc.pid_state(pid) == "alive")
        end
        return pid
      ]]))(process, proc)
      assert.equal("gone", proc.pid_state(pid))
    end)

    it("kills and reaps a parked child on p:close() and on collection", function()
      local p = assert(process.spawn{ argv = { "/bin/true" } })
      local pid = p.pid
      p:close()
      assert.equal("gone", proc.pid_state(pid))
      p = assert(process.spawn{ argv = { "/bin/true" } })
      pid = p.pid
      p = nil   -- luacheck: ignore
      collectgarbage()
      collectgarbage()
      assert.equal("gone", proc.pid_state(pid))
    end)

    -- Each spawn's memory (the children's stacks, the gate's pages, the report) is kept
    -- for the next: mapping and unmapping it cost a spawn more than anything else the
    -- agent does on a VM. spec-bin/spare_check checks the C side (every written page zeroed
    -- before it is kept); this, that sx.process keeps one area a Lua state.
    it("keeps one area of memory for the next spawn, not one a spawn", function()
      -- the area's stacks, as /proc/self/maps shows them: three guard pages round two
      -- 64 KiB stacks (agent_area.h); the start of each such run of mappings
      local SHAPE = { { "---p", 4096 }, { "rw-p", 65536 }, { "---p", 4096 }, { "rw-p", 65536 },
                      { "---p", 4096 } }
      local function areas()
        local maps, found = {}, {}
        for line in io.lines("/proc/self/maps") do
          local lo, hi, perms = line:match("^(%x+)-(%x+) (%S+)")
          maps[#maps + 1] = { lo = tonumber(lo, 16), hi = tonumber(hi, 16), perms = perms }
        end
        for i = 1, #maps - #SHAPE + 1 do
          local fits = true
          for j, want in ipairs(SHAPE) do
            local m = maps[i + j - 1]
            fits = fits and m.perms == want[1] and m.hi - m.lo == want[2] and
                   (j == 1 or maps[i + j - 2].hi == m.lo)
          end
          if fits then found[#found + 1] = maps[i].lo end
        end
        return found
      end
      assert.same({ "exited", 0 }, { run{ argv = { "/bin/true" } } })
      collectgarbage()
      local kept = areas()
      assert.equal(1, #kept)
      for i = 1, 20 do
        assert.same({ "exited", 0 }, { run{ argv = { "/bin/true" }, pid_namespace = i % 2 == 0 } })
      end
      collectgarbage()
      collectgarbage()
      assert.same(kept, areas())
    end)

    it("a parked child dies with its parent", function()
      local out = proc.tmpname()
      local script = ([[
        local process = require "sx.process"
        local p = assert(process.spawn{ argv = { "/bin/true" } })
        local f = assert(io.open(%q, "w")); f:write(p.pid); f:close()
        os.exit(0, false)   -- no close, no collection: only the parent-death signal is left
      ]]):format(out)
      assert.equal(0, (proc.run((os.getenv("SX_LUA") or "lua5.4") .. " -e " .. proc.shell_quote(script))))
      local pid = tonumber(proc.read(out))
      os.remove(out)
      assert.truthy(pid)
      assert.is_true(proc.eventually(function() return proc.pid_state(pid) ~= "alive" end))
    end)

    it("gives the workload the caller's CPU affinity, with or without a namespace", function()
      -- The children start on the caller's CPU alone (agent.c: start_child); the workload
      -- must take back the whole mask before its program runs. (One CPU: nothing to see.)
      local function allowed(status) return status:match("Cpus_allowed_list:%s*(%S+)") end
      local mine = allowed(proc.read("/proc/self/status"))
      for _, pid_namespace in ipairs{ true, false } do
        local out = proc.tmpname()
        assert.same({ "exited", 0 }, { run({ argv = { "sh", "-c", "cat /proc/self/status > " .. out },
                                             pid_namespace = pid_namespace },
                                           { seccomp.deny_list{ "ptrace" } }) })
        assert.equal(mine, allowed(proc.read(out)))
        os.remove(out)
      end
    end)

    it("leaves no zombie or descriptor behind after many spawns", function()
      local allow = assert(seccomp.allow_list(SMALL_PROGRAM))
      collectgarbage()
      collectgarbage()           -- the second cycle runs what the first one's finalizers freed
      local fds_before = #proc.fds()
      for i = 1, 40 do
        local p = assert(process.spawn{ argv = { "/bin/true" } })
        if i % 4 == 0 then
          p:close()
        elseif i % 4 == 1 then
          assert(p:install(allow))
          assert(p:proceed())
          assert.same({ "exited", 0 }, { p:wait() })
        elseif i % 4 == 2 then
          assert(p:install(allow))   -- parked with a plan, then dropped
        else
          assert(p:proceed())        -- running, dropped without wait
        end
      end
      collectgarbage()
      collectgarbage()
      assert.same({}, proc.children())
      assert.equal(fds_before, #proc.fds())
    end)
  end)
end)

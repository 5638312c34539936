-- What sxlua adds at run time is out of the workload's reach (src/sx_agent.h, the README's
-- "What the workload can never reach"): real attacks on the real kernel, as root and as
-- an unprivileged user, with and without a PID namespace of its own.
-- Tagged lua54: it runs the built sxlua, which embeds Lua 5.4.
local proc = require "support.proc"

local q = proc.shell_quote

local function user_words(user)
  if user == "root" then return "" end
  return "setpriv --reuid nobody --regid nogroup --clear-groups "
end

-- A policy file everybody can read; returns its path.
local function policy(text)
  local path = proc.tmpname() .. ".lua"
  proc.write(path, text)
  os.execute("chmod 644 " .. q(path))
  return path
end

local function sxlua(user, args)
  return proc.run("cd / && " .. user_words(user) .. proc.SXLUA .. " " .. args)
end

-- The thief's report: name -> result (spec/support/thief.c).
local function report(text)
  local out = {}
  for name, result in text:gmatch("(%S+) ?([^\n]*)\n") do out[name] = result end
  return out
end

-- The filters a process spawned with `opts` holds once `filters` are installed and it
-- proceeded, oldest first (the terminal guard, then the plan's), each a line of
-- spec-bin/filters_of's "code,jt,jf,k" words; and filters_of's whole output.
local function installed(opts, filters)
  local process = require "sx.process"
  local p = assert(process.spawn(opts))
  for _, f in ipairs(filters) do assert(p:install(f)) end
  assert(p:proceed())
  local code, out, err = proc.run(q(proc.bin("filters_of")) .. " " .. p.pid)
  p:kill()
  p:wait()
  assert.equal(0, code, err)
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
  return lines, out
end

-- A filters_of line as BPF bytes, for the emulator.
local function as_bpf(line)
  local insns = {}
  for w in line:gmatch("%S+") do
    local code, jt, jf, k = w:match("^(%x+),(%x+),(%x+),(%x+)$")
    insns[#insns + 1] = ("<I2I1I1I4"):pack(tonumber(code, 16), tonumber(jt, 16), tonumber(jf, 16), tonumber(k, 16))
  end
  return table.concat(insns)
end

-- The policy of the audit's first finding (exec denied with kill_process, everything else
-- allowed, pidfd_getfd and ptrace among it), with a notify rule, so that sxlua holds a
-- listener the workload would love to steal.
local FINDING_1 = [[
local seccomp = require "sx.seccomp"
return seccomp.builder()
  :deny({ "execve", "execveat" }, "kill_process")
  :rule("notify", "uname")
  :build{ default = "allow" }
]]

describe("the workload cannot reach sxlua #lua54", function()
  local files = {}
  local function p(text)
    local path = policy(text)
    files[#files + 1] = path
    return path
  end
  teardown(function()
    for _, f in ipairs(files) do os.remove(f) end
  end)

  for _, user in ipairs{ "root", "nobody" } do
    for _, namespace in ipairs{ true, false } do
      local mode = namespace and "in its PID namespace" or "with --no-pid-namespace"
      it(("steals no listener, attaches to nothing, reads no memory; later execs die (%s, %s)")
         :format(user, mode), function()
        local flag = namespace and "" or "--no-pid-namespace "
        local code, out, err = sxlua(user, flag .. q(p(FINDING_1)) .. " -- " ..
                                     q(proc.bin("thief")) .. " --exec")
        local r = report(out)
        assert.equal(159, code, out .. err)            -- the exec at the end: killed
        assert.is_nil(r.listener)
        assert.equal("EPERM", r.pidfd_getfd)           -- sxlua (or its reaper) is not dumpable
        assert.equal("EPERM", r.ptrace)
        assert.equal("EPERM", r.vm_read)
        assert.equal("EACCES", r.mem_parent)
        assert.equal("EACCES", r.fd_agent)
        assert.equal("EACCES", r.get_filter)           -- a filtered process reads no filter
        if namespace then
          assert.equal("1", r.ppid)                    -- its parent is the reaper
          assert.equal("EACCES", r.mem_agent)
          assert.equal("ESRCH", r.kill_agent)          -- sxlua's pid names nothing inside
          assert.equal("EINVAL", r.signal_agent)       -- nor does its /proc directory
        end
      end)
    end
  end

  it("under Docker's profile, which allows ptrace, attaches to neither sxlua nor its reaper", function()
    local docker = (os.getenv("SX_SOURCE_DIR") or ".") .. "/spec/fixtures/docker-default.json"
    local pol = p(([[
      local oci = require "sx.oci"
      local f = assert(io.open(%q))
      local filter = assert(oci.import(f:read("a")))
      f:close()
      assert(filter:eval("ptrace") == "allow" and filter:eval("process_vm_readv") == "allow")
      return filter
    ]]):format(docker))
    for _, user in ipairs{ "nobody", "root" } do
      for _, flag in ipairs{ "", "--no-pid-namespace " } do
        local code, out, err = sxlua(user, flag .. q(pol) .. " -- " .. q(proc.bin("thief")))
        local r = report(out)
        assert.equal(0, code, err)
        assert.equal("EPERM", r.ptrace)
        assert.equal("EPERM", r.pidfd_getfd)
        assert.equal("EPERM", r.vm_read)
        assert.equal("EACCES", r.mem_parent)
      end
    end
  end)

  it("drops CAP_SYS_PTRACE from a root workload, bounding set included", function()
    local code, out = sxlua("root", q(p(FINDING_1)) .. " -- grep ^Cap /proc/self/status")
    assert.equal(0, code)
    for set in ("Inh Prm Eff Bnd Amb"):gmatch("%a+") do
      local bits = assert(tonumber(out:match("Cap" .. set .. ":%s*(%x+)"), 16))
      assert.equal(0, bits & (1 << 19), set)     -- CAP_SYS_PTRACE
    end
  end)

  -- TIOCSTI pushes input into a terminal: a workload holding the user's terminal could
  -- type a command the user's shell runs once sxlua ends. The workload is a session leader
  -- without a terminal; root's CAP_SYS_ADMIN would still pass, which the terminal guard
  -- refuses, however the request is dressed (high bits set, the i386 ABI).
  local TIOCSTI = [[
import os, fcntl, termios
m, s = os.openpty()
for req in (termios.TIOCSTI, termios.TIOCSTI | 1 << 32, 0x541C):
    try:
        fcntl.ioctl(s, req, b"x")
        print("typed", hex(req))
    except OSError as e:
        print(e.errno, hex(req))
print("session leader", os.getsid(0) == os.getpid())
]]
  for _, user in ipairs{ "root", "nobody" } do
    it("types nothing into a terminal, and leads a session of its own (" .. user .. ")", function()
      local script = policy(TIOCSTI)
      files[#files + 1] = script
      local code, out = sxlua(user, q(p(FINDING_1)) .. " -- /usr/bin/python3 " .. q(script))
      assert.equal(0, code, out)
      assert.is_nil(out:find("typed"), out)
      assert.matches("1 0x5412\n", out)                   -- EPERM
      assert.matches("1 0x100005412\n", out)
      assert.matches("1 0x541c\n", out)
      assert.matches("session leader True", out)
    end)
  end

  -- The guard's EPERM outranks a notification: when supervision turned a kill into one,
  -- ioctl(fd, TIOCSTI) under a policy that kills it got EPERM and lived (review). Such a
  -- kill stays a kill in the kernel now (gate.h: the guarded tail), in every mode that
  -- enforces the policy, and on every ABI of the host (the filters as installed, run in
  -- the emulator: this kernel runs neither i386 nor x32). Complain mode stops nothing:
  -- there the guard's EPERM is what the call gets.
  it("kills the guard's ioctls where the policy kills them, supervised or not", function()
    local kills = p[[
local seccomp = require "sx.seccomp"
return seccomp.builder()
  :deny("ioctl", "kill_process", "arg1 == TIOCSTI || arg1 == TIOCLINUX")
  :build{ default = "allow" }
]]
    local script = policy([[
import fcntl, sys
try:
    fcntl.ioctl(0, int(sys.argv[1], 0), b"x")
except OSError as e:
    print("errno", e.errno)
print("lived")
]])
    files[#files + 1] = script
    for _, mode in ipairs{ "", "--report ", "--no-supervise " } do
      for _, req in ipairs{ "0x5412", "0x541c" } do
        local code, out = sxlua("root", mode .. q(kills) .. " -- /usr/bin/python3 " .. q(script) .. " " .. req)
        assert.equal(159, code, mode .. req .. ": " .. out)
        assert.is_nil(out:find("lived"), out)
      end
    end
    local code, out = sxlua("root", "--complain " .. q(kills) .. " -- /usr/bin/python3 " .. q(script) .. " 0x5412")
    assert.equal(0, code, out)
    assert.matches("errno 1\nlived", out)
    -- the guard and the supervised plan as the kernel holds them, on each ABI
    local seccomp, core = require "sx.seccomp", require "sx.core"
    local lines, listed = installed({ argv = { "/bin/sleep", "10" }, supervise = "kills" }, {
      assert(seccomp.builder():deny("ioctl", "arg1 == TIOCSTI || arg1 == 0x5413", "kill_process")
        :allow("uname"):build{ default = "allow", arches = { "x86_64", "i386", "x32" } }) })
    assert.equal(2, #lines, listed)
    local programs = { as_bpf(lines[1]), as_bpf(lines[2]) }
    local function kernel(arch, nr, cmd)          -- the most restrictive, as the kernel takes
      local best
      for _, bpf in ipairs(programs) do
        local v = core.emulate(bpf, core.audit(arch), nr, 0, cmd, 0, 0, 0, 0)
        local r = v & 0xffff0000
        r = r >= 0x80000000 and r - 0x100000000 or r
        if not best or r < best[1] then best = { r, v } end
      end
      return best[2]
    end
    for _, arch in ipairs{ "x86_64", "i386", "x32" } do
      local ioctl = seccomp.syscall_number("ioctl", arch)
      assert.equal(0x80000000, kernel(arch, ioctl, 0x5412), arch)     -- killed in the kernel
      assert.equal(0x7fc00000, kernel(arch, ioctl, 0x5413), arch)     -- TIOCGWINSZ: by sxlua
      assert.equal(0x7fff0000, kernel(arch, ioctl, 0x5414), arch)     -- TIOCSWINSZ: allowed
    end
  end)

  -- The guard is a filter of its own, and every filter costs the kernel a JIT compile; it
  -- is left out where the plan's first filter, as installed, already refuses each call
  -- it refuses (a kill, a trap or an errno), whatever the call's other arguments. Read
  -- back from the kernel: how many filters the workload holds, and what they answer
  -- together, on each ABI, to the guard's calls with the fd and the high bits dressed.
  it("leaves the guard out only where the first filter refuses its calls itself", function()
    local seccomp, core = require "sx.seccomp", require "sx.core"
    local ARCHES = { "x86_64", "i386", "x32" }
    local function held(filter, supervise)
      local lines, listed = installed({ argv = { "/bin/sleep", "10" }, supervise = supervise }, { filter })
      local answers = {}
      for _, arch in ipairs(ARCHES) do
        for _, cmd in ipairs{ 0x5412, 0x541C, 0x100005412 } do
          for _, fd in ipairs{ 0, 5 } do
            local best
            for _, line in ipairs(lines) do
              local v = core.emulate(as_bpf(line), core.audit(arch), seccomp.syscall_number("ioctl", arch),
                                     fd, cmd, 0, 0, 0, 0)
              local r = v & 0xffff0000
              r = r >= 0x80000000 and r - 0x100000000 or r
              if not best or r < best[1] then best = { r, v } end
            end
            answers[#answers + 1] = best[2] & 0xffff0000
          end
        end
      end
      local kinds = {}
      for _, v in ipairs(answers) do kinds[("%x"):format(v)] = true end
      return #lines, kinds, listed
    end
    local function policy(rules, default)
      return assert(seccomp.from_rules(rules, default, { arches = ARCHES }))
    end
    local KILL, ERRNO = { ["80000000"] = true }, { ["50000"] = true }
    -- an allow list without ioctl (what sleep needs): killed by the policy alone,
    -- supervised or not; and ioctl killed outright
    local SLEEP = { "read", "write", "close", "mmap", "mprotect", "munmap", "brk", "pread64",
                    "access", "execve", "arch_prctl", "set_tid_address", "openat", "newfstatat",
                    "set_robust_list", "prlimit64", "rseq", "exit_group", "getrandom",
                    "rt_sigprocmask", "clock_nanosleep", "futex", "fstat", "lseek" }
    local allow = {}
    for i, name in ipairs(SLEEP) do allow[i] = { "allow", name } end
    local n, kinds, listed = held(policy(allow, "kill_process"))
    assert.equal(1, n, listed)
    assert.same(KILL, kinds)
    n, kinds, listed = held(policy(allow, "kill_process"), false)
    assert.equal(1, n, listed)
    assert.same(KILL, kinds)
    n, kinds, listed = held(policy({ { "kill_process", "ioctl" } }, "allow"))
    assert.equal(1, n, listed)
    assert.same(KILL, kinds)
    -- every ioctl refused with an errno
    n, kinds = held(policy({ { "errno(EACCES)", "ioctl" } }, "allow"))
    assert.equal(1, n)
    assert.same(ERRNO, kinds)
    -- raw filters that kill the guard's calls as the agent traces them (nr, arch, cmd's
    -- low word, the rest zero), but whose way there reads cmd's high word or the
    -- instruction pointer: the guard stays; a way through scratch memory and RET A that
    -- reads neither may do without it
    local function I(code, jt, jf, k) return ("<I2I1I1I4"):pack(code, jt, jf, k) end
    local function raw(tail)
      return assert(seccomp.load(table.concat {
        I(0x20, 0, 0, 0),                       -- ld nr
        I(0x15, 3, 0, 16),                      -- x86_64 ioctl
        I(0x15, 2, 0, 0x40000202),              -- x32 ioctl
        I(0x15, 1, 0, 54),                      -- i386 ioctl (x86_64's setsockopt too)
        I(0x06, 0, 0, 0x7fff0000),
        tail }, "x86_64"))
    end
    local KILLS_UNLESS = function(offset)       -- the word at offset == 1: allowed
      return I(0x20, 0, 0, offset) .. I(0x15, 0, 1, 1) .. I(0x06, 0, 0, 0x7fff0000) ..
             I(0x06, 0, 0, 0x80000000)
    end
    for _, offset in ipairs{ 28, 8 } do
      n, kinds, listed = held(raw(KILLS_UNLESS(offset)))
      assert.equal(2, n, listed)
    end
    local KILL_IN_A = I(0x00, 0, 0, 0x80000000) .. I(0x02, 0, 0, 0) .. I(0x60, 0, 0, 0) ..
                      I(0x16, 0, 0, 0)
    n, kinds, listed = held(raw(KILL_IN_A))
    assert.equal(1, n, listed)
    assert.same(KILL, kinds)
    -- supervised, that kill in A is notified through the guard's copy, which keeps it for
    -- the guard's calls (gate.h); in complain mode it is notified, and the guard stays
    n, kinds, listed = held(raw(KILL_IN_A), "kills")
    assert.equal(1, n, listed)
    assert.same(KILL, kinds)
    n, kinds, listed = held(raw(KILL_IN_A), "complain")
    assert.equal(2, n, listed)
    assert.same(ERRNO, kinds)
    -- ioctl allowed, or killed on fd 0 only (the answer reads args[0]), or its errno
    -- notified (supervise = "denials"): the guard stays, and refuses
    for _, case in ipairs{ { policy({}, "allow") },
                           { policy({ { "kill_process", "ioctl", "arg0 == 0" } }, "allow") },
                           { policy({ { "errno(EACCES)", "ioctl" } }, "allow"), "denials" } } do
      n, kinds, listed = held(case[1], case[2])
      assert.equal(2, n, listed)
      for k in pairs(kinds) do assert.is_true(k == "80000000" or k == "50000", k .. ": " .. listed) end
    end
  end)

  -- The workload shares sxlua's stderr. A report written while the pipe behind it was
  -- full, its lock held (a splice waiting for data), the terminal's output stopped
  -- (TCXONC) or TOSTOP set held the supervisor up: a kill made meanwhile waited with it,
  -- and the killed process went on (review). A thread of sxlua's writes its lines now
  -- (sx.outlet): the second kill lands at once, both lines arrive once stderr takes
  -- them, and a terminal the workload stopped is restarted.
  it("enforces kills while the workload stalls its stderr (a full pipe, a stopped terminal)", function()
    local kills = p[[
local seccomp = require "sx.seccomp"
return seccomp.builder():deny("ptrace", "kill_process"):build{ default = "allow" }
]]
    local beat = proc.tmpname()
    local function stalling(how) return policy(([[
import os, fcntl, sys, threading, time, ctypes, termios, socket
libc = ctypes.CDLL(None, use_errno=True)
if "%s" == "splice":                             # holds the pipe's lock, waiting for data
    a, b = socket.socketpair()
    threading.Thread(target=lambda: os.splice(a.fileno(), 2, 4096), daemon=True).start()
    time.sleep(0.2)
elif "%s" == "pipe":
    fl = fcntl.fcntl(2, fcntl.F_GETFL)
    fcntl.fcntl(2, fcntl.F_SETFL, fl | os.O_NONBLOCK)
    for size in (4096, 1):
        try:
            while True: os.write(2, b"." * size)
        except BlockingIOError:
            pass
    fcntl.fcntl(2, fcntl.F_SETFL, fl)            # full, and blocking again
elif "%s" == "tostop":
    attrs = termios.tcgetattr(2)
    attrs[3] |= termios.TOSTOP                   # a background writer stops on SIGTTOU
    termios.tcsetattr(2, termios.TCSANOW, attrs)
else:
    termios.tcflow(2, termios.TCOOFF)
if os.fork() == 0:
    libc.syscall(101, 0, 0, 0, 0)                # ptrace: killed, and reported
    os._exit(0)
time.sleep(0.3)
threading.Thread(target=lambda: libc.syscall(101, 0, 0, 0, 0)).start()
for i in range(30):
    with open(sys.argv[1], "w") as f: f.write(str(i))
    time.sleep(0.1)
]]):format(how, how, how)) end
    local pipe, tty, tostop, splice = stalling("pipe"), stalling("tty"), stalling("tostop"), stalling("splice")
    for _, f in ipairs{ pipe, tty, tostop, splice, beat } do files[#files + 1] = f end
    local function check(code, out)
      assert.equal(159, code, out)
      local _, lines = out:gsub("killed: ptrace%(0, 0, 0, 0%): kill_process", "")
      assert.equal(2, lines, out)
      local beats = tonumber(proc.read(beat) or "") or 0     -- (killed between truncate and write: "")
      assert.is_true(beats < 5, "the process lived on: " .. beats)
      os.remove(beat)
    end
    -- the pipe's reader starts reading 4 s later
    local code, out
    for _, script in ipairs{ pipe, splice } do
      code, out = proc.run("cd / && { " .. proc.SXLUA .. " " .. q(kills) .. " -- /usr/bin/python3 "
        .. q(script) .. " " .. q(beat) .. " 2>&1; echo rc=$?; } | { sleep 4; tr -d .; }")
      assert.equal(0, code, out)
      check(tonumber(out:match("rc=(%d+)")), out)
    end
    -- on a terminal of its own (python's pty), whose output the workload stops
    local pty = q([[
import os, pty, sys, select, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out, end, status, open_ = b"", time.time() + 10, None, True
while time.time() < end and (open_ or status is None):
    if open_ and select.select([fd], [], [], 0.1)[0]:
        try:
            data = os.read(fd, 4096)
            out += data
            open_ = data != b""
        except OSError:
            open_ = False                          # EIO: the last holder closed it
    if status is None:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done: status = st
        elif not open_: time.sleep(0.05)
if status is None:
    os.kill(pid, 9); os.waitpid(pid, 0); status = 0
sys.stdout.write(out.decode())
sys.exit(os.waitstatus_to_exitcode(status))
]])
    code, out = proc.run("cd / && /usr/bin/python3 -c " .. pty .. " " .. proc.SXLUA .. " " .. q(kills) ..
                         " -- /usr/bin/python3 " .. q(tty) .. " " .. q(beat))
    check(code, out)
    -- stderr on a pty's master: lines reach its slave (a reopen through /proc made a new
    -- pty, and sxlua waited for ever to write to it: review)
    code, out = proc.run("cd / && /usr/bin/python3 -c " .. q([[
import os, subprocess, sys, select
m, s = os.openpty()
p = subprocess.Popen(sys.argv[1:], stderr=m, stdout=subprocess.DEVNULL)
rc = p.wait(timeout=20)
out = b""
while select.select([s], [], [], 0.3)[0]: out += os.read(s, 4096)
sys.stdout.write(out.decode()); sys.exit(rc)
]]) .. " " .. proc.build .. "/sxlua " .. q(kills) .. " -- " .. q(proc.bin("sxtry")) .. " 101")
    assert.equal(159, code, out)
    assert.matches("killed: ptrace%(0, 0, 0, 0%)", out)
    -- a reader that is gone: the lines are lost (EPIPE in sxlua's writer), the status is not
    local rc_file = proc.tmpname()
    files[#files + 1] = rc_file
    proc.run("cd / && { " .. proc.SXLUA .. " " .. q(kills) .. " -- " .. q(proc.bin("sxtry")) ..
             " 101 2>&1; echo $? > " .. q(rc_file) .. "; } | { exec 0<&-; sleep 1; }")
    assert.equal("159\n", proc.read(rc_file))
    -- sxlua in the background of a shell with job control, its workload setting TOSTOP on
    -- the terminal: a line sxlua wrote would stop it (SIGTTOU) with the kill unsent
    code, out = proc.run("cd / && /usr/bin/python3 -c " .. pty .. " /bin/sh -c " ..
      q("set -m; " .. proc.SXLUA .. " " .. q(kills) .. " -- /usr/bin/python3 " .. q(tostop) ..
        " " .. q(beat) .. " & wait $!; exit $?"))
    check(code, out)
  end)

  it("kill(0, sig) reaches the workload's own process group, not sxlua's", function()
    local code, out = proc.run("cd / && setsid sh -c " .. q(proc.SXLUA .. " " .. q(p(FINDING_1))
      .. " -- sh -c 'kill -TERM 0; sleep 5'; echo rc=$?"))
    assert.equal(0, code, out)
    assert.matches("rc=143", out)                      -- the caller's shell lived to say so
  end)

  -- PTRACE_TRACEME makes the workload's parent (the reaper, or sxlua without a
  -- namespace) its tracer, and its stops would read as its end, or wait for ever.
  for _, flag in ipairs{ "", "--no-pid-namespace " } do
    it("a workload that asks to be traced runs as if untraced (" .. (flag == "" and "namespace" or flag) .. ")", function()
      local script = policy([[
import ctypes, os, signal
print("traceme", ctypes.CDLL(None).ptrace(0, 0, 0, 0), flush=True)
os.kill(os.getpid(), signal.SIGUSR2)
print("still running")
]])
      files[#files + 1] = script
      local code, out = proc.run("cd / && timeout 20 " .. proc.SXLUA .. " " .. flag .. q(p(FINDING_1))
                                 .. " -- /usr/bin/python3 " .. q(script))
      assert.equal(128 + 12, code, out)               -- SIGUSR2 ends it, as untraced
      assert.matches("traceme 0", out)
      assert.is_nil(out:find("still running"), out)
    end)
  end

  -- A root workload can register a page with userfaultfd (/dev/userfaultfd) and make a
  -- call the policy kills with its path on that page: the supervisor's read for the
  -- report would sleep until the workload let it go, after withdrawing the call.
  it("kills a workload that stalls the supervisor's read of its memory", function()
    if not io.open("/dev/userfaultfd") then return pending("no /dev/userfaultfd here") end
    local code, _, err = proc.run("cd / && timeout -s KILL 30 " .. proc.SXLUA .. " " ..
      q(p(FINDING_1)) .. " -- " .. q(proc.bin("staller")) .. " --forever")
    assert.equal(159, code, err)
    assert.matches("killed: execve%(0x%x+, NULL, NULL%)", err)
    assert.is_nil(err:find("alive"), err)
  end)

  -- The same stall under a call the supervisor reads for a report (an errno denial) or
  -- for a handler: the read gives up after 1 s, the call is answered, and the run goes
  -- on (the workload then lets the page go and ends).
  it("answers a denied call and a handler's call whose memory the workload stalls", function()
    if not io.open("/dev/userfaultfd") then return pending("no /dev/userfaultfd here") end
    local deny = p([[
local seccomp = require "sx.seccomp"
return seccomp.builder():deny("mkdir", seccomp.errno("EACCES")):build{ default = "allow" }]])
    local code, _, err = proc.run("cd / && timeout -s KILL 20 " .. proc.SXLUA .. " --report " ..
      q(deny) .. " -- " .. q(proc.bin("staller")) .. " --call mkdir")
    assert.equal(0, code, err)
    assert.matches("denied: mkdir%(0x%x+, 0700%): errno%(EACCES%)", err)
    assert.matches("our mkdir returned %-1 %(Permission denied%)", err)
    local handle = p([[
local seccomp = require "sx.seccomp"
return { filter = seccomp.builder():rule("notify", "openat"):build{ default = "allow" },
         on = { openat = function(call)
           local path, why = call:string(1)
           if path then return call:continue() end
           io.stderr:write("handler: ", why, "\n")
           return call:fail("EACCES")
         end } }]])
    code, _, err = proc.run("cd / && timeout -s KILL 20 " .. proc.SXLUA .. " " .. q(handle) ..
      " -- " .. q(proc.bin("staller")) .. " --call openat")
    assert.equal(0, code, err)
    assert.matches("handler: the caller's memory did not answer within 1000 ms", err)
    assert.matches("our openat returned %-1 %(Permission denied%)", err)
  end)

  -- Stall after stall (a new userfaultfd each time, held for good): each read given up
  -- on leaves a thread stuck in sxlua, and at most 8 are kept; past them reads fail at
  -- once (the kills go on, reported with the pointers).
  it("keeps at most 8 threads stuck in reads of a workload that stalls read after read", function()
    if not io.open("/dev/userfaultfd") then return pending("no /dev/userfaultfd here") end
    local deny = p([[return require("sx.seccomp").deny_list({ "mount" }, { deny_action = "kill_process" })]])
    local code, out, err = proc.run("cd / && timeout -s KILL 60 " .. proc.SXLUA .. " " ..
      q(deny) .. " -- " .. q(proc.bin("staller")) .. " --pile 12")
    assert.equal(0, code, err)
    local threads = tonumber(out:match("sxlua threads (%d+)"))
    assert.is_true(threads and threads <= 1 + 8 + 1, out .. err)     -- (+1: the stderr writer)
    assert.equal(12, select(2, err:gsub("killed: mount%(", "")), err)
  end)

  -- A root workload keeping CAP_SYS_ADMIN reads sxlua's /proc/PID/maps (a documented
  -- limit): it may learn where the gate's pointers lie. The gate also matches three random
  -- keys in the registers the kernel ignores for execve and sendmsg (args 3..5), which
  -- never sit in memory the workload can read: the agent's own pointers without them
  -- get the filter's action (attacks/gate_arches.c in the emulator, every x86_64 ABI).
  it("lets no execve or sendmsg through its gate without the keys, even with its pointers", function()
    local out = assert(io.popen(q(proc.bin("gate_arches")))):read("a")
    local passed = {}
    for what, verdict in out:gmatch("([^\n]-)%s+(%u+) %([^)]*%)\n") do
      if verdict == "ALLOW" then passed[#passed + 1] = what end
    end
    assert.same({ "x86_64 execve, gate pointers", "x86_64 sendmsg, gate message",
                  "send only: x86_64 sendmsg, gate message" }, passed)
    assert.matches("x86_64 execve, pointers, no keys%s+body", out)
    assert.matches("x86_64 sendmsg, message, no keys%s+body", out)
    -- the terminal guard refuses TIOCSTI and TIOCLINUX from every ABI, however dressed
    -- (x32's compat ioctl reads cmd's low 32 bits)
    assert.matches("x32 ioctl TIOCSTI, high bits%s+EPERM", out)
    local guarded = select(2, out:gsub("EPERM %(guard%)", ""))
    assert.equal(7, guarded, out)
    -- the calls the agent traces a first filter with before leaving the guard out: each
    -- ABI and request the guard refuses (3 x 2), every one refused by it
    assert.matches("guarded calls listed: 6, refused by the guard: 6\n", out)
  end)

  -- The gate opens for sendmsg only where the workload hands a listener over: under the
  -- filter that notifies and the filters before it, installed by then. A filter after it,
  -- or any filter of a plan where none notifies (supervision asked for, nothing to
  -- notify), keeps sendmsg as its policy says. Read back from the kernel.
  it("opens its sendmsg door only in the filters a listener is handed over under", function()
    local seccomp = require "sx.seccomp"
    local EPERM = seccomp.errno "EPERM"
    local function jeq(nr) return ("^15,%%x+,%%x+,%x$"):format(nr) end
    local EXECVE, SENDMSG = jeq(seccomp.syscall_number("execve")), jeq(seccomp.syscall_number("sendmsg"))
    local function denying_sendmsg(rule)         -- no kill: the bad arch gets EPERM too
      return assert(seccomp.from_rules({ { EPERM, "sendmsg" }, rule }, "allow", { bad_arch = EPERM }))
    end
    -- the plan's filters as installed, after the terminal guard: where a door is, the
    -- calls its gate tests ("execve sendmsg", or "sendmsg" where the filter allows the
    -- agent's execve itself); false where none is
    local function doors(opts, filters)
      local lines, out = installed(opts, filters)
      local found = {}
      for _, line in ipairs(lines) do
        local insns = {}
        for insn in line:gmatch("%S+") do insns[#insns + 1] = insn end
        local door = false                       -- ld nr; [jeq execve;] jeq sendmsg
        if insns[1] == "20,0,0,0" and insns[2]:match(SENDMSG) then door = "sendmsg"
        elseif insns[1] == "20,0,0,0" and insns[2]:match(EXECVE) and insns[3]:match(SENDMSG) then
          door = "execve sendmsg"
        end
        found[#found + 1] = door
      end
      assert.equal(#filters + 1, #found, out)
      table.remove(found, 1)
      return found, out:match("\n([^\n]+)\n$")
    end
    local function as_listed(bpf)                -- f.bpf in filters_of's words
      local words = {}
      for at = 1, #bpf, 8 do words[#words + 1] = ("%x,%x,%x,%x"):format(("<I2I1I1I4"):unpack(bpf, at)) end
      return table.concat(words, " ")
    end
    local SLEEP = { "/bin/sleep", "10" }
    assert.same({ false }, doors({ argv = SLEEP, supervise = "kills" }, { denying_sendmsg() }))
    local f = denying_sendmsg()
    local found, last = doors({ argv = SLEEP }, { f })
    assert.same({ false }, found)
    assert.equal(as_listed(f.bpf), last)         -- execve allowed: no gate, the program itself
    assert.same({ "sendmsg", "sendmsg", false }, doors({ argv = SLEEP }, {
      denying_sendmsg(), denying_sendmsg({ "notify", "mkdir" }), denying_sendmsg() }))
    assert.same({ "execve sendmsg" }, doors({ argv = SLEEP }, {
      assert(seccomp.from_rules({ { EPERM, "sendmsg" }, { EPERM, "execve" }, { "notify", "mkdir" } },
                                "allow", { bad_arch = EPERM })) }))
    -- A filter whose listener the kernel refuses falls back to its plain version only when
    -- no filter before it opened its door for the handover (the C API's proceed, notifying
    -- kills in a stack, on a kernel before 5.19): else the plan fails, nothing runs.
    local code, out = proc.run(q(proc.bin("before_5_19")) .. " " .. proc.shell_quote(os.getenv("SX_LUA") or "lua5.4") ..
      [[ -e 'local process, seccomp = require "sx.process", require "sx.seccomp"
        local E = seccomp.errno "EPERM"
        local p = assert(process.spawn { argv = { "/bin/true" } })
        assert(p:install(assert(seccomp.from_rules({ { E, "sendmsg" } }, "allow", { bad_arch = E }))))
        assert(p:install(assert(seccomp.from_rules({ { E, "sendmsg" }, { "kill_process", "mkdir" } },
                                                   "allow", { bad_arch = E }))))
        print(p._h:proceed(require("sx.process_core").notify.kill))']])
    if code ~= 77 then
      assert.equal(0, code, out)
      assert.matches("^nil\tinstall_failed\t22\t", out)
    end
  end)

  -- The gate leaves out its test of the agent's execve where the filter allows that call
  -- itself, as the emulator finds with instruction_pointer 0; a filter whose answer to
  -- it reads the pointer (raw BPF) keeps the test, or the real call would get EACCES.
  it("keeps its execve test where the filter's answer reads the instruction pointer", function()
    local seccomp, process = require "sx.seccomp", require "sx.process"
    local function I(code, jt, jf, k) return ("<I2I1I1I4"):pack(code, jt, jf, k) end
    local EPERM, EACCES = 0x00050001, 0x0005000d
    local bpf = table.concat {
      I(0x20, 0, 0, 0),                                   -- ld nr
      I(0x15, 4, 0, seccomp.syscall_number("sendmsg")),   -- errno(EPERM): a door
      I(0x15, 0, 2, seccomp.syscall_number("execve")),    -- else allow
      I(0x20, 0, 0, 8),                                   -- ld instruction_pointer
      I(0x15, 0, 1, 0),                                   -- 0: allow, else EACCES
      I(0x06, 0, 0, 0x7fff0000),
      I(0x06, 0, 0, EACCES),
      I(0x06, 0, 0, EPERM),
    }
    local p = assert(process.spawn { argv = { "/bin/true" } })
    assert(p:install(assert(seccomp.load(bpf, "x86_64"))))
    assert(p:install(assert(seccomp.from_rules({ { "notify", "mkdir" } }, "allow"))))
    assert(p:proceed())
    assert.same({ "exited", 0 }, { p:wait() })
  end)

  -- The kernel starts a filter with A = 0, and a raw filter may read A before it loads
  -- anything. The gate's prologue left its last load in A: the syscall number, or, for an
  -- execve that missed the keys, the workload's own argument word. Here the filter kills
  -- execve only when A starts at 0 (review: a shell's exec ran under this policy).
  it("hands the filter behind its gate A = 0, as the kernel does", function()
    local seccomp, process = require "sx.seccomp", require "sx.process"
    local function I(code, jt, jf, k) return ("<I2I1I1I4"):pack(code, jt, jf, k) end
    local f = assert(seccomp.load(table.concat {
      I(0x15, 1, 0, 0),                                   -- jeq #0 (A as the kernel starts it)
      I(0x06, 0, 0, 0x7fff0000),                          -- else allow
      I(0x20, 0, 0, 0),                                   -- ld nr
      I(0x15, 0, 1, seccomp.syscall_number("execve")),
      I(0x06, 0, 0, 0x80000000),                          -- execve: kill_process
      I(0x06, 0, 0, 0x7fff0000) }, "x86_64"))
    assert.equal("kill_process", (f:eval("execve", { 1 })))
    for _, mode in ipairs { false, "kills", "denials" } do
      local p = assert(process.spawn { argv = { proc.bin("sxtry"), tostring(seccomp.syscall_number("execve")), "1" },
                                       supervise = mode })
      assert(p:install(f))
      assert(p:proceed())
      assert.same({ "signaled", process.signals.SYS }, { p:wait() }, tostring(mode))
    end
  end)

  -- Supervised, behind the gate (execve and the handover's sendmsg both tested: the policy
  -- allows neither), with its kills turned into notifications: every call the policy
  -- leaves to the constant-action cache stays there, as read back from the kernel.
  it("keeps every call the policy allows eligible for the kernel's cache, behind its gate", function()
    local seccomp, core = require "sx.seccomp", require "sx.core"
    local names = { "read", "write", "close", "mmap", "mprotect", "munmap", "brk", "pread64",
                    "access", "arch_prctl", "set_tid_address", "openat", "newfstatat",
                    "set_robust_list", "prlimit64", "rseq", "exit_group", "getrandom",
                    "rt_sigprocmask", "clock_nanosleep", "futex", "fstat", "lseek" }
    local f = assert(seccomp.allow_list(names))
    local lines, listed = installed({ argv = { "/bin/sleep", "10" }, supervise = "kills" }, { f })
    local plan, audit = as_bpf(lines[#lines]), core.audit("x86_64")
    assert.is_true(#plan > #f.bpf + 8 * 40, listed)           -- the gate is there
    local eligible = 0
    for nr = 0, 471 do
      if f:cache_eligible(nr) then
        eligible = eligible + 1
        assert.is_true(core.cache_eligible(plan, audit, nr), "syscall " .. nr .. ": " .. listed)
      end
    end
    assert.equal(#names, eligible)
  end)

  -- Root keeps CAP_PERFMON: CPU-wide perf events sample sxlua's registers and user stack
  -- whenever it runs (supervising), from outside its reach otherwise. The calls that built
  -- the gate left its keys in stack slots that later calls' locals reuse; once the workload
  -- has exec'd, sxlua zeroes that stack and every copy of the keys it kept.
  it("leaves no gate key where a root workload's perf sampling of sxlua finds it", function()
    local bin = proc.bin("perf_keys")
    if not io.open(bin) then return pending("perf_keys is built on x86_64 only") end
    for _, flag in ipairs{ "", "--no-pid-namespace " } do
      local code, out = sxlua("root", flag .. q(p(FINDING_1)) .. " -- " .. q(bin) .. " 2>/dev/null")
      if code == 2 then return pending("perf_event_open refused here: " .. out) end
      assert.equal(0, code, out)
      assert.is_nil(out:find("PASSED"), out)
      local of_sxlua = tonumber(out:match("of sxlua's stack (%d+)"))
      assert.is_true(of_sxlua and of_sxlua > 100, out)   -- it did sample sxlua's stack
    end
  end)

  -- The gate's keys are in the workload's filter, which host root reads back
  -- (spec-bin/filters_of: the prologue compares args 3..5 word by word). Once the workload
  -- has exec'd, no copy of them may be left anywhere in sxlua's memory (the reaper shares
  -- it): not in the plan, the stacks, the children's stacks or the gate's pages.
  it("keeps no copy of the gate's keys anywhere in its memory once the workload has exec'd", function()
    local bin = proc.bin("filters_of")
    -- The 64-bit words a filters_of line compares args 3..5 with (x86_64's word order).
    local function keys_of(out)
      local keys, lo = {}, {}
      for line in out:gmatch("[^\n]+") do
        local words = {}
        for w in line:gmatch("%S+") do words[#words + 1] = w end
        for i = 1, #words - 1 do
          local code, k = words[i]:match("^(%x+),%x+,%x+,(%x+)$")
          local jcode, jk = words[i + 1]:match("^(%x+),%x+,%x+,(%x+)$")
          local off, value = tonumber(k, 16), tonumber(jk, 16)
          if code == "20" and jcode == "15" and off >= 0x28 and off < 0x40 then
            if off % 8 == 0 then lo[off] = value
            elseif lo[off - 4] then keys[#keys + 1] = lo[off - 4] | value << 32 end
          end
        end
      end
      return keys
    end
    -- How many of `keys` the memory of process `pid` holds, in every mapping it can read.
    local function copies(pid, keys)
      local mem, found = assert(io.open("/proc/" .. pid .. "/mem", "rb")), 0
      for line in io.lines("/proc/" .. pid .. "/maps") do
        local lo, hi, perms, rest = line:match("^(%x+)-(%x+) (%S+) %S+ %S+ %S+%s*(.*)$")
        if perms:sub(1, 1) == "r" and not rest:match("^%[v") then
          local from, to = tonumber(lo, 16), tonumber(hi, 16)
          local data = mem:seek("set", from) and mem:read(to - from)
          for _, key in ipairs(keys) do
            if data and data:find(("<I8"):pack(key), 1, true) then found = found + 1 end
          end
        end
      end
      mem:close()
      return found
    end
    local function first_child(pid)
      return tonumber((proc.read(("/proc/%d/task/%d/children"):format(pid, pid)) or ""):match("%d+"))
    end
    for _, flag in ipairs{ "", "--no-pid-namespace " } do
      local pidfile = proc.tmpname()
      os.execute(("sh -c 'echo $$ > %s; exec %s %s%s -- /bin/sleep 10' >/dev/null 2>&1 &"):format(
        q(pidfile), proc.SXLUA, flag, q(p(FINDING_1))))
      local sx, workload
      assert.is_true(proc.eventually(function()
        sx = tonumber(proc.read(pidfile) or "")
        if not sx then return false end
        workload = first_child(sx)
        if flag == "" and workload then workload = first_child(workload) end
        return workload and (proc.read("/proc/" .. workload .. "/comm") or "") == "sleep\n"
      end), "the workload did not start")
      local code, out, err = proc.run(q(bin) .. " " .. workload)
      assert.equal(0, code, err)
      local keys = keys_of(out)
      assert.is_true(#keys >= 3, out)       -- execve's three at least
      local gone = proc.eventually(function() return copies(sx, keys) == 0 end, 5)
      os.execute("kill -KILL " .. sx)
      os.remove(pidfile)
      assert.is_true(gone, flag .. "a key is still in sxlua's memory after the exec")
    end
  end)

  -- The memory a spawn's children used is kept for the next spawn (sx_agent.h: struct
  -- sx_agent_spare). What they left on their stacks (registers they saved) and the gate's
  -- copies must not outlive their spawn; and a fork of the caller must not share a page of
  -- it with the original (a proceed in one woke the other's parked workload, which then
  -- ran without its filters, when the report page was a shared mapping: review).
  it("zeroes every page a spawn's children wrote before it keeps their memory, and shares none with a fork", function()
    local code, out = proc.run("timeout 120 " .. q(proc.bin("spare_check")))
    assert.equal(0, code, out)
    assert.equal("ok\n", out)
  end)

  describe("when sxlua is killed", function()
    local DENY_EXEC = [[return require("sx.seccomp").deny_list({ "execve", "execveat" },
                                                            { deny_action = "kill_process" })]]

    -- sxlua (as `user`) runs the survivor; returns the dir, sxlua's pid and the two pids
    -- the survivor wrote.
    local function start(user, flag)
      local dir = proc.tmpname()
      os.execute("mkdir -m 777 " .. q(dir))
      os.execute(("sh -c 'echo $$ > %s; exec %s%s %s%s -- %s %s' >/dev/null 2>&1 &"):format(
        q(dir .. "/sxlua"), user_words(user), proc.SXLUA, flag, q(p(DENY_EXEC)),
        q(proc.bin("survivor")), q(dir)))
      assert.is_true(proc.eventually(function()
        return proc.read(dir .. "/parent") and proc.read(dir .. "/child")
      end), "the survivor did not start")
      local pids = {}
      for _, who in ipairs{ "parent", "child" } do pids[#pids + 1] = tonumber(proc.read(dir .. "/" .. who)) end
      return dir, tonumber(proc.read(dir .. "/sxlua")), pids
    end

    local function all_gone(pids)
      return proc.eventually(function()
        for _, pid in ipairs(pids) do
          if proc.pid_state(pid) == "alive" then return false end
        end
        return true
      end)
    end

    for _, user in ipairs{ "root", "nobody" } do
      it("takes the whole tree with it, also what cleared its parent-death signal (" .. user .. ")", function()
        local dir, sxlua_pid, pids = start(user, "")
        assert.equal("alive", proc.pid_state(pids[1]))
        assert(os.execute("kill -KILL " .. sxlua_pid))
        assert.is_true(all_gone(pids))
        os.execute("rm -rf " .. q(dir))
      end)
    end

    it("without a PID namespace, leaves survivors that can exec nothing", function()
      local dir, sxlua_pid, pids = start("nobody", "--no-pid-namespace ")
      assert(os.execute("kill -KILL " .. sxlua_pid))
      assert.equal("gone", proc.eventually(function() return proc.pid_state(sxlua_pid) == "gone" end)
                           and "gone")
      for _, pid in ipairs(pids) do assert.equal("alive", proc.pid_state(pid)) end
      for _, pid in ipairs(pids) do os.execute("kill -USR1 " .. pid) end   -- now exec
      assert.is_true(all_gone(pids))               -- killed by the filter, no supervisor needed
      assert.is_nil(proc.read(dir .. "/ran"))
      os.execute("rm -rf " .. q(dir))
    end)
  end)

  it("refuses to run when it cannot make a PID namespace, and says how to go without", function()
    -- an outer sxlua denies the inner one (nobody) the user namespace it would need
    local outer = p([[
      local seccomp = require "sx.seccomp"
      return { filter = seccomp.deny_list{ "unshare" }, pid_namespace = false }
    ]])
    local inner = p([[return require("sx.seccomp").deny_list({ "execve" }, { deny_action = "kill_process" })]])
    local code, _, err = sxlua("root", q(outer) .. " -- " .. user_words("nobody") ..
                               proc.SXLUA .. " " .. q(inner) .. " -- /bin/true")
    assert.equal(125, code)
    assert.matches("cannot make a PID namespace", err)
    assert.matches("%-%-no%-pid%-namespace", err)
    code = sxlua("root", q(outer) .. " -- " .. user_words("nobody") .. proc.SXLUA ..
                 " --no-pid-namespace " .. q(inner) .. " -- /bin/true")
    assert.equal(0, code)
  end)
end)

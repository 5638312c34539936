-- The doors a filter cannot follow: a policy that stops socket(), semctl(), ... on i386,
-- ppc64le or s390x but lets socketcall or ipc through, stops openat(), connect(), ...
-- anywhere but lets io_uring_setup through, or stops execve but not execveat, is warned
-- about. (This kernel has no i386 emulation: there the filters' answers are read in the
-- emulator; io_uring and execveat run here.)
local seccomp = require "sx.seccomp"
local doors = require "sx.doors"
local core = require "sx.core"
local action = require "sx.action"
local proc = require "support.proc"

local q = proc.shell_quote

local function rules(list, default, arches)
  return assert(seccomp.from_rules(list, default or "allow", { arches = arches or { "x86_64", "i386" } }))
end

-- The gaps through socketcall and ipc alone (these policies let io_uring in too).
local function subcall_gaps(filters)
  local out = {}
  for _, g in ipairs(doors.gaps(filters)) do
    if g.mux ~= "io_uring" then out[#out + 1] = g end
  end
  return out
end

describe("sx.doors", function()
  it("finds calls a deny list stops that their multiplexer still makes", function()
    local f = assert(seccomp.deny_list({ "socket", "connect", "shmget" },
                                       { arches = { "x86_64", "i386" } }))
    -- what the warning says is what the filter does
    assert.equal("allow", f:eval("socketcall", { 1, 0 }, "i386"))
    assert.equal("errno(EPERM)", tostring(f:eval("socket", { 2, 1 }, "i386")))
    local gaps = subcall_gaps(f)
    assert.equal(2, #gaps)
    assert.same({ "i386", "socketcall", { "socket", "connect" }, { 1, 3 } },
                { gaps[1].arch, gaps[1].mux, gaps[1].names, gaps[1].calls })
    assert.same({ "i386", "ipc", { "shmget" }, { 23 } },
                { gaps[2].arch, gaps[2].mux, gaps[2].names, gaps[2].calls })
    assert.equal("allow", gaps[1].mux_action)
    assert.equal("errno(EPERM)", tostring(gaps[1].action))
    assert.matches("on i386 the policy answers socket, connect with errno%(EPERM%), but " ..
                   "socketcall with arg0 1, 3 gets allow", doors.warning(gaps[1]))
    assert.matches("doors_spec.lua:%d+$", gaps[1].where)
  end)

  it("finds none where the multiplexer is stopped too, or the arch has none", function()
    assert.same({}, subcall_gaps(assert(seccomp.deny_list({ "socket", "socketcall" },
                                                               { arches = { "x86_64", "i386" } }))))
    assert.same({}, subcall_gaps(assert(seccomp.deny_list({ "socket" }, { arches = { "x86_64" } }))))
    assert.same({}, subcall_gaps(assert(seccomp.deny_list({ "socket" }, { arches = { "aarch64", "arm" } }))))
    -- socketcall stopped where arg0 is SYS_SOCKET only: connect's gap stays
    local f = rules({ { "errno(EPERM)", "socket" }, { "errno(EPERM)", "connect" },
                      { "errno(EPERM)", "socketcall", { { index = 0, op = "eq", value = 1 } } } })
    local gaps = subcall_gaps(f)
    assert.equal(1, #gaps)
    assert.same({ "connect" }, gaps[1].names)
  end)

  it("counts the default under conditional rules, and not log", function()
    -- an allow list: socket for AF_UNIX only, socketcall not named: both killed otherwise
    local tight = rules({ { "allow", "socket", { { index = 0, op = "eq", value = 1 } } } }, "kill_process")
    assert.same({}, subcall_gaps(tight))
    -- socketcall allowed outright: any family through it
    local wide = rules({ { "allow", "socket", { { index = 0, op = "eq", value = 1 } } }, { "allow", "socketcall" } },
                       "kill_process")
    local gaps = subcall_gaps(wide)
    assert.equal(1, #gaps)
    assert.same({ "socket" }, gaps[1].names)
    assert.equal("kill_process", gaps[1].action)
    assert.equal(wide.where, gaps[1].where)         -- the default's line decides there
    assert.same({}, subcall_gaps(rules({ { "log", "socket" } })))
  end)

  it("reads ipc's call on its low 16 bits, as the kernel does", function()
    -- ipc denied where arg0 is exactly SEMCTL: ipc(SEMCTL | 1 << 16) still gets through
    local exact = rules({ { "errno(EPERM)", "semctl" }, { "errno(EPERM)", "ipc", { { index = 0, op = "eq", value = 3 } } } })
    assert.equal("allow", exact:eval("ipc", { 3 | 0x10000, 0 }, "i386"))
    assert.equal(1, #subcall_gaps(exact))
    local masked = rules({ { "errno(EPERM)", "semctl" },
                           { "errno(EPERM)", "ipc", { { index = 0, op = "masked_eq", mask = 0xffff, value = 3 } } } })
    assert.same({}, subcall_gaps(masked))
  end)

  it("looks at the whole stack: another filter may stop the multiplexer", function()
    local deny = assert(seccomp.deny_list({ "socket" }, { arches = { "x86_64", "i386" } }))
    local no_mux = assert(seccomp.deny_list({ "socketcall" }, { arches = { "x86_64", "i386" } }))
    assert.equal(1, #subcall_gaps({ deny }))
    assert.same({}, subcall_gaps({ deny, no_mux }))
    -- a filter of the stack built for x86_64 alone kills every i386 call: nothing gets through
    local native = assert(seccomp.deny_list({ "acct" }, { arches = { "x86_64" } }))
    assert.same({}, subcall_gaps({ deny, native }))
    -- raw BPF is run as the kernel runs it, whatever arch it was loaded for: this one
    -- kills every i386 call (the kernel gives it i386's audit arch), another answers them
    local raw = assert(seccomp.load(native.bpf, "x86_64"))
    assert.equal("kill", action.kind((core.emulate(raw.bpf, core.audit("i386"), 102, 1, 0, 0, 0, 0, 0))))
    assert.same({}, subcall_gaps({ deny, raw }))
    for _, g in ipairs(doors.gaps({ deny, raw })) do assert.equal("x86_64", g.arch) end
    local both = assert(seccomp.load(assert(seccomp.deny_list({ "acct" },
                                                             { arches = { "x86_64", "i386" } })).bpf, "x86_64"))
    assert.equal(1, #subcall_gaps({ deny, both }))
  end)

  it("is what sxlua warns about, at the rule's line, on a run and with --check", function()
    local path = proc.tmpname() .. ".lua"
    proc.write(path, "local seccomp = require 'sx.seccomp'\n" ..
                     "return seccomp.deny_list({ 'socket', 'io_uring_setup' },\n" ..
                     "  { arches = { 'x86_64', 'i386' } })\n")
    local code, out, err = proc.run("cd / && " .. proc.SXLUA .. " --check " .. q(path))
    assert.equal(0, code)
    assert.matches("^filter 1:", out)
    assert.equal(("sxlua: %s:2: warning: on i386 the policy answers socket with errno(EPERM), " ..
                  "but socketcall with arg0 1 gets allow: a program makes that call through " ..
                  "socketcall, whose other arguments no filter can read; deny socketcall too " ..
                  "(where arg0 is the call's number)\n"):format(path), err)
    code, out, err = proc.run("cd / && " .. proc.SXLUA .. " " .. q(path) .. " -- echo ran")
    assert.equal(0, code)
    assert.equal("ran\n", out)
    assert.matches("warning: on i386 the policy answers socket", err)
    -- for x86_64 alone, nothing
    proc.write(path, "return require('sx.seccomp').deny_list({ 'socket', 'io_uring_setup' })\n")
    code, _, err = proc.run("cd / && " .. proc.SXLUA .. " --check " .. q(path))
    assert.equal(0, code)
    assert.equal("", err)
    os.remove(path)
  end)

  it("is what sxlua bpf and summary warn about, for Docker's own profile too", function()
    local path = proc.tmpname() .. ".lua"
    proc.write(path, "return require('sx.seccomp').deny_list({ 'shmget', 'io_uring_setup' },\n" ..
                     "  { arches = { 's390x' } })\n")
    local out = proc.tmpname()
    local code, _, err = proc.run(proc.SXLUA .. " bpf -o " .. q(out) .. " " .. q(path))
    assert.equal(0, code)
    assert.matches("^sxlua: " .. path:gsub("%p", "%%%0") .. ":1: warning: on s390x the policy " ..
                   "answers shmget with errno%(EPERM%), but ipc with arg0 23 gets allow", err)
    code, _, err = proc.run(proc.SXLUA .. " summary " .. q(path))
    assert.equal(0, code)
    assert.matches("warning: on s390x", err)
    os.remove(path)
    os.remove(out)
    -- Docker's profile denies socket(AF_ALG) and socket(AF_VSOCK) but allows socketcall
    -- outright: on i386 both families are a socketcall away (libseccomp's filter as well)
    local docker = proc.source .. "/spec/fixtures/docker-default.json"
    code, _, err = proc.run(proc.SXLUA .. " summary --oci " .. q(docker))
    assert.equal(0, code)
    assert.equal(("sxlua: %s: warning: on i386 the policy answers socket with errno(EPERM), " ..
                  "but socketcall with arg0 1 gets allow: a program makes that call through " ..
                  "socketcall, whose other arguments no filter can read; deny socketcall too " ..
                  "(where arg0 is the call's number)\n"):format(docker), err)
  end)

  it("finds what io_uring does that the policy stops, by rule or by default", function()
    local x86 = { arch = "x86_64" }
    local f = assert(seccomp.deny_list({ "connect", "open", "creat", "openat", "openat2", "open_by_handle_at", "acct" }, x86))
    local gaps = doors.gaps(f)
    assert.equal(1, #gaps)
    assert.same({ "x86_64", "io_uring", { "open", "creat", "openat", "openat2", "connect" } },
                { gaps[1].arch, gaps[1].mux, gaps[1].names })
    assert.equal("allow", gaps[1].mux_action)
    -- an operation is a way round only where every syscall doing the same is stopped:
    -- open allowed, openat denied opens files anyway
    gaps = doors.gaps(assert(seccomp.deny_list({ "connect", "openat" }, x86)))
    assert.same({ "connect" }, gaps[1].names)
    -- io_uring_setup stopped too: nothing to say
    assert.same({}, doors.gaps(assert(seccomp.deny_list({ "connect", "io_uring_setup" }, x86))))
    -- an allow list that lets io_uring in: the operations its default stops, and not
    -- futex_wait where futex is allowed
    local list = assert(seccomp.allow_list({ "read", "futex", "io_uring_setup", "io_uring_enter" }, x86))
    gaps = doors.gaps(list)
    assert.equal(1, #gaps)
    assert.equal("kill_process", gaps[1].action)
    assert.is_true(#gaps[1].names > 40)
    for _, name in ipairs(gaps[1].names) do
      local listed = false
      for _, op in ipairs(doors.URING_OPS) do
        for _, n in ipairs(op) do listed = listed or n == name end
      end
      assert.is_true(listed, name)
      assert.is_nil(({ read = true, pread64 = true, futex = true, futex_wait = true })[name], name)
    end
    assert.matches("answers [%w_, ]+ and %d+ more with kill_process, but io_uring_setup gets allow",
                   doors.warning(gaps[1]))
    -- every arch of a filter that says the same is named in one warning
    gaps = doors.gaps(assert(seccomp.deny_list({ "connect" }, { arches = { "x86_64", "aarch64" } })))
    assert.equal(1, #gaps)
    assert.equal("x86_64, aarch64", gaps[1].arch)
  end)

  it("is true of the real kernel: io_uring opens what the filter denies openat", function()
    if proc.read("/proc/sys/kernel/io_uring_disabled"):match("^[12]") then
      return pending("io_uring is disabled here (kernel.io_uring_disabled)")
    end
    local openat = seccomp.syscall_number("openat")
    local path = proc.tmpname() .. ".lua"
    local secret = proc.tmpname()
    proc.write(secret, "read through io_uring\n")
    local function write_policy(extra)
      proc.write(path, "local seccomp = require 'sx.seccomp'\n" ..
                       "return seccomp.from_rules({\n" ..
                       "  { 'errno(EACCES)', 'openat', { { index = 2, op = 'eq', value = 0 } } },\n" ..
                       "  { 'errno(EACCES)', 'open' }, { 'errno(EACCES)', 'creat' },\n" ..
                       "  { 'errno(EACCES)', 'openat2' }, { 'errno(EACCES)', 'open_by_handle_at' },\n" ..
                       extra .. "}, 'allow')\n")
    end
    -- openat with flags 0 is refused (the loader's O_RDONLY | O_CLOEXEC is not)
    write_policy("")
    local code, out, err = proc.run("cd / && " .. proc.SXLUA .. " " .. q(path) .. " -- " ..
                                    q(proc.bin("sxtry")) .. " " .. openat .. " -100 0 0")
    assert.equal(13, code, err)
    assert.matches(":2: warning: on " .. seccomp.arch() .. " the policy answers [%w, ]*openat[%w, ]* " ..
                   "with errno%(EACCES%), but io_uring_setup gets allow", err)
    -- ... and IORING_OP_OPENAT with flags 0 opens the file all the same
    code, out, err = proc.run("cd / && " .. proc.SXLUA .. " " .. q(path) .. " -- " ..
                              q(proc.bin("uring_open")) .. " " .. q(secret))
    assert.equal(0, code, err)
    assert.equal("read through io_uring\n", out)
    -- io_uring_setup denied as well: the door is shut, and nothing is said
    write_policy("  { 'errno(EPERM)', 'io_uring_setup' },\n")
    code, out, err = proc.run("cd / && " .. proc.SXLUA .. " " .. q(path) .. " -- " ..
                              q(proc.bin("uring_open")) .. " " .. q(secret))
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal("uring_open: io_uring_setup: Operation not permitted\n", err)
    os.remove(path)
    os.remove(secret)
  end)

  it("finds siblings a rule forgot: execveat beside execve, setresuid beside setuid", function()
    local x86 = { arch = "x86_64", deny_action = "kill_process" }
    local gaps = doors.gaps(assert(seccomp.deny_list({ "execve", "setuid", "io_uring_setup" }, x86)))
    assert.equal(2, #gaps)
    assert.same({ "sibling", { "execve" }, { "execveat" }, "kill_process", "allow" },
                { gaps[1].kind, gaps[1].names, gaps[1].siblings, gaps[1].action, gaps[1].mux_action })
    assert.same({ "setreuid", "setresuid", "setfsuid" }, gaps[2].siblings)
    assert.equal("warning: on x86_64 the policy answers execve with kill_process, but execveat " ..
                 "gets allow: a program does the same through it; give it a rule as strict",
                 doors.warning(gaps[1]))
    -- the whole family stopped: nothing to say
    assert.same({}, doors.gaps(assert(seccomp.deny_list({ "execve", "execveat", "io_uring_setup" }, x86))))
    -- a sibling with rules of its own that stop something was thought of: not counted
    local both = rules({ { "errno(EPERM)", "kill", { { index = 1, op = "eq", value = 9 } } },
                         { "errno(EPERM)", "tgkill", { { index = 2, op = "eq", value = 9 } } },
                         { "errno(EPERM)", "io_uring_setup" } }, "allow", { "x86_64" })
    gaps = doors.gaps(both)
    assert.equal(1, #gaps)
    assert.same({ "kill", "tgkill" }, gaps[1].names)
    assert.same({ "tkill", "pidfd_send_signal", "rt_sigqueueinfo", "rt_tgsigqueueinfo" }, gaps[1].siblings)
    -- an allow list's default is no rule: a call it lacks while a sibling is listed is fine
    assert.same({}, doors.gaps(assert(seccomp.allow_list({ "execveat", "read" }, { arch = "x86_64" }))))
    -- an allow list's own rule stopping execve beside execveat allowed: a gap, which
    -- summary finds (a run does not look: its default stops calls)
    local odd = rules({ { "allow", "execveat" }, { "allow", "read" }, { "errno(EPERM)", "execve" } },
                      "kill_process", { "x86_64" })
    assert.same({ "execveat" }, doors.gaps(odd)[1].siblings)
    local path = proc.tmpname() .. ".lua"
    proc.write(path, "return require('sx.seccomp').from_rules({ { 'allow', 'execveat' },\n" ..
                     "  { 'errno(EPERM)', 'execve' } }, 'kill_process')\n")
    local code, _, err = proc.run(proc.SXLUA .. " summary " .. q(path))
    assert.equal(0, code)
    assert.matches(":1: warning: on [%w_]+ the policy answers execve with errno%(EPERM%), but " ..
                   "execveat gets allow", err)
    os.remove(path)
    -- another filter of the stack stopping the sibling closes it
    local exec = assert(seccomp.deny_list({ "execve", "io_uring_setup" }, x86))
    local execat = assert(seccomp.deny_list({ "execveat" }, x86))
    assert.equal(1, #doors.gaps({ exec }))
    assert.same({}, doors.gaps({ exec, execat }))
  end)

  it("is true of the real kernel: execveat runs where a rule kills execve", function()
    local f = assert(seccomp.deny_list({ "execve", "io_uring_setup" }, { deny_action = "kill_process" }))
    -- in a child under the filter, each with a NULL path: execve is killed, execveat
    -- runs and fails with EFAULT, as it would unfiltered
    local execve, execveat = seccomp.syscall_number("execve"), seccomp.syscall_number("execveat")
    assert.same({ "signaled", 31 }, { core.probe(f.bpf, execve, 0, 0, 0, 0, 0, 0) })
    assert.same({ "errno", 14 }, { core.probe(f.bpf, execveat, -100, 0, 0, 0, 0, 0) })
  end)

  it("has the compiler give a number no arch has the default, as sxlua's check reads it", function()
    for _, arch in ipairs({ "x86_64", "i386", "x32", "aarch64", "arm", "riscv64", "s390x", "ppc64le" }) do
      for _, default in ipairs({ "allow", "kill_process", "errno(EPERM)" }) do
        local f = assert(seccomp.from_rules({ { "trap", "read" } }, default, { arch = arch }))
        local nr = arch == "x32" and 0x40000000 | 1023 or 1023
        assert.equal(tostring(action.canonical(action.value(default))),
                     tostring(action.canonical(core.emulate(f.bpf, core.audit(arch), nr, 8, 0, 0, 0, 0, 0))),
                     arch .. " " .. default)
      end
    end
  end)

  it("takes errno(ENOSYS) for the fallback it is, not a stop a sibling undoes", function()
    local x86 = { arch = "x86_64" }
    local f = assert(seccomp.from_rules({ { "errno(ENOSYS)", "openat2" }, { "errno(ENOSYS)", "statx" },
                                          { "errno(ENOSYS)", "clone3" }, { "errno(EPERM)", "io_uring_setup" } },
                                        "allow", x86))
    assert.same({}, doors.gaps(f))
    -- another errno is a stop, and its sibling a door
    local g = assert(seccomp.from_rules({ { "errno(EPERM)", "execve" }, { "errno(EPERM)", "io_uring_setup" } },
                                        "allow", x86))
    assert.same({ "execveat" }, doors.gaps(g)[1].siblings)
  end)

  it("has a run look where io_uring_setup passes for some ring sizes only", function()
    local path = proc.tmpname() .. ".lua"
    -- an allow list: the precheck must find io_uring let through for a ring of 1
    proc.write(path, "return require('sx.seccomp').from_rules({ { 'allow', 'read' },\n" ..
                     "  { 'allow', 'io_uring_setup', { { index = 0, op = 'eq', value = 1 } } } },\n" ..
                     "  'kill_process')\n")
    local code, _, err = proc.run(proc.SXLUA .. " --check " .. q(path))
    assert.equal(0, code)
    assert.matches("warning: on [%w_]+ the policy answers [%w_, ]+ and %d+ more with kill_process, " ..
                   "but io_uring_setup gets allow", err)
    os.remove(path)
  end)

  it("is what sxlua export warns about, socketcall aside (runc's libseccomp copies it)", function()
    local path = proc.tmpname() .. ".lua"
    proc.write(path, "return require('sx.seccomp').deny_list({ 'connect', 'execve', 'socket' },\n" ..
                     "  { arches = { 'x86_64', 'i386' } })\n")
    local code, out, err = proc.run(proc.SXLUA .. " export " .. q(path))
    assert.equal(0, code, err)
    assert.matches('"defaultAction"', out)
    assert.matches("warning: on x86_64, i386 the policy answers socket, connect with " ..
                   "errno%(EPERM%), but io_uring_setup gets allow", err)
    assert.matches("answers execve with errno%(EPERM%), but execveat gets allow", err)
    assert.not_matches("socketcall", err)
    os.remove(path)
  end)

  it("leaves io_uring out where the host has it off for everyone", function()
    local x86 = { arch = "x86_64" }
    local f = assert(seccomp.deny_list({ "connect", "execve" }, x86))
    assert.is_true(doors.open_doors(f))
    assert.is_false(doors.open_doors(f, { io_uring = false }))
    for _, g in ipairs(doors.gaps(f, { io_uring = false })) do assert.are_not.equal("io_uring", g.mux) end
    -- sxlua reads kernel.io_uring_disabled: a 2 seen through a bind mount, in a mount
    -- namespace of the spec's own, silences the io_uring warning
    if proc.run("command -v unshare >/dev/null") ~= 0 then return pending("no unshare") end
    local path, two = proc.tmpname() .. ".lua", proc.tmpname()
    proc.write(path, "return require('sx.seccomp').deny_list({ 'connect' })\n")
    proc.write(two, "2\n")
    local code, _, err = proc.run(proc.SXLUA .. " --check " .. q(path))
    assert.equal(0, code)
    assert.matches("io_uring_setup gets allow", err)
    code, _, err = proc.run("unshare -m sh -c " .. q("mount --bind " .. two ..
      " /proc/sys/kernel/io_uring_disabled && " .. proc.SXLUA .. " --check " .. path))
    if code ~= 0 and err:match("unshare") then return pending("unshare -m refused: " .. err) end
    assert.equal(0, code, err)
    assert.equal("", err)
    os.remove(path)
    os.remove(two)
  end)

  it("counts a stop of ioctl for io_uring only when it stops every request", function()
    local x86 = { arch = "x86_64" }
    -- TIOCSTI only: URING_CMD does no terminal's requests, so no way round it
    local tiocsti = assert(seccomp.from_rules({ { "errno(EPERM)", "ioctl", { { index = 1, op = "eq", value = 0x5412 } } } },
                                              "allow", x86))
    assert.same({}, doors.gaps(tiocsti))
    -- every request: URING_CMD (a block device's discard, NVMe passthrough) is one
    local all = assert(seccomp.from_rules({ { "errno(EPERM)", "ioctl" } }, "allow", x86))
    assert.same({ "ioctl" }, doors.gaps(all)[1].names)
  end)

  it("names the same arches as sxlua's check before it loads this module", function()
    assert.same(doors.ARCHES, require("sx.runner").MULTIPLEXING)
    assert.same(doors.RING_SIZES, require("sx.runner").RING_SIZES)
    for arch in pairs(doors.ARCHES) do
      assert.truthy(seccomp.syscall_number("socketcall", arch), arch)
      assert.truthy(seccomp.syscall_number("ipc", arch), arch)
    end
  end)
  it("reads x32 calls with their bit, as the kernel sees them", function()
    local f = assert(seccomp.deny_list({ "open", "openat", "creat", "openat2", "open_by_handle_at" },
                                       { arch = "x32" }))
    assert.equal("allow", f:eval("io_uring_setup", { 8, 0 }, "x32"))
    local gaps = doors.gaps(f)
    assert.equal(1, #gaps)
    assert.same({ "x32", "io_uring" }, { gaps[1].arch, gaps[1].mux })
  end)

  it("finds no door where the other route is stopped too, only less harshly", function()
    -- execve killed, execveat refused by the default: both stopped, nothing to say
    local f = rules({ { "allow", "read" }, { "kill_process", "execve" } }, "errno(EPERM)", { "x86_64" })
    assert.equal("errno(EPERM)", tostring(f:eval("execveat", {})))
    assert.same({}, doors.gaps(f))
    local g = rules({ { "kill_process", "socket" }, { "errno(EPERM)", "socketcall" },
                      { "errno(EPERM)", "io_uring_setup" } }, "allow", { "i386" })
    assert.same({}, doors.gaps(g))
  end)

  it("counts io_uring's operations the stack stops across its filters", function()
    local x86 = { arch = "x86_64" }
    local a = assert(seccomp.deny_list({ "open", "openat", "creat" }, x86))
    local b = assert(seccomp.deny_list({ "openat2" }, x86))
    local uring = {}
    for _, g in ipairs(doors.gaps({ a, b })) do
      if g.mux == "io_uring" then uring[#uring + 1] = table.concat(g.names, " ") end
    end
    assert.same({ "open creat openat", "openat2" }, uring)
  end)

  it("sees io_uring_setup let through by a conditional rule", function()
    local f = assert(seccomp.from_rules({ { "errno(EPERM)", "openat" }, { "errno(EPERM)", "open" },
      { "errno(EPERM)", "creat" }, { "errno(EPERM)", "openat2" }, { "errno(EPERM)", "open_by_handle_at" },
      { "errno(EPERM)", "io_uring_setup", { { index = 0, op = "gt", value = 1 } } } }, "allow", { arch = "x86_64" }))
    assert.equal("allow", f:eval("io_uring_setup", { 1, 0 }))
    assert.equal(1, #doors.gaps(f))
  end)

  it("knows the siblings of write, mprotect, setrlimit, ptrace, settimeofday, open", function()
    local x86 = { arch = "x86_64" }
    local function siblings(list)
      local g = doors.gaps(assert(seccomp.deny_list(list, x86)))
      return g[1] and g[1].siblings
    end
    assert.same({ "pkey_mprotect" }, siblings({ "mprotect", "io_uring_setup" }))
    assert.same({ "prlimit64" }, siblings({ "setrlimit", "io_uring_setup" }))
    assert.same({ "process_vm_writev" }, siblings({ "ptrace", "io_uring_setup" }))
    assert.same({ "clock_settime" }, siblings({ "settimeofday", "io_uring_setup" }))
    assert.same({ "pwrite64", "writev", "pwritev", "pwritev2" }, siblings({ "write", "io_uring_setup" }))
    -- and the i386 calls of 64-bit files and times
    local i386 = doors.gaps(assert(seccomp.deny_list({ "stat", "lstat", "statx", "io_uring_setup" }, { arch = "i386" })))
    assert.same({ "stat64", "lstat64", "fstatat64" }, i386[1].siblings)
  end)
end)

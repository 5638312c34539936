-- sx.doors: other ways to the calls a policy stops (multiplexers, io_uring, siblings).
--
-- On i386, ppc64le and s390x a program can make socket(), connect(), ..., semctl(),
-- shmget(), ... through socketcall(call, args) and ipc(call, ...) as well as by their own
-- numbers. A filter sees only the multiplexer's call number (arg0): the call's own
-- arguments lie in memory, which seccomp cannot read. So a rule for `socket` does not
-- cover socketcall(SYS_SOCKET, ...): a policy that denies socket there must deny that
-- too. On every arch io_uring goes further: once io_uring_setup is allowed, a program
-- opens, connects, reads, renames, ... as io_uring's operations, which are no syscalls
-- (IORING_OP_OPENAT, IORING_OP_CONNECT, ...). And a syscall often has siblings that do
-- the same (execve and execveat, setuid and setresuid, mount and move_mount): a rule for
-- one is no rule for the others. gaps(filters) finds where a policy stops a call that
-- such a door still lets through; sxlua warns about each.

local core = require "sx.core"
local action = require "sx.action"

local ipairs, pairs, type, next, tostring = ipairs, pairs, type, next, tostring
local concat, fmt = table.concat, string.format

local M = {}

-- The architectures whose kernels take the multiplexers.
M.ARCHES = { i386 = true, ppc64le = true, s390x = true }

-- Each multiplexed call: its multiplexer and the call number in arg0 there
-- (linux/net.h's SYS_SOCKET..., and ipc's SEMOP... from linux/ipc.h).
M.SUBCALL = {
  socket = { "socketcall", 1 }, bind = { "socketcall", 2 }, connect = { "socketcall", 3 },
  listen = { "socketcall", 4 }, accept = { "socketcall", 5 }, getsockname = { "socketcall", 6 },
  getpeername = { "socketcall", 7 }, socketpair = { "socketcall", 8 }, send = { "socketcall", 9 },
  recv = { "socketcall", 10 }, sendto = { "socketcall", 11 }, recvfrom = { "socketcall", 12 },
  shutdown = { "socketcall", 13 }, setsockopt = { "socketcall", 14 },
  getsockopt = { "socketcall", 15 }, sendmsg = { "socketcall", 16 },
  recvmsg = { "socketcall", 17 }, accept4 = { "socketcall", 18 }, recvmmsg = { "socketcall", 19 },
  sendmmsg = { "socketcall", 20 },
  semop = { "ipc", 1 }, semget = { "ipc", 2 }, semctl = { "ipc", 3 }, semtimedop = { "ipc", 4 },
  msgsnd = { "ipc", 11 }, msgrcv = { "ipc", 12 }, msgget = { "ipc", 13 }, msgctl = { "ipc", 14 },
  shmat = { "ipc", 21 }, shmdt = { "ipc", 22 }, shmget = { "ipc", 23 }, shmctl = { "ipc", 24 },
}

-- What io_uring does as operations of its own (include/uapi/linux/io_uring.h, Linux
-- 6.18's IORING_OP_*), each as the syscalls that do the same: an operation is a way
-- round the policy only where it stops every one of them (a program denied openat but
-- allowed open opens files anyway; futex_wait does what futex does).
-- The calls io_uring reaches only in part: URING_CMD does some ioctl requests (NVMe
-- passthrough, ublk, a block device's discard, SIOCINQ), none a terminal's. A rule
-- stopping some requests only (TIOCSTI) leaves io_uring no way round it.
M.URING_IN_PART = { ioctl = true }

M.URING_OPS = {
  { "read", "pread64", "readv", "preadv", "preadv2" },                  -- READ, READV, READ_FIXED
  { "write", "pwrite64", "writev", "pwritev", "pwritev2" },             -- WRITE, WRITEV, WRITE_FIXED
  { "open", "creat", "openat", "openat2" },                             -- OPENAT, OPENAT2
  { "close", "close_range" },
  { "statx", "stat", "lstat", "fstat", "newfstatat", "stat64", "lstat64", "fstat64", "fstatat64" },
  { "fsync", "fdatasync" }, { "sync_file_range", "sync_file_range2", "arm_sync_file_range" },
  { "fallocate" }, { "ftruncate", "ftruncate64" },
  { "fadvise64", "fadvise64_64", "arm_fadvise64_64" }, { "madvise" }, { "splice" }, { "tee" },
  { "pipe", "pipe2" },
  { "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64" },
  { "epoll_ctl" }, { "epoll_wait", "epoll_pwait", "epoll_pwait2" },
  { "rename", "renameat", "renameat2" }, { "unlink", "unlinkat", "rmdir" },
  { "mkdir", "mkdirat" }, { "symlink", "symlinkat" }, { "link", "linkat" },
  { "setxattr", "setxattrat" }, { "fsetxattr" }, { "getxattr", "getxattrat" }, { "fgetxattr" },
  { "socket" }, { "connect" }, { "accept", "accept4" }, { "bind" }, { "listen" },
  { "shutdown" }, { "sendmsg", "sendmmsg" }, { "recvmsg", "recvmmsg", "recvmmsg_time64" }, { "send", "sendto" },
  { "recv", "recvfrom" }, { "setsockopt" }, { "getsockopt" },          -- (URING_CMD's)
  { "waitid", "wait4", "waitpid" },
  { "futex", "futex_time64", "futex_wait", "futex_wake", "futex_waitv" },
  { "ioctl" },                     -- URING_CMD: NVMe passthrough, ublk, BLOCK_URING_CMD_DISCARD, SIOCINQ
}

-- Syscalls that do what a sibling does, so that a rule stopping one and not the others
-- stops nothing (each list one effect; a name may be in two). Left out: clone3, which
-- policies send back to clone on purpose (its flags lie in memory), and the calls whose
-- siblings take a descriptor where they take a path.
M.SIBLINGS = {
  { "execve", "execveat" }, { "open", "creat", "openat", "openat2", "open_by_handle_at" },
  { "kill", "tkill", "tgkill", "pidfd_send_signal", "rt_sigqueueinfo", "rt_tgsigqueueinfo" },
  { "chmod", "fchmodat", "fchmodat2" }, { "chown", "lchown", "fchownat", "chown32", "lchown32" },
  { "unlink", "unlinkat" }, { "rmdir", "unlinkat" }, { "rename", "renameat", "renameat2" },
  { "link", "linkat" }, { "symlink", "symlinkat" }, { "mkdir", "mkdirat" }, { "mknod", "mknodat" },
  { "mount", "move_mount", "mount_setattr" }, { "umount", "umount2" },
  { "setuid", "setreuid", "setresuid", "setfsuid", "setuid32", "setreuid32", "setresuid32",
    "setfsuid32" },
  { "setgid", "setregid", "setresgid", "setfsgid", "setgid32", "setregid32", "setresgid32",
    "setfsgid32" },
  { "setgroups", "setgroups32" }, { "kexec_load", "kexec_file_load" },
  { "init_module", "finit_module" }, { "accept", "accept4" },
  { "send", "sendto", "sendmsg", "sendmmsg" },
  { "recv", "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64" },
  { "wait4", "waitid", "waitpid" }, { "dup", "dup2", "dup3" }, { "pipe", "pipe2" },
  { "access", "faccessat", "faccessat2" }, { "readlink", "readlinkat" },
  { "stat", "lstat", "newfstatat", "statx", "stat64", "lstat64", "fstatat64" },
  { "getdents", "getdents64" },
  { "utime", "utimes", "futimesat", "utimensat", "utimensat_time64" },
  { "setxattr", "lsetxattr", "setxattrat" }, { "removexattr", "lremovexattr", "removexattrat" },
  { "epoll_create", "epoll_create1" }, { "eventfd", "eventfd2" }, { "signalfd", "signalfd4" },
  { "inotify_init", "inotify_init1" },
  { "read", "pread64", "readv", "preadv", "preadv2" },
  { "write", "pwrite64", "writev", "pwritev", "pwritev2" },
  { "mprotect", "pkey_mprotect" }, { "setrlimit", "prlimit64" },
  { "ptrace", "process_vm_writev" },
  { "settimeofday", "clock_settime", "clock_settime64", "stime" },
  { "adjtimex", "clock_adjtime", "clock_adjtime64" },
  { "truncate", "truncate64" }, { "ftruncate", "ftruncate64" }, { "fchown", "fchown32" },
}
-- Routes one way only: open_by_handle_at opens what open does (with CAP_DAC_READ_SEARCH),
-- but a policy stopping it (Docker's, @privileged) stops what no open can do (a file
-- by handle, outside the mount namespace's view): no gap where open is allowed.
M.ONE_WAY = { open_by_handle_at = true }

local rank = action.rank     -- the kernel takes the lowest (the most restrictive)

-- Every name gaps looks at, with the arches that have it (bits, ARCH_BIT), read from the
-- tables at the first gaps (sxlua loads this module on runs that may have a door open,
-- and asks open_doors first): HAS[name] ~= nil says gaps reads the rows of `name`.
local ARCH_BIT, HAS
local function read_tables()
  local names = { "io_uring_setup", "socketcall", "ipc" }
  for _, lists in ipairs({ M.URING_OPS, M.SIBLINGS }) do
    for _, list in ipairs(lists) do
      for _, name in ipairs(list) do names[#names + 1] = name end
    end
  end
  for name in pairs(M.SUBCALL) do names[#names + 1] = name end
  local masks = core.syscall_arches(names)
  ARCH_BIT, HAS = {}, {}
  for i, name in ipairs(names) do HAS[name] = masks[i] end
  for i, arch in ipairs(core.arches()) do ARCH_BIT[arch] = 1 << (i - 1) end
end
local function has(name, arch) return (HAS[name] or 0) & (ARCH_BIT[arch] or 0) ~= 0 end

-- The number the kernel sees for `name` on arch: core's tables keep x32's without its
-- bit (0x40000000), which every x32 call carries; emulated without it, an x32 call is an
-- x86_64 one (an x32-only filter's bad-arch action, a multi-arch filter's x86_64 answer).
local function number(name, arch)
  local nr = core.syscall_number(name, arch)
  if nr and arch == "x32" and nr >= 0 and nr < 0x40000000 then nr = nr | 0x40000000 end
  return nr
end
M.number = number

-- A kernel value from an action as rows hold it: a value already, or a name or object.
local function value_of(a) return math.type(a) == "integer" and a or action.value(a) end

local function stops(value) local k = action.kind(value) return k ~= "allow" and k ~= "log" end

-- errno(ENOSYS) sends a program back to an older call (openat2 to openat, statx to
-- newfstatat, clone3 to clone): runtimes answer new calls so on purpose, and a sibling
-- left open is the point, not a gap.
local ENOSYS = action.value("errno(ENOSYS)")

-- May the call go on (allow, log; notify and trace: a handler or tracer may let it)?
-- errno, trap and kill stop it, whichever is stricter: kill_process beside errno(EPERM)
-- is no door.
local function may_pass(value)
  local k = action.kind(value)
  return k == "allow" or k == "log" or k == "notify" or k == "trace"
end

-- The ring sizes tried where a rule may test io_uring_setup's (32768: the most it takes).
local RING_SIZES = { 1, 2, 8, 4096, 32768 }
M.RING_SIZES = RING_SIZES

-- The argument vectors tried for a door: arg0 is all a filter can test of socketcall and
-- ipc, but a policy may test the others too (a pointer, for socketcall), and ipc's
-- kernel drops a version kept in arg0's upper 16 bits; io_uring_setup takes a size and
-- a pointer.
local VECTORS = {}
local function vectors(mux, call)
  local key = mux .. " " .. call
  if VECTORS[key] then return VECTORS[key] end
  local out = {}
  if mux == "io_uring_setup" then
    for _, size in ipairs(RING_SIZES) do out[#out + 1] = { size, 0x1000 } end
    out[#out + 1] = { 8, 0 }
  else
    for _, arg0 in ipairs(mux == "ipc" and { call, call | 0x10000 } or { call }) do
      for _, arg1 in ipairs({ 0, 0x1000, 0xffffffff }) do out[#out + 1] = { arg0, arg1 } end
    end
  end
  VECTORS[key] = out
  return out
end

-- The most permissive answer the filter gives the door on arch (in the emulator; for
-- io_uring_setup, whose size a rule may test, the laxest its rows give it as well).
local function mux_answer(f, mux, call, arch, v)
  local widest
  if mux == "io_uring_setup" and v and v.answers then
    local s = v.answers.io_uring_setup
    widest = s and s.lax
  end
  local nr, audit = number(mux, arch), core.audit(arch)
  for _, a in ipairs(vectors(mux, call)) do
    local value = core.emulate(f.bpf, audit, nr, a[1], a[2], 0, 0, 0, 0)
    if not widest or rank(value) > rank(widest) then widest = value end
  end
  return widest
end

-- What gaps reads of a filter: its rows (syscall, action, args), default and bad-arch
-- values, read from the ruleset as they are, without the tables f.rules makes to say
-- where each came from (sx.rules would load for that, at every run of a policy with a
-- door open). `where` is looked up only for a gap. Raw BPF: no rows.
local function view(f)
  local v = { f = f, arches = f.arches }
  local ruleset = rawget(f, "ruleset")
  if ruleset and rawget(f, "rules") == nil then
    local _, default, bad_arch, rows = core.ruleset(ruleset)
    v.rows, v.default, v.bad_arch = rows, value_of(default), value_of(bad_arch)
  elseif f.rules then
    v.rows, v.default, v.bad_arch = f.rules, action.value(f.default), action.value(f.bad_arch)
  end
  return v
end

-- What the filter's rows answer each call of `wanted` they name, in the order they first
-- name them: the strictest answer (value, and row: nil for the default) and the laxest
-- (lax), the default counting where no unconditional row backs conditional ones; the
-- answer to a call no condition matches (always, and always_row: nil for the default);
-- and whether a row stops it (stopped).
local function answers_by_name(v, wanted)
  local out, backed = {}, {}
  local primary = v.arches[1]
  for i, r in ipairs(v.rows) do
    local name = r.syscall
    if type(name) ~= "string" then name = core.syscall_name(name, primary) end
    if name and wanted[name] then
      local value, s = value_of(r.action), out[name]
      if not s then
        s = { value = value, row = i, lax = value, stopped = false }
        out[name], out[#out + 1] = s, name
      end
      if rank(value) < rank(s.value) then s.value, s.row = value, i end
      if rank(value) > rank(s.lax) then s.lax = value end
      s.stopped = s.stopped or stops(value)
      if not (r.args and next(r.args)) and not backed[name] then
        backed[name], s.always, s.always_row = true, value, i
      end
    end
  end
  for _, name in ipairs(out) do
    local s = out[name]
    if not backed[name] then
      if rank(v.default) < rank(s.value) then s.value, s.row = v.default, nil end
      if rank(v.default) > rank(s.lax) then s.lax = v.default end
      s.always = v.default
    end
  end
  return out
end

-- The stack's answer to mux(call, ...) on arch: the kernel runs every filter and takes
-- the most restrictive; each filter's is its most permissive (mux_answer). A filter not
-- built for arch gives its bad-arch action; raw BPF is run in the emulator on every arch,
-- whatever arch it was loaded for: its program checks the arch itself (one loaded for
-- x86_64 may kill every i386 call, or answer them).
local function stack_answer(views, mux, call, arch)
  local answer
  for _, v in ipairs(views) do
    local value
    if not v.rows then value = mux_answer(v.f, mux, call, arch, v) end
    for _, a in ipairs(v.arches) do
      if a == arch then value = mux_answer(v.f, mux, call, arch, v) end
    end
    value = value or v.bad_arch or action.value("allow")
    if not answer or rank(value) < rank(answer) then answer = value end
  end
  return answer
end

-- Add `name` to the gap of its door and answer on arch (one a door and answer).
local function add(out, groups, v, arch, mux, name, call, s, theirs)
  local key = mux .. " " .. s.value
  local g = groups[key]
  if not g then
    local where = s.row and v.f.rules[s.row].where or v.f.where
    g = { arch = arch, mux = mux, names = {}, calls = {}, action = action.canonical(s.value),
          mux_action = action.canonical(theirs), where = where }
    groups[key], out[#out + 1] = g, g
  end
  g.names[#g.names + 1], g.calls[#g.calls + 1] = name, call
end

-- socketcall and ipc on one arch that has them: the calls the filter's rules stop.
local function subcall_gaps(views, v, arch, out)
  local groups = {}
  for _, name in ipairs(v.answers) do
    local s, sub = v.answers[name], M.SUBCALL[name]
    local mux, call = sub and sub[1], sub and sub[2]
    local theirs = sub and has(mux, arch) and stops(s.value)
                   and stack_answer(views, mux, call, arch)
    if theirs and may_pass(theirs) and rank(s.value) < rank(theirs) then
      add(out, groups, v, arch, mux, name, call, s, theirs)
    end
  end
end

-- The stack's most permissive answer to `name` on arch, as answers_by_name reads each
-- filter (raw BPF: its answer with every argument 0, on any arch), and whether a filter's
-- rows stop it.
local function stack_laxest(views, name, arch)
  local answer, stopped
  for _, v in ipairs(views) do
    local value
    if not v.answers then      -- raw BPF: its program's answer, on any arch
      value = core.emulate(v.f.bpf, core.audit(arch), number(name, arch), 0, 0, 0, 0, 0, 0)
    end
    for _, a in ipairs(v.answers and v.arches or {}) do
      if a == arch then
        local l = v.answers and v.answers[name]
        if l then value, stopped = l.lax, stopped or l.stopped
        else value = v.default end
      end
    end
    value = value or v.bad_arch or action.value("allow")
    if not answer or rank(value) < rank(answer) then answer = value end
  end
  return answer, stopped
end

-- io_uring on one arch, when the stack lets io_uring_setup through: the operations
-- whose every syscall the stack stops, those this filter stops named at its rules (a
-- stack may stop open in one filter and openat2 in another: io_uring opens all the same).
local function uring_gaps(views, v, arch, out)
  local theirs = has("io_uring_setup", arch)
                 and stack_answer(views, "io_uring_setup", 0, arch)
  if not theirs or stops(theirs) then return end
  local strictest, groups = v.answers, {}
  local default = { value = v.default }
  for _, op in ipairs(M.URING_OPS) do
    local stopped = {}
    for _, name in ipairs(op) do
      local s = has(name, arch) and (strictest[name] or default)
      if s and M.URING_IN_PART[name] and s ~= default then
        s = { value = s.always, row = s.always_row }   -- only a stop of every call counts
      end
      if s then
        if stops(s.value) and rank(s.value) < rank(theirs) then
          stopped[#stopped + 1] = { name, s }
        elseif may_pass((stack_laxest(views, name, arch))) then
          stopped = nil break
        end
      end
    end
    for _, e in ipairs(stopped or {}) do add(out, groups, v, arch, "io_uring", e[1], nil, e[2], theirs) end
  end
end

-- Siblings on one arch: the calls the filter's rows stop while a sibling that no row
-- stops gets a laxer answer from the stack; one gap for the calls that share their
-- siblings and answers.
local function sibling_gaps(views, v, arch, out)
  local strictest, groups = v.answers, {}
  for _, family in ipairs(M.SIBLINGS) do
    for _, name in ipairs(family) do
      local s = strictest[name]
      local open, theirs
      if s and not M.ONE_WAY[name] and stops(s.value) and s.value ~= ENOSYS
         and has(name, arch) then
        for _, other in ipairs(family) do
          local answer, stopped
          if other ~= name and has(other, arch) then
            answer, stopped = stack_laxest(views, other, arch)
          end
          if answer and not stopped and may_pass(answer) and rank(s.value) < rank(answer) then
            open = open or {}
            open[#open + 1] = other
            if not theirs or rank(answer) > rank(theirs) then theirs = answer end
          end
        end
      end
      if open then
        local key = concat(open, " ") .. " " .. s.value .. " " .. theirs
        local g = groups[key]
        if not g then
          g = { arch = arch, kind = "sibling", names = {}, siblings = open,
                action = action.canonical(s.value), mux_action = action.canonical(theirs),
                where = s.row and v.f.rules[s.row].where or v.f.where }
          groups[key], out[#out + 1] = g, g
        end
        g.names[#g.names + 1] = name
      end
    end
  end
end

-- io_uring's and siblings' gaps of one filter, one a door and a set of names and
-- answers: "x86_64, i386" where a filter for several arches says the same on each.
local function merge_arches(gaps, out)
  local seen = {}
  for _, g in ipairs(gaps) do
    local key = concat(g.siblings or { g.mux }, " ") .. " " .. concat(g.names, " ") .. " " ..
                tostring(g.action) .. " " .. tostring(g.mux_action)
    if seen[key] then
      seen[key].arch = seen[key].arch .. ", " .. g.arch
    else
      seen[key], out[#out + 1] = g, g
    end
  end
end

-- The stack's answer to call nr on arch with arg0 a0 (a filter not built for arch gives
-- its bad-arch action: its program says so).
local function stack_value(filters, nr, arch, a0)
  local answer
  for _, f in ipairs(filters) do
    local value = core.emulate(f.bpf, core.audit(arch), nr, a0, 0x1000, 0, 0, 0, 0)
    if not answer or rank(value) < rank(answer) then answer = value end
  end
  return answer
end

local function uring_open(filters, arch)
  local setup = number("io_uring_setup", arch)
  if not setup then return false end
  for _, size in ipairs(RING_SIZES) do
    if may_pass(stack_value(filters, setup, arch, size)) then return true end
  end
  return false
end

-- open_doors(filters [, opts]) -> whether gaps may find socketcall, ipc or io_uring
-- (unless opts.io_uring is false) letting through what the stack stops, asked cheaply
-- (the emulator, no tables made): an arch with multiplexers; or io_uring_setup let
-- through (at a ring size a rule may test) and an io_uring operation whose every syscall
-- the stack stops (or hands to a handler) called with zero arguments. (A stop on other
-- arguments only is left to gaps, which sxlua summary runs.)
function M.open_doors(filters, opts)
  if filters.bpf then filters = { filters } end
  local uring = not (opts and opts.io_uring == false)
  for _, f in ipairs(filters) do
    for _, arch in ipairs(f.arches) do
      if M.ARCHES[arch] then return true end
      if uring and uring_open(filters, arch) then
        for _, op in ipairs(M.URING_OPS) do
          local stopped = nil
          for _, name in ipairs(op) do
            local nr = number(name, arch)
            if nr then
              stopped = stops(stack_value(filters, nr, arch, 0))   -- (a handler's too)
              if not stopped then break end
            end
          end
          if stopped then return true end
        end
      end
    end
  end
  return false
end

-- gaps(filters) -> a list of { arch =, mux =, names = { ... }, calls = { n, ... },
-- action =, mux_action =, where = }: for each filter of the stack (a filter alone is a
-- stack of one) and each arch of it, the calls the policy answers more strictly than
-- the stack answers the door that also makes them (socketcall or ipc with the call's
-- number, `calls`; mux = "io_uring" when io_uring_setup is let through; kind =
-- "sibling", `siblings`, unless opts.siblings is false; the multiplexers' unless
-- opts.multiplexers is false, io_uring's unless opts.io_uring is false). `log` stops
-- nothing and is not counted; raw BPF has no rules to compare.
function M.gaps(filters, opts)
  if filters.bpf then filters = { filters } end
  local siblings = not (opts and opts.siblings == false)
  local multiplexers = not (opts and opts.multiplexers == false)
  local uring = not (opts and opts.io_uring == false)
  if not HAS then read_tables() end
  local views, out = {}, {}
  for i, f in ipairs(filters) do
    views[i] = view(f)
    views[i].answers = views[i].rows and answers_by_name(views[i], HAS)
  end
  for _, v in ipairs(views) do
    local per_arch = {}
    for _, arch in ipairs(v.rows and v.arches or {}) do
      if multiplexers and M.ARCHES[arch] then subcall_gaps(views, v, arch, out) end
      if uring then uring_gaps(views, v, arch, per_arch) end
      if siblings then sibling_gaps(views, v, arch, per_arch) end
    end
    merge_arches(per_arch, out)
  end
  return out
end

-- Names in a warning: the first few, then how many more.
local function listed(names)
  if #names <= 6 then return concat(names, ", ") end
  return fmt("%s and %d more", concat(names, ", ", 1, 6), #names - 6)
end

-- The warning sxlua prints for a gap, without its "where: " prefix.
function M.warning(g)
  if g.kind == "sibling" then
    local one = #g.siblings == 1
    return fmt("warning: on %s the policy answers %s with %s, but %s %s %s: a program does " ..
      "the same through %s; give %s a rule as strict", g.arch, listed(g.names),
      tostring(g.action), listed(g.siblings), one and "gets" or "get", tostring(g.mux_action),
      one and "it" or "them", one and "it" or "them")
  end
  if g.mux == "io_uring" then
    return fmt("warning: on %s the policy answers %s with %s, but io_uring_setup gets %s: " ..
      "io_uring makes %s, which no filter sees; deny io_uring_setup too",
      g.arch, listed(g.names), tostring(g.action), tostring(g.mux_action),
      #g.names > 1 and "these calls as operations of its own" or "that call as an operation of its own")
  end
  local calls = {}
  for i, n in ipairs(g.calls) do calls[i] = fmt("%d", n) end
  return fmt("warning: on %s the policy answers %s with %s, but %s with arg0 %s gets %s: " ..
    "a program makes %s through %s, whose other arguments no filter can read; deny %s " ..
    "too (where arg0 is the call's number)",
    g.arch, listed(g.names), tostring(g.action), g.mux, concat(calls, ", "),
    tostring(g.mux_action), #g.names > 1 and "these calls" or "that call", g.mux, g.mux)
end

return M

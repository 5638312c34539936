-- bench/inputs.lua: the benchmark's rule sets, built the same way every run.
--
--   local inputs = require "inputs"        (with bench/ on package.path)
--   for _, input in ipairs(inputs.all(profile_path)) do ... input.rules ... end
--
-- Each input is {name, what, rules, default, opts} in sx.seccomp's form; support.lsc
-- writes the same rules as a rule file for the C benchmarks and libseccomp. A list input
-- also has lua_call, the constructor a Lua user calls for it (allow_list, deny_list),
-- named in lua_api; for the others that is from_rules. All are for
-- x86_64 and use only syscalls whose x86_64 numbers sx and libseccomp agree on, so both
-- compilers get exactly the same rules.

local seccomp = require "sx.seccomp"
local oci = require "sx.oci"
local core = require "sx.core"
local lsc = require "support.lsc"

local ipairs, sort, fmt, select, assert = ipairs, table.sort, string.format, select, assert

local M = {}

local ARCH = "x86_64"

-- Syscall names both tables give the same x86_64 number, in number order.
local function shared_names()
  local names = seccomp.syscall_names()
  local theirs = lsc.numbers(names, { ARCH })
  local out = {}
  for _, name in ipairs(names) do
    local mine = seccomp.syscall_number(name, ARCH)
    if mine and (theirs[name] or {})[1] == mine then out[#out + 1] = name end
  end
  sort(out, function(a, b)
    return seccomp.syscall_number(a, ARCH) < seccomp.syscall_number(b, ARCH)
  end)
  return out
end

-- A fixed pseudo-random order (a small LCG, so it is the same on every Lua).
local function shuffled(list, seed)
  local out, x = {}, seed
  for i, v in ipairs(list) do out[i] = v end
  for i = #out, 2, -1 do
    x = (x * 1103515245 + 12345) % 2147483648
    local j = x % i + 1
    out[i], out[j] = out[j], out[i]
  end
  return out
end

-- The first n of a fixed shuffle of the shared names: the allow lists of the plot nest.
function M.allow_list(n, names)
  names = names or shared_names()
  local pick = shuffled(names, 42)
  local rules, list = {}, {}
  for i = 1, n do
    rules[i] = { action = "allow", syscall = pick[i] }
    list[i] = pick[i]
  end
  return { name = "allow" .. n, what = fmt("allow list of %d syscalls", n), rules = rules,
           default = "kill_process", opts = { arch = ARCH },
           lua_call = function() return seccomp.allow_list(list, { arch = ARCH }) end,
           lua_api = "allow_list" }
end

local DENY = {
  "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
  "delete_module", "finit_module", "get_kernel_syms", "get_mempolicy", "init_module",
  "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
  "mbind", "mount", "move_pages", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
  "perf_event_open", "personality", "pivot_root", "process_vm_readv", "process_vm_writev",
  "ptrace", "query_module", "quotactl", "reboot", "request_key", "set_mempolicy",
  "setns", "settimeofday", "swapoff", "swapon", "umount2",
}

function M.deny_list()
  local rules = {}
  for i, name in ipairs(DENY) do rules[i] = { action = "errno(EPERM)", syscall = name } end
  return { name = "deny40", what = "deny list of 40 syscalls (errno EPERM, default allow)",
           rules = rules, default = "allow", opts = { arch = ARCH },
           lua_call = function() return seccomp.deny_list(DENY, { arch = ARCH }) end,
           lua_api = "deny_list" }
end

-- 25 syscalls with one rule of two conditions each (every operator, 64-bit values), and
-- 40 plain allows around them: 50 argument conditions.
local BASE = {
  "read", "write", "close", "fstat", "lseek", "mmap", "mprotect", "munmap", "brk",
  "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "pread64", "pwrite64", "readv",
  "writev", "pipe", "sched_yield", "dup", "dup2", "nanosleep", "getpid", "exit",
  "getuid", "getgid", "geteuid", "getegid", "getppid", "getpgrp", "setsid",
  "sigaltstack", "arch_prctl", "gettid", "futex", "set_tid_address", "clock_gettime",
  "clock_nanosleep", "exit_group", "epoll_wait", "tgkill",
}
local CONDITIONAL = {
  "openat", "socket", "ioctl", "fcntl", "prctl", "clone", "kill", "setsockopt",
  "getsockopt", "madvise", "mremap", "msync", "flock", "fadvise64", "setpriority",
  "sched_setaffinity", "getrandom", "memfd_create", "personality", "umask", "chmod",
  "fchmod", "access", "faccessat", "pipe2",
}
local OPS = { "eq", "ne", "lt", "le", "gt", "ge", "masked_eq" }

function M.args50()
  local rules = {}
  for _, name in ipairs(BASE) do rules[#rules + 1] = { action = "allow", syscall = name } end
  for i, name in ipairs(CONDITIONAL) do
    local op1, op2 = OPS[(2 * i - 2) % #OPS + 1], OPS[(2 * i - 1) % #OPS + 1]
    local function cond(index, op, v)
      local c = { index = index, op = op, value = v }
      if op == "masked_eq" then c.mask, c.value = 0xff00ff, v & 0xff00ff end
      return c
    end
    -- a value above 32 bits where the argument has them; else one that fits it (a
    -- condition compares the bits the syscall reads: an int's low 32)
    local bits = select(3, core.arg(ARCH, assert(core.syscall_number(name, ARCH)), 2))
    local high = bits == 64 and 0x100000000 or 1 << (bits - 1)
    rules[#rules + 1] = { action = "allow", syscall = name,
                          args = { cond(0, op1, i * 7), cond(2, op2, high + i) } }
  end
  return { name = "args50", what = "40 allows + 25 syscalls with 2 argument conditions each",
           rules = rules, default = "kill_process", opts = { arch = ARCH } }
end

-- Syscalls that take an argument 0 whose width the tables know, in a fixed shuffle.
local function with_arg0(names)
  local out = {}
  for _, name in ipairs(shuffled(names, 7)) do
    local _, width = core.arg(ARCH, assert(core.syscall_number(name, ARCH)), 0)
    if width > 0 then out[#out + 1] = name end
  end
  return out
end

-- n conditional rules on 100 syscalls, rule j for the (j mod 100)th: allow when arg0 equals
-- j, a value no other rule tests (issue 15 measured 1,000 of them: 10 rules a syscall).
-- Values stay below 2^16, so they fit every argument's width.
function M.conditions(n, names)
  local pick = with_arg0(names or shared_names())
  local rules = {}
  for j = 1, n do
    rules[j] = { action = "allow", syscall = pick[(j - 1) % 100 + 1],
                 args = { { index = 0, op = "eq", value = j } } }
  end
  return { name = "cond" .. n, what = fmt("%d conditional rules: 100 syscalls, %s rules " ..
           "each, arg0 == a value of its own", n, n % 100 == 0 and tostring(n // 100) or "~" ..
           (n // 100)), rules = rules, default = "kill_process", opts = { arch = ARCH } }
end

-- Docker's default profile as sx.oci reads it for x86_64, less the syscalls libseccomp
-- 2.5.4 does not know (runc with that libseccomp leaves them out too).
function M.docker(profile_path, names)
  local f = assert(io.open(profile_path, "rb"))
  local text = f:read("a")
  f:close()
  local all, default, opts = assert(oci.to_rules(text, { arch = ARCH }))
  local known, rules, nconds, dropped = {}, {}, 0, 0
  for _, name in ipairs(names or shared_names()) do known[name] = true end
  for _, r in ipairs(all) do
    if known[r.syscall or r[2]] then
      rules[#rules + 1] = r
      nconds = nconds + #(r.args or {})
    else
      dropped = dropped + 1
    end
  end
  return { name = "docker", what = fmt("Docker's default profile via sx.oci: %d rules, %d " ..
           "argument conditions (%d rules for syscalls libseccomp 2.5.4 lacks left out)",
           #rules, nconds, dropped), rules = rules, default = default,
           opts = { arches = opts.arches, bad_arch = opts.bad_arch } }
end

function M.all(profile_path)
  local names = shared_names()
  return { M.docker(profile_path, names), M.allow_list(300, names), M.deny_list(), M.args50(),
           M.conditions(1000, names) }
end

M.shared_names = shared_names
M.SWEEP = { 10, 25, 50, 100, 150, 200, 250, 300 }

return M

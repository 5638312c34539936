-- policies/minimal.lua: a minimal allow list for small coreutils-style programs
-- (ls, cat, echo, true, ...). Everything else kills the process, execve included:
-- sxlua starts the program once, and any later execve kills it.
--
--   sxlua policies/minimal.lua -- /bin/ls -l /
local seccomp = require "sx.seccomp"

local allowed = {
  -- loading and starting: the dynamic loader, libc's setup
  "brk", "mmap", "munmap", "mprotect", "arch_prctl", "set_tid_address",
  "set_robust_list", "rseq", "prlimit64", "getrandom", "access", "pread64",
  -- files and directories, reading
  "openat", "close", "read", "lseek", "fstat", "newfstatat", "statx", "statfs",
  "getdents64", "readlink", "getxattr", "lgetxattr", "fadvise64", "ioctl", "copy_file_range",
  "sendfile",
  -- output, signals, the end
  "write", "writev", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "futex",
  "exit_group",
}

-- Names this architecture lacks (arch_prctl exists only on x86) are left out.
local rules = {}
for _, name in ipairs(allowed) do
  if seccomp.syscall_number(name) then
    rules[#rules + 1] = { "allow", name }
  end
end
-- `ls -l` asks nscd over a socket for user names; refusing the socket makes libc read
-- /etc/passwd instead, where killing would end the program.
rules[#rules + 1] = { seccomp.errno("EACCES"), "socket" }

return seccomp.from_rules(rules, "kill_process")

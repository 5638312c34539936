-- policies/nginx.lua: Debian's nginx serving static files, as a single process
-- (policies/nginx/nginx.conf: daemon off, master_process off).
--
--   sxlua policies/nginx.lua -- nginx -p PREFIX -c PREFIX/nginx.conf -e stderr
--
-- An allow list: what nginx does to start, accept connections, read files and answer,
-- found with strace and rounded out with the calls of its other paths (sendfile, error
-- logging, shutdown). Sockets only for local, IPv4 and IPv6 (others get EAFNOSUPPORT);
-- everything else kills nginx, execve included (nginx execs only to upgrade its own
-- binary, which a sandboxed server must not do): sxlua starts it, once.
local seccomp = require "sx.seccomp"

local AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10

local allowed = {
  -- the loader and libc
  "brk", "mmap", "munmap", "mprotect", "madvise", "arch_prctl", "set_tid_address",
  "set_robust_list", "rseq", "prlimit64", "getrandom", "access", "futex", "uname",
  "sysinfo", "sched_getaffinity",
  -- files: configuration, pages, temp paths, logs, the pid file
  "openat", "close", "read", "pread64", "write", "writev", "pwrite64", "pwritev", "lseek",
  "fstat", "newfstatat", "statx", "mkdir", "chown", "unlink", "fcntl", "ioctl", "dup2",
  "getdents64", "umask",
  -- the network
  "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname",
  "setsockopt", "getsockopt", "recvfrom", "recvmsg", "sendto", "sendmsg", "sendfile",
  "shutdown",
  -- events and time
  "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "eventfd2",
  "nanosleep", "clock_nanosleep", "clock_gettime", "gettimeofday", "setitimer",
  -- identity and signals
  "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
  "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "sigaltstack",
  "exit", "exit_group",
}

local rules = {}
for _, name in ipairs(allowed) do
  if seccomp.syscall_number(name) then rules[#rules + 1] = { "allow", name } end
end
for _, family in ipairs{ AF_UNIX, AF_INET, AF_INET6 } do
  rules[#rules + 1] = { "allow", "socket", { { index = 0, op = "eq", value = family } } }
end
rules[#rules + 1] = { seccomp.errno("EAFNOSUPPORT"), "socket" }

return seccomp.from_rules(rules, "kill_process")

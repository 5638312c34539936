-- policies/dangerous.lua: deny the syscalls a web server never needs and an attacker
-- loves: loading kernel code, rebooting, mounting, tracing other processes, changing
-- the clock or namespaces, raw I/O ports, BPF, perf and io_uring. Everything else is allowed,
-- so this fits any server as a first layer; they fail with EPERM.
--
--   sxlua policies/dangerous.lua -- nginx -g 'daemon off;'
-- Other policies reuse it: local filter, names = dofile("policies/dangerous.lua")
local seccomp = require "sx.seccomp"

local names = {
  -- kernel code and the machine itself
  "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
  "reboot", "swapon", "swapoff", "acct", "quotactl",
  -- filesystems and namespaces
  "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount", "fsconfig",
  "move_mount", "open_tree", "mount_setattr", "unshare", "setns",
  "open_by_handle_at", "name_to_handle_at",
  -- other processes' memory, tracing, introspection
  "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
  "perf_event_open", "bpf", "userfaultfd", "lookup_dcookie",
  -- io_uring does opens, reads and socket calls that seccomp never sees
  "io_uring_setup", "io_uring_enter", "io_uring_register",
  -- keys, clock, host identity
  "add_key", "request_key", "keyctl", "settimeofday", "clock_settime", "clock_adjtime",
  "adjtimex", "sethostname", "setdomainname", "personality",
  -- x86 only: raw I/O ports, old interfaces
  "iopl", "ioperm", "uselib", "vm86", "vm86old", "modify_ldt",
}

-- Keep the names this architecture has.
local present = {}
for _, name in ipairs(names) do
  if seccomp.syscall_number(name) then present[#present + 1] = name end
end

local filter = assert(seccomp.deny_list(present, { deny_action = seccomp.errno("EPERM") }))
return filter, present

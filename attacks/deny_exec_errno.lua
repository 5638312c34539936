-- attacks/deny_exec_errno.lua: everything allowed but exec, which fails with EPERM (so a
-- workload can try as often as it likes without dying).
local seccomp = require "sx.seccomp"
return seccomp.deny_list({ "execve", "execveat" }, { deny_action = seccomp.errno("EPERM") })

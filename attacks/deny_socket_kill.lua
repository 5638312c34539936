-- attacks/deny_socket_kill.lua: everything allowed but socket, which kills the process
-- (and exec, exec-once). The spec's own DENY_SOCKET, with exec denied too.
local seccomp = require "sx.seccomp"
return seccomp.deny_list({ "socket", "execve", "execveat" }, { deny_action = "kill_process" })

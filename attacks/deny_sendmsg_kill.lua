local seccomp = require "sx.seccomp"
return seccomp.deny_list({ "sendmsg", "execve", "execveat" }, { deny_action = "kill_process" })

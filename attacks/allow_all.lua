-- attacks/allow_all.lua: everything allowed but exec (kill_process) and uname (notify,
-- so that sxlua holds a listener worth stealing). The widest policy exec-once applies to.
local seccomp = require "sx.seccomp"
return seccomp.builder()
  :deny({ "execve", "execveat" }, "kill_process")
  :rule("notify", "uname")
  :build{ default = "allow" }

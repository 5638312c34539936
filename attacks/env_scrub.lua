-- attacks/env_scrub.lua: everything allowed but exec (exec-once), and the workload gets a
-- clean environment: whatever secrets sxlua was started with are not passed on.
local seccomp = require "sx.seccomp"
return { filter = seccomp.deny_list({ "execve", "execveat", "ptrace", "process_vm_readv",
                                      "perf_event_open", "bpf" }, { deny_action = "kill_process" }),
         env = { PATH = "/usr/bin:/bin" } }

-- sx.usage: sxlua's command line as people read it. (Kept apart from sx.runner and
-- sx.commands: only --help and mistakes load it.)

local M = {}

M.RUNNER = [[
Usage: sxlua [options] policy.lua [policy args...] -- program [args...]
       sxlua learn [-o policy.lua] [--merge old.lua] [--default ACTION] -- program [args...]

Run program under the seccomp filter that policy.lua builds. To start a
policy for a program, let sxlua learn it: `sxlua learn -o policy.lua -- prog`
runs prog, records every syscall of its whole process tree, and writes a
policy that allows what it did (sxlua learn --help).

A policy is Lua 5.4 source (never bytecode) with the sx modules at hand:
  local seccomp = require "sx.seccomp"
  return seccomp.allow_list({ "read", "write", "exit_group", ... })
The policy args are the chunk's `...` (and arg[1..]); the program's argv is
sxlua.argv. A declarative policy returns a filter, or a table
  { filter = f | filters = { f1, f2 }, env = {...}, cwd = "dir",
    no_new_privs = true, pid_namespace = true,
    on = { openat = function(call) ... end } }
and sxlua spawns the program, installs the filters, runs it and waits.
An imperative policy drives sx.process itself and returns p:wait()'s results
(or an exit code). Filters that forbid execve still start the program: sxlua's
own execve passes an exec gate once; every later execve gets the filter's
action from the kernel, whether sxlua is still there or not.

Options:
  -c, --check            load the policy and print its filters; run nothing
  --report               also report errno and log denials: a line for the first of
                         each (syscall, rule), and counts when the program ends
  --complain             stop nothing the policy denies: let it through and list it
  --no-supervise         leave every decision to the kernel: no reports, no handlers
  --no-pid-namespace     run the program without a PID namespace of its own
  -h, --help             print this help
  -V, --version          print the version

Supervision: when the filter kills a process of the program, sxlua prints one
line naming the process, the call with its arguments decoded, the action and
the policy line (and group) of the rule or default that decided:
  sxlua: python3 (pid 4242) killed: socket(AF_UNIX, SOCK_STREAM, 0):
         kill_process, the default (policy.lua:3)
For that, the filter's kills (and with --report its errnos and logs) go to
sxlua as seccomp notifications, which sxlua answers as the policy says: the
call fails, or the caller's process is killed (SIGKILL; the program's own
process is reported as SIGSYS, status 159). Allowed calls take the same path
as before and stay in the kernel's cache. If sxlua dies, notified calls fail
with ENOSYS: they never run. A notify rule's calls go to the policy's `on`
handlers: call:string(i), call:bytes(i, n), and the answer call:fail("EACCES"),
call:ret(v), call:inject_fd(fd) or call:continue(). A call without a handler
fails with ENOSYS, one whose handler raises or answers nothing with EPERM; both
are reported. continue() after reading a pointer argument decides nothing: the
memory can change after the check. To grant something, do it in the handler
and inject the result (policies/broker.lua).

What the program can never reach, whatever its uid and its policy allows:
sxlua's memory and descriptors (sxlua is not dumpable and the program loses
CAP_SYS_PTRACE, so ptrace, pidfd_getfd, process_vm_* and /proc/PID/mem fail),
and, in its own PID namespace (the default), sxlua's pid. Its whole process
tree ends when it ends, and when sxlua dies. It leads a session of its own (no
controlling terminal, its own process group), and ioctl TIOCSTI and TIOCLINUX
fail with EPERM. no_new_privs is set unless the policy says no_new_privs =
false. Without CAP_SYS_ADMIN the namespace needs an unprivileged user
namespace (ids other than yours then show as nobody); if the kernel refuses
one, sxlua refuses to run unless given --no-pid-namespace, and
then the program can signal sxlua, and what it forks can outlive sxlua (its
execs still get the filter's action). A program that daemonizes must stay in
the foreground (nginx -g 'daemon off;'): when it exits, so does its tree. A
root program with root's other capabilities can still change the host itself
(kernel modules, /proc/sys, ...) and watch sxlua run (perf_event_open, bpf):
deny those syscalls (policies/dangerous.lua) or run it unprivileged.

While it waits, sxlua forwards HUP, INT, QUIT, TERM, USR1 and USR2 sent to it
to the program.

Exit status: the program's; 128+N when signal N ends it (159 for SIGSYS, also
when the filter kills it); 125 for an error in sxlua or the policy (printed as
"sxlua: policy.lua:LINE: message"); 126 when the program cannot be executed;
127 when it is not found.
]]

M.COMMANDS = [=[
Usage: sxlua COMMAND [options] SOURCE [-- SYSCALL [ARG...]]
       sxlua run script.lua [args...]

Commands that show what a filter does, without running anything:
  dump      the BPF program, one instruction a line, with syscall names
  explain   one decision: which rule decides, the action, the instructions run
            (sxlua explain policy.lua -- socket 2 1 0)
  summary   per action, which syscalls get it; which depend on arguments; which
            the kernel's constant-action cache answers without running the filter
  bpf       the raw program, to stdout or -o FILE (bwrap --seccomp FD reads it)
  export    the filter as an OCI / Docker seccomp profile (JSON), or with
            --format spo as a Kubernetes SeccompProfile (YAML) for the
            security-profiles-operator
  groups    the syscall groups (@system-service, ...), or one group's members
  run       run a Lua script with the sx modules (sxlua's own Lua 5.4); its
            args are the script's ... and arg[1..]; an error exits 1

SOURCE is one of:
  policy.lua [policy args...]   a policy, as sxlua runs it (what it prints goes
                                to stderr here)
  --bpf FILE                    raw BPF (8 bytes an instruction), e.g. from bwrap
  --oci PROFILE.json            a Docker, podman, OCI or SeccompProfile (JSON)
                                profile; summary and explain also print what
                                the import left out, and why
Options:
  --arch ARCH     architecture of --bpf and --oci sources, and of explain's probe
  --json          dump, explain, summary: one JSON object (see the man page)
  -o FILE         where bpf writes (default: standard output)
  --format FMT    export: oci (the default) or spo
  --name NAME     export --format spo: the SeccompProfile's name
  --allow-exec    bpf, export: allow execve and execveat in the program. Runtimes
                  (runc, bwrap) install the filter before they execute the
                  workload, so a filter that forbids execve kills it at its start;
                  bpf and export say so on stderr. sxlua itself needs no such
                  change: it lets only the program's own execve through (exec-once).
A policy that returns several filters is shown filter by filter; explain also
gives the kernel's combined answer (the most severe action wins).
]=]

return M

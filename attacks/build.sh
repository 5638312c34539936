#!/bin/sh
# attacks/build.sh: build every attack program here (needs build/ from tools/setup).
set -e
cd "$(dirname "$0")"
W="-O2 -Wall -Wno-format-truncation"
for p in reach readproc tiocsti pgsig uring_open broker_escape broker_paths own_filter oomadj traceme pdeath sti32 brk32; do
  gcc $W -o $p $p.c
done
for p in kill_evade exec_tries uffd_stall flood broker_race gate_brute; do gcc $W -pthread -o $p $p.c; done
gcc $W -o gate_sendmsg gate_sendmsg.c
gcc $W -o perf_keys perf_keys.c
gcc $W -o memhijack memhijack.c -ldl
gcc $W -I../src -o gate_arches gate_arches.c ../src/gate.c ../build/libsxcore.a
chmod 644 *.lua
echo "attacks built"

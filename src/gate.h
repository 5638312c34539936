/*
** gate.h: the program edits the spawn agent makes before the workload installs a filter.
**
** The gate lets exactly two calls through that the filter behind it may forbid, both the
** agent's own, from the host's architecture: its execve, and the sendmsg that hands a
** filter's notification listener to the parent. Each is recognised by all six argument
** registers: its own arguments, pointers to random places in pages made for this spawn,
** and in the three registers the kernel ignores for these calls, three random 64-bit keys
** made for this spawn, which live only in the agent's memory and in the filter: no
** address the workload might learn (a root workload can read the agent's /proc/PID/maps)
** helps it.
** The agent zeroes its copies, and the stack the calls that made them used, once the
** workload has exec'd (a root workload may sample the agent's stack with perf).
** A prologue in front of the filter returns ALLOW for those two calls and hands every
** other call to the filter, unchanged, with A = 0 as the kernel would. After the exec
** nothing in the workload's address space holds a key, so every later execve gets the
** filter's own action, in the kernel, with no supervisor.
**
** A filter's actions can also be turned into SECCOMP_RET_USER_NOTIF, so that a supervisor
** sees (and decides) the calls that get them: denials to report, calls to record.
*/
#ifndef SX_GATE_H
#define SX_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "sx.h"

enum { SX_GATE_MAX = 64 };    /* room for the longest prologue (58 instructions) */

/* The calls a gate lets through, all six argument registers matched: execve(exec[0..5]),
** unless exec_allowed says the filter behind allows that call itself, and, when handover
** is set, sendmsg(send[0..5]). */
struct sx_gate {
  uint64_t exec[6];
  uint64_t send[6];
  int handover;
  int exec_allowed;
};

/* The prologue for `gate` on `arch`, into out; its length (0: nothing to let through). */
size_t sx_gate_prologue(struct sx_insn *out, int arch, const struct sx_gate *gate);

/* The terminal guard: a filter the workload installs before its own, which fails
** ioctl(fd, TIOCSTI) and ioctl(fd, TIOCLINUX) with EPERM on every ABI the host runs (and
** allows everything else). TIOCSTI pushes input into a terminal: the workload could type
** a command that the user's shell runs after sxlua ends. Without a controlling terminal
** (the workload is a session leader) the kernel refuses it, except to CAP_SYS_ADMIN in the
** initial user namespace, as root has; the guard refuses it to root too. The kernel takes
** the most restrictive action of all filters, so a policy that kills ioctl still does (and
** where supervision turns kills into notifications, which EPERM outranks, the kills of
** these calls stay kills: sx_program_notify).
** Writes at most SX_GUARD_MAX instructions to out; returns the length, 0 on failure. */
enum { SX_GUARD_MAX = 64 };
size_t sx_gate_tty_guard(struct sx_insn *out);

/* The calls the guard refuses, one for each ABI and request it refuses (its other
** arguments zero), into out (room for SX_GUARDED_CALLS); how many. The guard reads no
** more of a call than nr, arch and args[1]'s low 32 bits. */
enum { SX_GUARDED_CALLS = 8 };
size_t sx_gate_guarded_calls(struct sx_data *out);

/* Does the program return SECCOMP_RET_USER_NOTIF anywhere (RET with a constant)? */
int sx_program_notifies(const struct sx_insn *insns, size_t len);

/* Bits of action kinds, for sx_program_notify. */
enum {
  SX_NOTIFY_KILL = 1 << 0,       /* kill_process, kill_thread */
  SX_NOTIFY_TRAP = 1 << 1,
  SX_NOTIFY_ERRNO = 1 << 2,
  SX_NOTIFY_TRACE = 1 << 3,
  SX_NOTIFY_LOG = 1 << 4,
  SX_NOTIFY_ALLOW = 1 << 5
};

/* Into out, `insns` with the actions of `kinds` turned into SECCOMP_RET_USER_NOTIF:
** - a RET with a constant of those kinds returns USER_NOTIF instead;
** - a RET A (an action made at run time: raw BPF) jumps to a tail that tests A's action
**   and returns USER_NOTIF for those kinds, A as it was for the others;
** - with a `guard` (glen > 0) and kills among `kinds`, a kill (constant or in A) keeps
**   the calls the guard refuses. The guard's EPERM outranks a notification, so a kill
**   turned into one would let ioctl(fd, TIOCSTI) off with EPERM under a policy that kills
**   ioctl. A kill goes to a tail instead: A = the kill, M[0] = A, then a copy of the guard
**   whose refusals return M[0] (the kill, in the kernel, unreported) and whose other
**   answers return USER_NOTIF (the kill, through the supervisor).
** A tail reads nothing of the call but what the guard reads, and only answers of those
** kinds reach the guard's: no allowed call reads an argument more than before (the
** kernel's constant-action cache is unchanged: it never followed a RET A). out has room
** for SX_NOTIFY_ROOM(len, glen) (the program, a stub per kill value, the guard's copy and
** its return, the RET A tail); returns the length, 0 when out of memory. */
#define SX_NOTIFY_ROOM(len, glen) (4 * (len) + (glen) + 2 + 15)
size_t sx_program_notify(struct sx_insn *out, const struct sx_insn *insns, size_t len,
                         unsigned kinds, const struct sx_insn *guard, size_t glen);

#endif

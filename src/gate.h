/*
** gate.h: the program edits the spawn agent makes before the workload installs a filter.
**
** The exec gate lets exactly one execve through: the agent's own, from the host's
** architecture, with the three pointers it passes, which lie at random addresses that
** only the agent knows. A prologue in front of the filter returns ALLOW for that call and
** hands every other call to the filter, unchanged. After the exec the address space is
** new and the workload cannot know the addresses (about 44 random bits each), so every
** later execve gets the filter's own action, in the kernel, with no supervisor.
**
** A filter that returns SECCOMP_RET_USER_NOTIF is split in two that decide together
** what it decides alone: a carrier that returns USER_NOTIF where it does and ALLOW
** elsewhere (installed with a listener), and the rest, with USER_NOTIF turned to ALLOW.
*/
#ifndef SX_GATE_H
#define SX_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "sx.h"

enum { SX_GATE_MAX = 20 };    /* instructions of the longest prologue */

/* The prologue for execve(args[0], args[1], args[2]) on `arch`, into out; its length. */
size_t sx_gate_prologue(struct sx_insn *out, int arch, const uint64_t args[3]);

/* Does the program return SECCOMP_RET_USER_NOTIF anywhere (RET with a constant)? */
int sx_program_notifies(const struct sx_insn *insns, size_t len);

/* Rewrite the constant RETs in place: the carrier keeps USER_NOTIF and allows the rest;
** the remainder (carrier = 0) allows what was USER_NOTIF. */
void sx_program_split(struct sx_insn *insns, size_t len, int carrier);

#endif

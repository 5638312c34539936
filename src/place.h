/*
** place.h: placing cBPF instructions backwards, from the program's end, as they are made.
**
** Shared by the compiler's syscall-number search (compiler.c) and the code that tests
** arguments (argcode.c). Every jump target is placed before its jump, so its distance is
** known when the jump is made; a conditional jump whose target ends up more than 255
** instructions away goes through an inserted JA (or a fresh copy of the RET it aims at).
** A RET is placed when a jump first needs it and shared by later jumps within reach.
** Nothing is placed that no jump or fall-through reaches: a target is placed only when
** something that is being placed aims at it.
*/
#ifndef SX_PLACE_H
#define SX_PLACE_H

#include <linux/filter.h>

#include "rules.h"

enum { OFF_NR = 0, OFF_ARCH = 4, OFF_ARGS = 16 };

/* A jump target is a position counted from the program's end (>= 0), or -1 - s for the
** RET of rets[s], which is placed when a jump first needs it. */
struct ret_slot {
  uint32_t action;
  int pos;                 /* the latest placed copy; UNPLACED, or FREE for an empty slot */
};
enum { FREE = -1, UNPLACED = -2 };

struct gen {
  struct sx_insn *out;     /* instructions in reverse order, room for SX_MAX_INSNS */
  size_t count;
  struct ret_slot *rets;   /* open addressing by action, at most half full */
  size_t nrets;
  int failed;              /* SX_E_NOMEM or SX_E_TOO_BIG once something went wrong */
};

/* g->out has room for the kernel's limit: past it, the program is too big. */
static inline int put(struct gen *g, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  if (g->failed) return 0;
  if (g->count == SX_MAX_INSNS) { g->failed = SX_E_TOO_BIG; return 0; }
  g->out[g->count] = (struct sx_insn){ code, jt, jf, k };
  return (int)g->count++;
}

/* The target "return action". */
static inline int ret(struct gen *g, uint32_t action) {
  size_t s = (size_t)((action ^ action >> 16) * 0x9e3779b1u) & (g->nrets - 1);
  while (g->rets[s].pos != FREE && g->rets[s].action != action) s = (s + 1) & (g->nrets - 1);
  if (g->rets[s].pos == FREE) g->rets[s] = (struct ret_slot){ action, UNPLACED };
  return -1 - (int)s;
}

/* The position of target t for an instruction placed next, which reaches back at most
** `reach` (255 for a conditional jump, 0 for a fall-through): a RET out of reach is placed
** again, and the new copy is the one later jumps share. */
static inline int target_at(struct gen *g, int t, int reach) {
  struct ret_slot *r;
  if (t >= 0) return t;
  r = &g->rets[-1 - t];
  if (r->pos < 0 || (int)g->count - r->pos - 1 > reach)
    r->pos = put(g, BPF_RET | BPF_K, r->action, 0, 0);
  return r->pos;
}

/* Everything placed from position `mark` on is taken back (nothing aims at it after all). */
static inline void drop_from(struct gen *g, size_t mark) {
  if (g->count == mark) return;
  g->count = mark;
  for (size_t s = 0; s < g->nrets; s++)
    if (g->rets[s].pos >= (int)mark) g->rets[s].pos = UNPLACED;
}

/* Re-aim at the instruction placed at `at` from close by: a copy of a RET, or a JA. */
static inline int near_target(struct gen *g, int at) {
  struct sx_insn target = g->out[at];
  if (BPF_CLASS(target.code) == BPF_RET) return put(g, target.code, target.k, 0, 0);
  return put(g, BPF_JMP | BPF_JA, (uint32_t)((int)g->count - at - 1), 0, 0);
}

/* A conditional jump to targets t and f (t != f), placed. */
static inline int place_jump(struct gen *g, uint16_t code, uint32_t k, int t, int f) {
  f = target_at(g, f, 255);
  t = target_at(g, t, 255);
  for (;;) {
    if (g->failed) return 0;
    if ((int)g->count - f - 1 > 255) f = near_target(g, f);
    else if ((int)g->count - t - 1 > 255) t = near_target(g, t);
    else break;
  }
  return put(g, code, k, (uint8_t)((int)g->count - t - 1), (uint8_t)((int)g->count - f - 1));
}

/* A load or ALU step that falls through to target `next`, placed. */
static inline int place_step(struct gen *g, uint16_t code, uint32_t k, int next) {
  next = target_at(g, next, 0);
  if (!g->failed && next != (int)g->count - 1) near_target(g, next);
  return put(g, code, k, 0, 0);
}

/* A test of A: a jump, or nothing when both ways lead to the same place. */
static inline int jump(struct gen *g, uint16_t op, uint32_t k, int jt, int jf) {
  return jt == jf ? jt : place_jump(g, BPF_JMP | op | BPF_K, k, jt, jf);
}

#endif

/*
** argcode.h: the code that tests a syscall's arguments (argcode.c), for the compiler.
*/
#ifndef SX_ARGCODE_H
#define SX_ARGCODE_H

#include "place.h"

/* What one syscall number gets when some of its rules have conditions: those rules, tried
** in order, then the fallback. */
struct sx_outcome_rules {
  const struct sx_policy *policy;
  const struct sx_keyed *k;     /* the keyed rules of the number (unconditional ones skipped) */
  size_t nk;
  int arch;                     /* whose argument widths apply (sx_arg_bits) */
  int big_endian;
  uint32_t fallback;            /* the unconditional rule's action, else the default */
};

/* Room one compile's argument code works in, and what it has placed (which later syscalls
** share). NULL when out of memory; sx_argcode_free takes NULL. */
struct sx_argcode;
struct sx_argcode *sx_argcode_new(void);
void sx_argcode_free(struct sx_argcode *ac);

/* The code for o, placed: the target to jump to with A holding the syscall number. Out of
** memory or room, g->failed says so. */
int sx_argcode_place(struct gen *g, struct sx_argcode *ac, const struct sx_outcome_rules *o);

#endif

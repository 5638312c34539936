/*
** rules.h: internal interface between the rule model (rules.c) and its users.
*/
#ifndef SX_RULES_H
#define SX_RULES_H

#include "sx.h"

/* One rule applying on one architecture, keyed by the kernel's syscall number there
** (x32 numbers carry SX_X32_SYSCALL_BIT). */
struct sx_keyed {
  uint32_t key;
  size_t rule;
};

/* The syscall table's row of a name (-1 when unknown), and a row's numbers: a compile
** looks each name up once, then reads numbers per arch. */
int sx_syscall_row(const char *name);
/* The same for the first len bytes of name (a NUL among them matches no row). */
int sx_syscall_row_len(const char *name, size_t len);
/* A row's numbers, indexed by enum sx_arch (-1 where the arch lacks it), or NULL. */
const int *sx_row_numbers(int row);

/* The kernel value of an action written as text: "allow", "ERRNO(eperm)", "errno(13)",
** "trace(7)", any case. SX_OK, or SX_E_BAD_ACTION with a sentence in err (an unknown
** errno name gets the nearest known one as a suggestion). */
int sx_action_parse(const char *s, size_t len, uint32_t *value, struct sx_error *err);

/* Edit distance between two names (a swap of neighbours counts one edit); INT_MAX for
** names too long to compare. */
int sx_edit_distance(const char *a, const char *b);

void sx_set_error(struct sx_error *err, int code, long rule, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

/* What sx_validate_policy saw that the compiler can plan with. */
struct sx_shape {
  size_t runs;             /* runs of equal actions in the rules: >= the distinct actions */
  size_t conditional;      /* rules with argument conditions */
};

/* Check everything about a policy that does not depend on one architecture. Rule i's
** table row (-1 for a rule by number) is known[i], or when known is NULL it is looked up
** here and stored in rows[i]. */
int sx_validate_policy(const struct sx_policy *policy, const int *known, int *rows,
                       struct sx_shape *shape, struct sx_error *err);

/* Room a caller keeps for its compiles to work in, so that repeated compiles do not ask
** malloc for the same tens of kilobytes each time (glibc tidies its free lists on every
** large request). Starts zeroed; sx_work_free gives the memory back. */
struct sx_work {
  void *mem;
  size_t size;
};
void sx_work_free(struct sx_work *work);

/* sx_compile for a caller that looked the names up itself: rows[i] is rule i's table row
** (sx_syscall_row, -1 for a rule by number), consistent with rules[i].syscall. It works
** in `work`, and then the program it gives lies there too: it is not to be freed, and
** lasts until the next compile in `work`. Without work, it is as sx_compile's. */
int sx_compile_rows(const struct sx_policy *policy, const int *rows, struct sx_work *work,
                    struct sx_program *out, struct sx_error *err);

/* The rules that apply on `arch`, sorted by key and then by rule order; checks for
** duplicate unconditional rules. *out is malloc'd (NULL when there are none). */
int sx_resolve_rules(const struct sx_policy *policy, const int *rows, int arch,
                     struct sx_keyed **out, size_t *count, struct sx_error *err);

/* The rules of a policy without conditions, for one arch, as the action of each number
** (less the x32 bit) below SX_MAP_NUMBERS that a rule names. */
enum { SX_MAP_NUMBERS = 1024 };
struct sx_action_map {
  size_t count;                          /* numbers used */
  uint64_t used[SX_MAP_NUMBERS / 64];
  uint32_t action[SX_MAP_NUMBERS];       /* where used */
};

/* Fill `map` from the rules that apply on `arch` (none may have conditions); 0 when they
** do not fit it: a number past SX_MAP_NUMBERS, or two rules for one number (which
** sx_resolve_rules reports). */
int sx_map_rules(const struct sx_policy *policy, const int *rows, int arch,
                 struct sx_action_map *map);

/* A policy whose rules all give one action to syscalls named without conditions
** (allow_list, deny_list): the table rows of its syscalls. A row twice counts once. */
struct sx_list {
  const int *rows;
  size_t n;
  uint32_t action;
};

/* sx_validate_policy for a list, but for its syscalls, which sx_map_list checks. */
int sx_validate_list(const struct sx_policy *policy, const struct sx_list *list,
                     struct sx_shape *shape, struct sx_error *err);

/* sx_map_rules for a list on each of the policy's arches at once (maps[a] for arches[a]),
** checking that each syscall exists on one of them. SX_NOT_MAPPED when a number is past
** SX_MAP_NUMBERS (arm's private calls). */
enum { SX_NOT_MAPPED = -1 };
int sx_map_list(const struct sx_policy *policy, const struct sx_list *list,
                struct sx_action_map *maps, struct sx_error *err);

/* Compile `policy` (its rules unused) with the rules of `list`, in `work` as above. */
int sx_compile_list(const struct sx_policy *policy, const struct sx_list *list,
                    struct sx_work *work, struct sx_program *out, struct sx_error *err);

int sx_cond_equal(const struct sx_cond *a, const struct sx_cond *b);

/* The low `bits` bits set (all 64 for 64). */
uint64_t sx_bits_mask(int bits);
/* Do two conditions compare the same, a on an argument of abits bits and b on bbits? */
int sx_cond_same(const struct sx_cond *a, int abits, const struct sx_cond *b, int bbits);

/* Sets bit i of the bitmap `bits`; 1 when it was clear (i is seen the first time). */
static inline int sx_bit_set(uint64_t *bits, size_t i) {
  uint64_t mask = (uint64_t)1 << (i % 64);
  int clear = !(bits[i / 64] & mask);
  bits[i / 64] |= mask;
  return clear;
}

#endif

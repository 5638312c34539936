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

/* The kernel value of an action written the way sx.action reads it: "allow",
** "ERRNO(eperm)", "errno(13)", "trace(7)", any case; 0 when it is none of these. */
int sx_action_parse(const char *s, size_t len, uint32_t *value);

void sx_set_error(struct sx_error *err, int code, long rule, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

/* Check everything about a policy that does not depend on one architecture. Rule i's
** table row (-1 for a rule by number) is known[i], or when known is NULL it is looked up
** here and stored in rows[i]. *runs counts the runs of equal actions in the rules (at
** least the number of distinct actions among them). */
int sx_validate_policy(const struct sx_policy *policy, const int *known, int *rows,
                       size_t *runs, struct sx_error *err);

/* sx_compile for a caller that looked the names up itself: rows[i] is rule i's table row
** (sx_syscall_row, -1 for a rule by number), consistent with rules[i].syscall. */
int sx_compile_rows(const struct sx_policy *policy, const int *rows, struct sx_program *out,
                    struct sx_error *err);

/* The rules that apply on `arch`, sorted by key and then by rule order; checks for
** duplicate unconditional rules. *out is malloc'd (NULL when there are none). */
int sx_resolve_rules(const struct sx_policy *policy, const int *rows, int arch,
                     struct sx_keyed **out, size_t *count, struct sx_error *err);

int sx_cond_equal(const struct sx_cond *a, const struct sx_cond *b);

#endif

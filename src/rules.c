/*
** rules.c: the rule model. Validates policies, names actions, operators and errors,
** and resolves each rule to the syscall numbers it covers on one architecture.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

static const char *const status_names[] = {
  "ok", "unsupported_arch", "bad_action", "unknown_syscall", "duplicate_rule",
  "bad_rule", "too_big", "no_memory", "bad_program", "install_failed", "tsync_failed"
};

const char *sx_status_name(int code) {
  if (code < 0 || code >= (int)(sizeof status_names / sizeof *status_names)) return "unknown";
  return status_names[code];
}

static const char *const op_names[SX_OP_COUNT] = {
  "eq", "ne", "lt", "le", "gt", "ge", "masked_eq"
};

const char *sx_op_name(int op) {
  return (op >= 0 && op < SX_OP_COUNT) ? op_names[op] : NULL;
}

int sx_op_from_name(const char *name) {
  for (int op = 0; op < SX_OP_COUNT; op++)
    if (strcmp(op_names[op], name) == 0) return op;
  return -1;
}

int sx_action_valid(uint32_t action) {
  uint32_t data = action & SX_RET_DATA;
  switch (action & SX_RET_ACTION_FULL) {
    case SX_RET_ERRNO: return data <= SX_MAX_ERRNO;
    case SX_RET_TRACE: return 1;
    case SX_RET_KILL_PROCESS: case SX_RET_KILL_THREAD: case SX_RET_TRAP:
    case SX_RET_USER_NOTIF: case SX_RET_LOG: case SX_RET_ALLOW:
      return data == 0;
    default: return 0;
  }
}

void sx_set_error(struct sx_error *err, int code, long rule, const char *fmt, ...) {
  va_list ap;
  if (err == NULL) return;
  err->code = code;
  err->rule = rule;
  err->other = -1;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
}

int sx_cond_equal(const struct sx_cond *a, const struct sx_cond *b) {
  return a->index == b->index && a->op == b->op && a->value == b->value &&
         (a->op != SX_OP_MASKED_EQ || a->mask == b->mask);
}

static int check_arches(const struct sx_policy *p, struct sx_error *err) {
  if (p->narches == 0 || p->arches == NULL)
    return sx_set_error(err, SX_E_UNSUPPORTED_ARCH, -1, "a filter needs at least one architecture"),
           SX_E_UNSUPPORTED_ARCH;
  for (size_t i = 0; i < p->narches; i++) {
    if (sx_arch_name(p->arches[i]) == NULL)
      return sx_set_error(err, SX_E_UNSUPPORTED_ARCH, -1, "unsupported architecture number %d",
                          p->arches[i]), SX_E_UNSUPPORTED_ARCH;
    for (size_t j = 0; j < i; j++)
      if (p->arches[j] == p->arches[i])
        return sx_set_error(err, SX_E_UNSUPPORTED_ARCH, -1, "architecture %s is listed twice",
                            sx_arch_name(p->arches[i])), SX_E_UNSUPPORTED_ARCH;
  }
  return SX_OK;
}

static int on_any_arch(const struct sx_policy *p, int row) {
  const int *numbers = sx_row_numbers(row);
  for (size_t i = 0; numbers && i < p->narches; i++)
    if (numbers[p->arches[i]] >= 0) return 1;
  return 0;
}

static int check_syscall(const struct sx_policy *p, const struct sx_rule *r, long i, int row,
                         struct sx_error *err) {
  if (r->syscall == NULL) {
    /* A bare number means different syscalls on different architectures. */
    int x32_only = p->narches == 1 && p->arches[0] == SX_ARCH_X32;
    long limit = p->arches[0] == SX_ARCH_X86_64 ? (long)SX_X32_SYSCALL_BIT - 1 : 0xffffffffL;
    if (p->narches != 1)
      return sx_set_error(err, SX_E_BAD_RULE, i, "syscall number %ld is ambiguous in a filter "
                          "for several architectures; use a name", r->number), SX_E_BAD_RULE;
    if (x32_only) limit = 2L * SX_X32_SYSCALL_BIT - 1;
    if (r->number < 0 || r->number > limit)
      return sx_set_error(err, SX_E_BAD_RULE, i, "syscall number %ld is out of range for %s",
                          r->number, sx_arch_name(p->arches[0])), SX_E_BAD_RULE;
    return SX_OK;
  }
  if (row >= 0 && on_any_arch(p, row)) return SX_OK;
  if (row >= 0) {
    char names[128] = "";
    for (size_t a = 0; a < p->narches; a++)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", a ? ", " : "",
               sx_arch_name(p->arches[a]));
    sx_set_error(err, SX_E_UNKNOWN_SYSCALL, i, "syscall '%s' does not exist on %s",
                 r->syscall, names);
  } else {
    const char *near = sx_syscall_suggest(r->syscall);
    if (near)
      sx_set_error(err, SX_E_UNKNOWN_SYSCALL, i, "unknown syscall '%s' (did you mean '%s'?)",
                   r->syscall, near);
    else
      sx_set_error(err, SX_E_UNKNOWN_SYSCALL, i, "unknown syscall '%s'", r->syscall);
  }
  return SX_E_UNKNOWN_SYSCALL;
}

/* ---- argument widths ----------------------------------------------------------------
** A condition compares the bits of an argument the syscall reads (sx_arg_bits). A value or
** mask fits those bits when its upper part is zero, or a sign extension (-1 on an int is
** 0xffffffff); anything else would have to be truncated, and a truncated value means
** something else than what was written: it is an error, never a silent change. */

uint64_t sx_bits_mask(int bits) {
  return bits >= 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
}

static int fits(uint64_t v, int bits) {
  return bits >= 64 || (v >> bits) == 0 || (v >> (bits - 1)) == (UINT64_MAX >> (bits - 1));
}

int sx_cond_same(const struct sx_cond *a, int abits, const struct sx_cond *b, int bbits) {
  uint64_t m = sx_bits_mask(abits);
  return abits == bbits && a->index == b->index && a->op == b->op &&
         (a->value & m) == (b->value & m) && (a->op != SX_OP_MASKED_EQ || (a->mask & m) == (b->mask & m));
}

/* What a value that does not fit makes of its condition, for an argument that only ever
** holds values below 2^bits. */
static const char *misfit_meaning(const struct sx_cond *c, int bits) {
  if (!fits(c->value, bits))
    switch (c->op) {
      case SX_OP_NE: case SX_OP_LT: case SX_OP_LE: return "the condition always holds there";
      default: return "the condition never holds there";
    }
  return "the mask tests bits the argument does not have there";
}

static int check_widths_on(const struct sx_rule *r, long i, int arch, long nr,
                           struct sx_error *err) {
  char label[32];
  for (unsigned c = 0; c < r->ncond; c++) {
    const struct sx_cond *cond = &r->conds[c];
    int bits = sx_arg_bits(arch, nr, cond->index);
    const char *name = sx_arg_name(arch, nr, cond->index);
    int value_fits = fits(cond->value, bits);
    if (value_fits && (cond->op != SX_OP_MASKED_EQ || fits(cond->mask, bits))) continue;
    if (r->syscall == NULL) snprintf(label, sizeof label, "%ld", r->number);
    return sx_set_error(err, SX_E_BAD_RULE, i, "%s 0x%llx does not fit argument %u%s%s%s of "
                        "'%s', %d bits on %s: %s", value_fits ? "mask" : "value",
                        (unsigned long long)(value_fits ? cond->mask : cond->value), cond->index,
                        name ? " (" : "", name ? name : "", name ? ")" : "",
                        r->syscall ? r->syscall : label, bits, sx_arch_name(arch),
                        misfit_meaning(cond, bits)), SX_E_BAD_RULE;
  }
  return SX_OK;
}

/* Every condition of rule i fits its argument on each arch that has the syscall. */
static int check_widths(const struct sx_policy *p, const struct sx_rule *r, long i, int row,
                        struct sx_error *err) {
  for (size_t a = 0; a < p->narches; a++) {
    long nr = r->syscall ? (row >= 0 ? sx_row_numbers(row)[p->arches[a]] : -1) : r->number;
    int st;
    if (nr >= 0 && (st = check_widths_on(r, i, p->arches[a], nr, err))) return st;
  }
  return SX_OK;
}

static int check_conds(const struct sx_rule *r, long i, struct sx_error *err) {
  if (r->ncond > SX_MAX_CONDS || (r->ncond > 0 && r->conds == NULL))
    return sx_set_error(err, SX_E_BAD_RULE, i, "a rule takes at most %d argument conditions",
                        SX_MAX_CONDS), SX_E_BAD_RULE;
  for (unsigned c = 0; c < r->ncond; c++) {
    if (r->conds[c].index > 5)
      return sx_set_error(err, SX_E_BAD_RULE, i, "argument index %u is not 0..5",
                          r->conds[c].index), SX_E_BAD_RULE;
    if (sx_op_name(r->conds[c].op) == NULL)
      return sx_set_error(err, SX_E_BAD_RULE, i, "unknown comparison operator %d",
                          r->conds[c].op), SX_E_BAD_RULE;
  }
  return SX_OK;
}

/* What every policy is checked for before its rules: arches and the two fixed actions. */
static int check_frame(const struct sx_policy *p, struct sx_shape *shape, struct sx_error *err) {
  int st = check_arches(p, err);
  shape->runs = shape->conditional = 0;
  if (st) return st;
  if (!sx_action_valid(p->default_action))
    return sx_set_error(err, SX_E_BAD_ACTION, -1, "invalid default action 0x%08x",
                        p->default_action), SX_E_BAD_ACTION;
  if (!sx_action_valid(p->bad_arch_action))
    return sx_set_error(err, SX_E_BAD_ACTION, -1, "invalid bad-arch action 0x%08x",
                        p->bad_arch_action), SX_E_BAD_ACTION;
  return SX_OK;
}

int sx_validate_list(const struct sx_policy *p, const struct sx_list *list,
                     struct sx_shape *shape, struct sx_error *err) {
  int st = check_frame(p, shape, err);
  if (st || list->n == 0) return st;
  if (!sx_action_valid(list->action))
    return sx_set_error(err, SX_E_BAD_ACTION, 0, "invalid action 0x%08x", list->action),
           SX_E_BAD_ACTION;
  shape->runs = 1;
  return SX_OK;
}

int sx_validate_policy(const struct sx_policy *p, const int *known, int *rows,
                       struct sx_shape *shape, struct sx_error *err) {
  int st = check_frame(p, shape, err);
  if (st) return st;
  if (p->nrules > 0 && p->rules == NULL)
    return sx_set_error(err, SX_E_BAD_RULE, -1, "rules missing"), SX_E_BAD_RULE;
  for (size_t i = 0; i < p->nrules; i++) {
    const struct sx_rule *r = &p->rules[i];
    if (i == 0 || r->action != r[-1].action) {
      if (!sx_action_valid(r->action))
        return sx_set_error(err, SX_E_BAD_ACTION, (long)i, "invalid action 0x%08x", r->action),
               SX_E_BAD_ACTION;
      shape->runs++;
    }
    int row = known ? known[i] : (rows[i] = r->syscall ? sx_syscall_row(r->syscall) : -1);
    if ((st = check_syscall(p, r, (long)i, row, err)) || (st = check_conds(r, (long)i, err)) ||
        (r->ncond > 0 && (st = check_widths(p, r, (long)i, row, err))))
      return st;
    shape->conditional += r->ncond > 0;
  }
  return SX_OK;
}

/* Sort by key, keeping rule order among equal keys: a stable LSD radix sort by bytes,
** skipping the byte positions where every key is the same (most keys are below 1024),
** or for a few keys an insertion sort. */
static int sort_keyed(struct sx_keyed *k, size_t n) {
  struct sx_keyed *tmp;
  uint32_t all_or = 0, all_and = 0xffffffffu;
  if (n < 64) {                   /* few keys: a stable insertion sort beats the counts */
    for (size_t i = 1; i < n; i++) {
      struct sx_keyed x = k[i];
      size_t j = i;
      for (; j > 0 && k[j - 1].key > x.key; j--) k[j] = k[j - 1];
      k[j] = x;
    }
    return 1;
  }
  if ((tmp = malloc(n * sizeof *tmp)) == NULL) return 0;
  for (size_t i = 0; i < n; i++) { all_or |= k[i].key; all_and &= k[i].key; }
  for (unsigned shift = 0; shift < 32; shift += 8) {
    size_t count[257] = { 0 };
    if ((((all_or ^ all_and) >> shift) & 0xff) == 0) continue;   /* same byte everywhere */
    for (size_t i = 0; i < n; i++) count[((k[i].key >> shift) & 0xff) + 1]++;
    for (int b = 0; b < 256; b++) count[b + 1] += count[b];
    for (size_t i = 0; i < n; i++) tmp[count[(k[i].key >> shift) & 0xff]++] = k[i];
    memcpy(k, tmp, n * sizeof *k);
  }
  free(tmp);
  return 1;
}

static const char *rule_label(const struct sx_rule *r, char *buf, size_t size) {
  if (r->syscall) return r->syscall;
  snprintf(buf, size, "%ld", r->number);
  return buf;
}

/* Does every condition of `earlier` appear among `later`'s, compared on the bits of
** syscall `key` on `arch`? Then `later` can never decide: whenever it holds, so does
** `earlier`, which comes first. */
static int subsumes(const struct sx_rule *earlier, const struct sx_rule *later, int arch,
                    uint32_t key) {
  for (unsigned c = 0; c < earlier->ncond; c++) {
    const struct sx_cond *e = &earlier->conds[c];
    int bits = sx_arg_bits(arch, (long)key, e->index), found = 0;
    for (unsigned d = 0; d < later->ncond && !found; d++)
      found = sx_cond_same(e, bits, &later->conds[d], bits);
    if (!found) return 0;
  }
  return 1;
}

/* Rules of one key k[0..n) that can never decide: a second unconditional rule, or a
** conditional rule behind an earlier one whose conditions are a subset of its own. */
static int check_key(const struct sx_policy *p, const struct sx_keyed *k, size_t n, int arch,
                     struct sx_error *err) {
  long first = -1;
  char buf[32];
  for (size_t j = 0; j < n; j++) {
    const struct sx_rule *r = &p->rules[k[j].rule];
    if (r->ncond == 0) {
      if (first < 0) { first = (long)k[j].rule; continue; }
      sx_set_error(err, SX_E_DUPLICATE_RULE, (long)k[j].rule,
                   "syscall '%s' has two unconditional rules", rule_label(r, buf, sizeof buf));
      return err ? (err->other = first, SX_E_DUPLICATE_RULE) : SX_E_DUPLICATE_RULE;
    }
    for (size_t i = 0; i < j; i++) {
      const struct sx_rule *e = &p->rules[k[i].rule];
      if (e->ncond == 0 || !subsumes(e, r, arch, k[j].key)) continue;
      sx_set_error(err, SX_E_BAD_RULE, (long)k[j].rule, "this rule for '%s' never decides "
                   "anything: an earlier rule of the syscall holds whenever it does%s",
                   rule_label(r, buf, sizeof buf),
                   e->ncond == r->ncond ? " (the two test the same)" : "");
      return err ? (err->other = (long)k[i].rule, SX_E_BAD_RULE) : SX_E_BAD_RULE;
    }
  }
  return SX_OK;
}

static int check_duplicates(const struct sx_policy *p, const struct sx_keyed *k, size_t n,
                            int arch, struct sx_error *err) {
  for (size_t i = 0; i < n; ) {
    size_t j = i;
    int st;
    while (j < n && k[j].key == k[i].key) j++;
    if ((st = check_key(p, k + i, j - i, arch, err))) return st;
    i = j;
  }
  return SX_OK;
}

/* Numbers below this (without the x32 bit) are ordered through buckets, not sorted:
** every architecture's table stays below it except arm's private calls (0xf0000 up). */
enum { BUCKETS = SX_MAP_NUMBERS };

/* Rule i's number on `arch`, -1 when it has none there. */
static long rule_number(const struct sx_policy *p, const int *rows, size_t i, int arch) {
  return p->rules[i].syscall ? sx_row_numbers(rows[i])[arch] : p->rules[i].number;
}

int sx_map_rules(const struct sx_policy *p, const int *rows, int arch,
                 struct sx_action_map *map) {
  uint32_t bit = arch == SX_ARCH_X32 ? SX_X32_SYSCALL_BIT : 0;
  memset(map->used, 0, sizeof map->used);
  map->count = 0;
  for (size_t i = 0; i < p->nrules; i++) {
    long nr = rule_number(p, rows, i, arch);
    uint32_t b = ((uint32_t)nr | bit) - bit;
    if (nr < 0) continue;
    if (b >= SX_MAP_NUMBERS || !sx_bit_set(map->used, b)) return 0;
    map->action[b] = p->rules[i].action;
    map->count++;
  }
  return 1;
}

/* One arch's map of a list; *lacking tells whether the arch lacks one of its syscalls. */
static int map_list_on(const struct sx_list *list, int arch, struct sx_action_map *map,
                       int *lacking) {
  uint32_t bit = arch == SX_ARCH_X32 ? SX_X32_SYSCALL_BIT : 0;
  memset(map->used, 0, sizeof map->used);
  map->count = 0;
  for (size_t i = 0; i < list->n; i++) {
    int nr = sx_row_numbers(list->rows[i])[arch];
    uint32_t b = ((uint32_t)nr | bit) - bit;
    if (nr < 0) { *lacking = 1; continue; }
    if (b >= SX_MAP_NUMBERS) return SX_NOT_MAPPED;
    map->count += sx_bit_set(map->used, b);
    map->action[b] = list->action;
  }
  return SX_OK;
}

int sx_map_list(const struct sx_policy *p, const struct sx_list *list,
                struct sx_action_map *maps, struct sx_error *err) {
  int lacking = 0, st;
  for (size_t a = 0; a < p->narches; a++)
    if ((st = map_list_on(list, p->arches[a], &maps[a], &lacking))) return st;
  for (size_t i = 0; lacking && i < list->n; i++) {       /* is one on none of them? */
    int row = list->rows[i];
    if (!on_any_arch(p, row)) {
      struct sx_rule r = { list->action, sx_syscall_at((size_t)row), -1, 0, NULL };
      return check_syscall(p, &r, (long)i, row, err);
    }
  }
  return SX_OK;
}

/* raw[0..n) into k in key order, rule order kept among equal keys, in O(n + BUCKETS/64):
** each key's rules are chained from head[key] (a bitmap says which heads are set), built
** from the last rule back so each chain comes out in rule order. The caller has checked
** that every key less `bit` is below BUCKETS. */
static void bucket_keyed(const struct sx_keyed *raw, size_t n, uint32_t bit,
                         struct sx_keyed *k, int *next) {
  uint64_t used[BUCKETS / 64] = { 0 };
  int head[BUCKETS];
  size_t m = 0;
  for (size_t i = n; i-- > 0; ) {
    uint32_t b = raw[i].key - bit;
    next[i] = sx_bit_set(used, b) ? -1 : head[b];
    head[b] = (int)i;
  }
  for (size_t w = 0; w < BUCKETS / 64; w++)
    for (uint64_t bits = used[w]; bits; bits &= bits - 1)
      for (int i = head[w * 64 + (size_t)__builtin_ctzll(bits)]; i >= 0; i = next[i])
        k[m++] = raw[i];
}

int sx_resolve_rules(const struct sx_policy *p, const int *rows, int arch,
                     struct sx_keyed **out, size_t *count, struct sx_error *err) {
  struct sx_keyed *k = NULL, *raw;
  size_t n = 0;
  uint32_t bit = arch == SX_ARCH_X32 ? SX_X32_SYSCALL_BIT : 0, most = 0;
  *out = NULL;
  *count = 0;
  if (p->nrules == 0) return SX_OK;
  /* the sorted keys, then the keys in rule order, then bucket_keyed's chains */
  if ((k = malloc(p->nrules * (2 * sizeof *k + sizeof(int)))) == NULL)
    return sx_set_error(err, SX_E_NOMEM, -1, "out of memory"), SX_E_NOMEM;
  raw = k + p->nrules;
  for (size_t i = 0; i < p->nrules; i++) {
    long nr = rule_number(p, rows, i, arch);
    if (nr < 0) continue;
    raw[n].key = (uint32_t)nr | bit;
    raw[n].rule = i;
    if (raw[n].key - bit > most) most = raw[n].key - bit;
    n++;
  }
  if (most < BUCKETS) {
    bucket_keyed(raw, n, bit, k, (int *)(void *)(raw + p->nrules));
  } else {
    memcpy(k, raw, n * sizeof *k);
    if (!sort_keyed(k, n)) {
      free(k);
      return sx_set_error(err, SX_E_NOMEM, -1, "out of memory"), SX_E_NOMEM;
    }
  }
  int st = check_duplicates(p, k, n, arch, err);
  if (st) { free(k); return st; }
  *out = k;
  *count = n;
  return SX_OK;
}

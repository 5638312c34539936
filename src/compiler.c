/*
** compiler.c: rules to classic BPF.
**
** The program checks seccomp_data.arch first, then, per audit arch, searches the syscall
** number with a balanced binary tree over ranges of numbers that share an outcome. An
** outcome is either a constant action (one RET) or, for a syscall with argument
** conditions, a chain that loads argument words: only that syscall's branch ever loads
** them, so every other number keeps a path the kernel's constant-action cache accepts.
**
** Code is placed backwards, from the program's end, so every jump target is placed
** before its jump; a conditional jump whose target ends up more than 255 instructions
** away goes through an inserted JA (or a copy of the RET it aims at). The search trees
** are placed as they are made (nothing in one repeats, and an arch whose tree would
** equal an earlier one's shares it); their leaves, the RETs and argument checks, are
** built as a DAG of instructions, hash-consed so identical tails are placed once.
*/
#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

enum { OFF_NR = 0, OFF_ARCH = 4, OFF_ARGS = 16 };

/* ---- the instruction DAG ------------------------------------------------- */

struct node {
  uint16_t code;
  uint32_t k;
  int jt, jf;              /* jump targets; for loads and ALU, jt is the next node */
};

struct gen {
  struct node *nodes;
  size_t n, cap;
  int *slots;              /* hash table of node ids, -1 when empty */
  size_t nslots;
  struct { uint32_t action; int id; } rets[8];   /* RET nodes by action, id -1: none */
  int failed;              /* SX_E_NOMEM or SX_E_TOO_BIG once something went wrong */
  /* emission */
  int *pos;                /* position of each node counted from the program's end */
  struct sx_insn *out;     /* instructions in reverse order, room for SX_MAX_INSNS */
  size_t count;
};

static size_t node_hash(uint16_t code, uint32_t k, int jt, int jf) {
  uint64_t h = ((uint64_t)k << 16 | code) * 0x9e3779b97f4a7c15u ^
               ((uint64_t)(uint32_t)jt << 32 | (uint32_t)jf) * 0xff51afd7ed558ccdu;
  return (size_t)(h ^ (h >> 29));
}

static int grow_slots(struct gen *g) {
  size_t nslots = g->nslots ? g->nslots * 2 : 256;
  int *slots = malloc(nslots * sizeof *slots);
  if (!slots) return 0;
  memset(slots, 0xff, nslots * sizeof *slots);          /* all -1 */
  for (size_t id = 0; id < g->n; id++) {
    const struct node *nd = &g->nodes[id];
    size_t s = node_hash(nd->code, nd->k, nd->jt, nd->jf) & (nslots - 1);
    while (slots[s] >= 0) s = (s + 1) & (nslots - 1);
    slots[s] = (int)id;
  }
  free(g->slots);
  g->slots = slots;
  g->nslots = nslots;
  return 1;
}

/* The one node with these fields, made on first use. */
static int node(struct gen *g, uint16_t code, uint32_t k, int jt, int jf) {
  size_t s;
  if (g->failed) return 0;
  if (g->n * 2 >= g->nslots && !grow_slots(g)) { g->failed = SX_E_NOMEM; return 0; }
  s = node_hash(code, k, jt, jf) & (g->nslots - 1);
  for (; g->slots[s] >= 0; s = (s + 1) & (g->nslots - 1)) {
    const struct node *nd = &g->nodes[g->slots[s]];
    if (nd->code == code && nd->k == k && nd->jt == jt && nd->jf == jf) return g->slots[s];
  }
  /* Every node is reachable and emitted at least once, so more nodes than the kernel
  ** takes instructions can never fit; stopping here also bounds emit()'s recursion. */
  if (g->n >= SX_MAX_INSNS) { g->failed = SX_E_TOO_BIG; return 0; }
  if (g->n == g->cap) {
    size_t cap = g->cap ? g->cap * 2 : 64;
    struct node *nodes = realloc(g->nodes, cap * sizeof *nodes);
    int *pos = nodes ? realloc(g->pos, cap * sizeof *pos) : NULL;
    if (nodes) g->nodes = nodes;
    if (!pos) { g->failed = SX_E_NOMEM; return 0; }
    g->pos = pos;
    g->cap = cap;
  }
  g->nodes[g->n] = (struct node){ code, k, jt, jf };
  g->pos[g->n] = -1;                /* not placed yet */
  g->slots[s] = (int)g->n;
  return (int)g->n++;
}

/* RETs are most of a tree's leaves and come in few actions: remembered apart. */
static int ret(struct gen *g, uint32_t action) {
  size_t c = (action ^ action >> 16) & 7;
  if (g->rets[c].id >= 0 && g->rets[c].action == action) return g->rets[c].id;
  g->rets[c].action = action;
  return g->rets[c].id = node(g, BPF_RET | BPF_K, action, -1, -1);
}

static int load(struct gen *g, uint32_t offset, int next) {
  return node(g, BPF_LD | BPF_W | BPF_ABS, offset, next, -1);
}

static int jump(struct gen *g, uint16_t op, uint32_t k, int jt, int jf) {
  return jt == jf ? jt : node(g, BPF_JMP | op | BPF_K, k, jt, jf);
}

/* ---- argument conditions --------------------------------------------------- */

/* How arguments sit in seccomp_data on one audit arch. On 32-bit ABIs (i386, arm) only
** the low word is the argument: the syscall reads 32 bits, but the kernel may hand
** seccomp a register's dirty upper half (int 0x80 from a 64-bit process), so comparing
** it would let a caller slip past a rule. kafel and libseccomp compare the low word too. */
struct layout {
  int big_endian;
  int wide;
};

struct words { uint32_t lo, hi; };

static struct words arg_offsets(unsigned index, int big_endian) {
  uint32_t base = OFF_ARGS + 8 * index;
  return big_endian ? (struct words){ base + 4, base } : (struct words){ base, base + 4 };
}

static int masked_word(struct gen *g, uint32_t off, uint32_t mask, uint32_t value, int t, int f);
static int order_lo(struct gen *g, uint32_t off, int strict, uint32_t value, int t, int f);

/* A 32-bit ABI's argument against the low words of the condition's value and mask. */
static int condition32(struct gen *g, const struct sx_cond *c, uint32_t lo, int t, int f) {
  uint32_t v = (uint32_t)c->value;
  switch (c->op) {
    case SX_OP_EQ: return masked_word(g, lo, 0xffffffffu, v, t, f);
    case SX_OP_NE: return masked_word(g, lo, 0xffffffffu, v, f, t);
    case SX_OP_MASKED_EQ: return masked_word(g, lo, (uint32_t)c->mask, v, t, f);
    case SX_OP_GT: return order_lo(g, lo, 1, v, t, f);
    case SX_OP_GE: return order_lo(g, lo, 0, v, t, f);
    case SX_OP_LT: return order_lo(g, lo, 0, v, f, t);
    case SX_OP_LE: return order_lo(g, lo, 1, v, f, t);
    default: return f;     /* unreachable: sx_validate_policy rejects unknown ops */
  }
}

/* (word & mask) == value on one 32-bit word. */
static int masked_word(struct gen *g, uint32_t off, uint32_t mask, uint32_t value, int t, int f) {
  if (value & ~mask) return f;
  if (mask == 0) return t;
  if (value == 0) return load(g, off, jump(g, BPF_JSET, mask, f, t));
  if (mask == 0xffffffffu) return load(g, off, jump(g, BPF_JEQ, value, t, f));
  return load(g, off, node(g, BPF_ALU | BPF_AND | BPF_K, mask, jump(g, BPF_JEQ, value, t, f), -1));
}

/* Low word of an ordering test: A > value (strict) or A >= value. */
static int order_lo(struct gen *g, uint32_t off, int strict, uint32_t value, int t, int f) {
  if (strict && value == 0xffffffffu) return f;
  if (!strict && value == 0) return t;
  return load(g, off, jump(g, strict ? BPF_JGT : BPF_JGE, value, t, f));
}

/* High word decides unless equal: above, equal -> lo_node, below. */
static int order_hi(struct gen *g, uint32_t off, uint32_t value, int above, int lo_node, int below) {
  if (value == 0) return load(g, off, jump(g, BPF_JGT, 0, above, lo_node));
  if (value == 0xffffffffu) return load(g, off, jump(g, BPF_JEQ, value, lo_node, below));
  return load(g, off, jump(g, BPF_JGT, value, above, jump(g, BPF_JEQ, value, lo_node, below)));
}

static int condition(struct gen *g, const struct sx_cond *c, struct layout l, int t, int f) {
  struct words off = arg_offsets(c->index, l.big_endian);
  uint32_t vlo = (uint32_t)c->value, vhi = (uint32_t)(c->value >> 32);
  if (!l.wide) return condition32(g, c, off.lo, t, f);
  switch (c->op) {
    case SX_OP_EQ:
      return masked_word(g, off.hi, 0xffffffffu, vhi,
                         masked_word(g, off.lo, 0xffffffffu, vlo, t, f), f);
    case SX_OP_NE:
      return masked_word(g, off.hi, 0xffffffffu, vhi,
                         masked_word(g, off.lo, 0xffffffffu, vlo, f, t), t);
    case SX_OP_MASKED_EQ:
      return masked_word(g, off.hi, (uint32_t)(c->mask >> 32), vhi,
                         masked_word(g, off.lo, (uint32_t)c->mask, vlo, t, f), f);
    case SX_OP_GT: return order_hi(g, off.hi, vhi, t, order_lo(g, off.lo, 1, vlo, t, f), f);
    case SX_OP_GE: return order_hi(g, off.hi, vhi, t, order_lo(g, off.lo, 0, vlo, t, f), f);
    case SX_OP_LT: return order_hi(g, off.hi, vhi, f, order_lo(g, off.lo, 0, vlo, f, t), t);
    case SX_OP_LE: return order_hi(g, off.hi, vhi, f, order_lo(g, off.lo, 1, vlo, f, t), t);
    default: return f;     /* unreachable: sx_validate_policy rejects unknown ops */
  }
}

/* ---- outcomes and ranges -------------------------------------------------- */

/* What one syscall number gets: a constant action, or the conditional rules of its key
** (entries k[0..nk) of the resolved rules, unconditional ones skipped) then `action`. */
struct outcome {
  uint32_t action;
  const struct sx_keyed *k;
  size_t nk;               /* 0: constant */
};

struct range {
  uint32_t start;
  struct outcome o;
};

static int rules_equal(const struct sx_rule *a, const struct sx_rule *b) {
  if (a->action != b->action || a->ncond != b->ncond) return 0;
  for (unsigned c = 0; c < a->ncond; c++)
    if (!sx_cond_equal(&a->conds[c], &b->conds[c])) return 0;
  return 1;
}

static int outcome_equal(const struct sx_policy *p, const struct outcome *a,
                         const struct outcome *b) {
  size_t i = 0, j = 0;
  if (a->action != b->action || (a->nk == 0) != (b->nk == 0)) return 0;
  for (;;) {
    while (i < a->nk && p->rules[a->k[i].rule].ncond == 0) i++;
    while (j < b->nk && p->rules[b->k[j].rule].ncond == 0) j++;
    if (i == a->nk || j == b->nk) return i == a->nk && j == b->nk;
    if (!rules_equal(&p->rules[a->k[i].rule], &p->rules[b->k[j].rule])) return 0;
    i++, j++;
  }
}

struct ranges {
  struct range *r;
  size_t n, cap;
};

static int add_range(struct ranges *rs, const struct sx_policy *p, uint32_t start,
                     struct outcome o) {
  if (rs->n > 0) {
    const struct outcome *last = &rs->r[rs->n - 1].o;
    if (last->nk == 0 && o.nk == 0 ? last->action == o.action : outcome_equal(p, last, &o))
      return 1;
  }
  if (rs->n == rs->cap) {
    size_t cap = rs->cap ? rs->cap * 2 : 64;
    struct range *r = realloc(rs->r, cap * sizeof *r);
    if (!r) return 0;
    rs->r = r;
    rs->cap = cap;
  }
  rs->r[rs->n++] = (struct range){ start, o };
  return 1;
}

static struct outcome key_outcome(const struct sx_policy *p, const struct sx_keyed *k, size_t nk) {
  struct outcome o = { p->default_action, k, 0 };
  for (size_t i = 0; i < nk; i++) {
    const struct sx_rule *r = &p->rules[k[i].rule];
    if (r->ncond == 0) o.action = r->action;
    else o.nk = nk;
  }
  return o;
}

/* The numbers [lo, hi] that one architecture of an audit-arch group owns. */
struct region {
  uint64_t lo, hi;
  const struct sx_keyed *k;
  size_t nk;
};

static int region_ranges(struct ranges *rs, const struct sx_policy *p, const struct region *rg,
                         uint64_t *cursor) {
  struct outcome constant = { p->default_action, NULL, 0 };
  struct outcome bad = { p->bad_arch_action, NULL, 0 };
  if (rg->lo > *cursor && !add_range(rs, p, (uint32_t)*cursor, bad)) return 0;
  *cursor = rg->lo;
  for (size_t i = 0; i < rg->nk; ) {
    size_t j = i;
    while (j < rg->nk && rg->k[j].key == rg->k[i].key) j++;
    if (rg->k[i].key > *cursor && !add_range(rs, p, (uint32_t)*cursor, constant)) return 0;
    if (!add_range(rs, p, rg->k[i].key, key_outcome(p, rg->k + i, j - i))) return 0;
    *cursor = (uint64_t)rg->k[i].key + 1;
    i = j;
  }
  if (*cursor <= rg->hi && !add_range(rs, p, (uint32_t)*cursor, constant)) return 0;
  *cursor = rg->hi + 1;
  return 1;
}

/* ---- code for one audit arch ----------------------------------------------- */

static int outcome_code(struct gen *g, const struct sx_policy *p, const struct outcome *o,
                        struct layout l) {
  int next = ret(g, o->action);
  for (size_t i = o->nk; i-- > 0; ) {
    const struct sx_rule *r = &p->rules[o->k[i].rule];
    int pass = ret(g, r->action);
    if (r->ncond == 0) continue;
    for (unsigned c = r->ncond; c-- > 0; )
      pass = condition(g, &r->conds[c], l, pass, next);
    next = pass;
  }
  return next;
}

struct group {
  uint32_t audit;
  struct layout layout;
  struct region regions[2];        /* x86_64 and x32 share an audit arch */
  size_t nregions;
  struct sx_keyed *owned[2];
  struct ranges ranges;
  int entry;                       /* position of its code */
};

static void add_region(struct group *gr, int arch, struct sx_keyed *k, size_t nk) {
  struct region rg = { 0, 0xffffffffu, k, nk };
  if (arch == SX_ARCH_X86_64) rg.hi = SX_X32_SYSCALL_BIT - 1;
  if (arch == SX_ARCH_X32) rg.lo = SX_X32_SYSCALL_BIT;
  /* keep regions in number order */
  if (gr->nregions == 1 && gr->regions[0].lo > rg.lo) {
    gr->regions[1] = gr->regions[0];
    gr->owned[1] = gr->owned[0];
    gr->regions[0] = rg;
    gr->owned[0] = k;
  } else {
    gr->regions[gr->nregions] = rg;
    gr->owned[gr->nregions] = k;
  }
  gr->nregions++;
}

static int group_ranges(const struct sx_policy *p, struct group *gr) {
  uint64_t cursor = 0;
  struct outcome bad = { p->bad_arch_action, NULL, 0 };
  for (size_t i = 0; i < gr->nregions; i++)
    if (!region_ranges(&gr->ranges, p, &gr->regions[i], &cursor)) return 0;
  return cursor > 0xffffffffu || add_range(&gr->ranges, p, (uint32_t)cursor, bad);
}

/* Would two arches get the same code? */
static int same_code(const struct sx_policy *p, const struct group *a, const struct group *b) {
  if (a->ranges.n != b->ranges.n || a->layout.big_endian != b->layout.big_endian ||
      a->layout.wide != b->layout.wide) return 0;
  for (size_t i = 0; i < a->ranges.n; i++)
    if (a->ranges.r[i].start != b->ranges.r[i].start ||
        !outcome_equal(p, &a->ranges.r[i].o, &b->ranges.r[i].o)) return 0;
  return 1;
}

/* ---- emission --------------------------------------------------------------- */

/* g->out has room for the kernel's limit: past it, the program is too big. */
static int put(struct gen *g, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  if (g->failed) return 0;
  if (g->count == SX_MAX_INSNS) { g->failed = SX_E_TOO_BIG; return 0; }
  g->out[g->count] = (struct sx_insn){ code, jt, jf, k };
  return (int)g->count++;
}

/* Re-aim at the instruction placed at `at` from close by: a copy of a RET, or a JA. */
static int near_target(struct gen *g, int at) {
  struct sx_insn target = g->out[at];
  if (BPF_CLASS(target.code) == BPF_RET) return put(g, target.code, target.k, 0, 0);
  return put(g, BPF_JMP | BPF_JA, (uint32_t)((int)g->count - at - 1), 0, 0);
}

/* A conditional jump to the instructions placed at t and f. */
static int place_jump(struct gen *g, uint16_t code, uint32_t k, int t, int f) {
  for (;;) {
    if (g->failed) return 0;
    if ((int)g->count - f - 1 > 255) f = near_target(g, f);
    else if ((int)g->count - t - 1 > 255) t = near_target(g, t);
    else break;
  }
  return put(g, code, k, (uint8_t)((int)g->count - t - 1), (uint8_t)((int)g->count - f - 1));
}

/* A load or ALU step that falls through to the instruction placed at `next`. */
static int place_step(struct gen *g, uint16_t code, uint32_t k, int next) {
  if (next != (int)g->count - 1) near_target(g, next);
  return put(g, code, k, 0, 0);
}

/* Place DAG node `id` (once: later uses get the same position) and return its position. */
static int emit(struct gen *g, int id) {
  const struct node *nd = &g->nodes[id];
  int t, f;
  if (g->failed) return 0;
  if (g->pos[id] >= 0) return g->pos[id];
  switch (BPF_CLASS(nd->code)) {
    case BPF_RET:
      return g->pos[id] = put(g, nd->code, nd->k, 0, 0);
    case BPF_JMP:
      t = emit(g, nd->jt);
      f = emit(g, nd->jf);
      return g->pos[id] = place_jump(g, nd->code, nd->k, t, f);
    default:                        /* loads and ALU fall through to their next node */
      t = emit(g, nd->jt);
      return g->pos[id] = place_step(g, nd->code, nd->k, t);
  }
}

/* The balanced search over ranges [lo, hi] (the A register holds the syscall number),
** placed as it is made: each of its jumps tests a different start, so nothing in a tree
** repeats and only its leaves (a RET, or a syscall's argument checks) go through the DAG. */
static int emit_tree(struct gen *g, const struct sx_policy *p, const struct ranges *rs,
                     size_t lo, size_t hi, struct layout l) {
  if (lo == hi) {
    int id = outcome_code(g, p, &rs->r[lo].o, l);
    /* most leaves are RETs placed already: spare them the call */
    return !g->failed && g->pos[id] >= 0 ? g->pos[id] : emit(g, id);
  }
  size_t mid = lo + (hi - lo + 1) / 2;
  int right = emit_tree(g, p, rs, mid, hi, l);
  int left = emit_tree(g, p, rs, lo, mid - 1, l);
  if (right == left) return right;  /* one leaf both ways: no test */
  return place_jump(g, BPF_JMP | BPF_JGE | BPF_K, rs->r[mid].start, right, left);
}

/* The program, placed from its end: each audit arch's code (in the policy's order), the
** bad-arch RET, the arch tests and the load of the arch first. Returns the root. */
static int emit_program(struct gen *g, const struct sx_policy *p, struct group *groups,
                        size_t ngroups) {
  int next;
  for (size_t gi = 0; gi < ngroups; gi++) {
    struct group *gr = &groups[gi];
    size_t same = 0;
    while (same < gi && !same_code(p, &groups[same], gr)) same++;
    if (same < gi) { gr->entry = groups[same].entry; continue; }
    gr->entry = place_step(g, BPF_LD | BPF_W | BPF_ABS, OFF_NR,
                           emit_tree(g, p, &gr->ranges, 0, gr->ranges.n - 1, gr->layout));
  }
  next = emit(g, ret(g, p->bad_arch_action));
  for (size_t gi = ngroups; gi-- > 0; )
    next = place_jump(g, BPF_JMP | BPF_JEQ | BPF_K, groups[gi].audit, groups[gi].entry, next);
  return place_step(g, BPF_LD | BPF_W | BPF_ABS, OFF_ARCH, next);
}

/* ---- the whole program ------------------------------------------------------ */

static size_t collect_groups(const struct sx_policy *p, struct group *groups) {
  size_t n = 0;
  for (size_t i = 0; i < p->narches; i++) {
    uint32_t audit = sx_arch_audit(p->arches[i]);
    size_t gi = 0;
    while (gi < n && groups[gi].audit != audit) gi++;
    if (gi == n) {
      memset(&groups[n], 0, sizeof groups[n]);
      groups[n].audit = audit;
      groups[n].layout.big_endian = sx_arch_big_endian(p->arches[i]);
      groups[n].layout.wide = sx_arch_bits(p->arches[i]) == 64;
      n++;
    }
  }
  return n;
}

/* Each arch's rules by number, and each audit arch's ranges. */
static int resolve(const struct sx_policy *p, const int *rows, struct group *groups,
                   size_t ngroups, struct sx_error *err) {
  int st;
  for (size_t i = 0; i < p->narches; i++) {
    struct sx_keyed *k;
    size_t nk, gi = 0;
    if ((st = sx_resolve_rules(p, rows, p->arches[i], &k, &nk, err))) return st;
    while (groups[gi].audit != sx_arch_audit(p->arches[i])) gi++;
    add_region(&groups[gi], p->arches[i], k, nk);
  }
  for (size_t gi = 0; gi < ngroups; gi++)
    if (!group_ranges(p, &groups[gi]))
      return sx_set_error(err, SX_E_NOMEM, -1, "out of memory"), SX_E_NOMEM;
  return SX_OK;
}

/* The placed program, first instruction first, into `out`. */
static int finish(struct gen *g, struct sx_program *out, struct sx_error *err) {
  if (g->failed == SX_E_TOO_BIG)
    return sx_set_error(err, SX_E_TOO_BIG, -1, "the filter needs more than %d BPF "
                        "instructions, the kernel's limit", SX_MAX_INSNS), SX_E_TOO_BIG;
  if (g->failed || (out->insns = malloc(g->count * sizeof *out->insns)) == NULL)
    return sx_set_error(err, SX_E_NOMEM, -1, "out of memory"), SX_E_NOMEM;
  out->len = g->count;
  for (size_t i = 0; i < g->count; i++) out->insns[i] = g->out[g->count - 1 - i];
  return SX_OK;
}

int sx_compile_rows(const struct sx_policy *p, const int *known, struct sx_program *out,
                    struct sx_error *err) {
  struct gen g;
  struct group groups[SX_ARCH_COUNT];
  size_t ngroups = 0;
  int st, *scratch = NULL;
  const int *rows = known;
  memset(&g, 0, sizeof g);
  for (size_t c = 0; c < sizeof g.rets / sizeof *g.rets; c++) g.rets[c].id = -1;
  out->insns = NULL;
  out->len = 0;
  if (err) { err->code = SX_OK; err->rule = -1; err->message[0] = '\0'; }
  if (!known && (rows = scratch = malloc((p->nrules ? p->nrules : 1) * sizeof *rows)) == NULL)
    return sx_set_error(err, SX_E_NOMEM, -1, "out of memory"), SX_E_NOMEM;
  st = sx_validate_policy(p, known, scratch, err);
  if (st == SX_OK) {
    ngroups = collect_groups(p, groups);
    st = resolve(p, rows, groups, ngroups, err);
  }
  if (st == SX_OK && (g.out = malloc(SX_MAX_INSNS * sizeof *g.out)) == NULL)
    st = (sx_set_error(err, SX_E_NOMEM, -1, "out of memory"), SX_E_NOMEM);
  if (st == SX_OK) {
    emit_program(&g, p, groups, ngroups);
    st = finish(&g, out, err);
  }
  for (size_t gi = 0; gi < ngroups; gi++) {
    for (size_t r = 0; r < groups[gi].nregions; r++) free(groups[gi].owned[r]);
    free(groups[gi].ranges.r);
  }
  free(scratch);
  free(g.nodes);
  free(g.slots);
  free(g.pos);
  free(g.out);
  return st;
}

int sx_compile(const struct sx_policy *p, struct sx_program *out, struct sx_error *err) {
  return sx_compile_rows(p, NULL, out, err);
}

void sx_program_free(struct sx_program *prog) {
  if (!prog) return;
  free(prog->insns);
  prog->insns = NULL;
  prog->len = 0;
}

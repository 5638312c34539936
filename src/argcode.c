/*
** argcode.c: the code that tests one syscall's arguments.
**
** A syscall with conditional rules is decided by the first rule whose conditions all
** hold, else by its fallback. Each condition becomes a small graph of tests on 32-bit
** words of seccomp_data (an argument's low word, and its high word when the syscall reads
** 64 bits), and a rule chains its conditions' graphs; a rule that fails goes on to the
** next. Each test of that graph is made at most once, as in the rules written out one
** after another, and often not at all:
**
** - A test knows what every path to it within its rule has found (a 64-bit `eq` tests the
**   low word knowing the high one matched), and is not made when that decides it.
** - A jump goes past the tests that its own path decides, into later rules too: ten `eq`
**   rules on one 64-bit argument test its high word once, then the low word against each
**   value; a failed `a == 1` skips every following rule that needs `a == 1`, and the
**   rule that failed on its second condition goes straight to the next rule's second.
** - A word is loaded only where A does not already hold it.
** - Code equal to code already placed (the same test aiming at the same code) is not
**   placed again, for this syscall or a later one.
**
** What a path knows is never given code of its own (a copy of the rest for each path
** would grow without bound): a test's code assumes only what all paths to it share. So
** the code is at most the rules written out one after another, but for the JA that a
** jump past a test may need to reach the load in front of the test it lands on.
*/
#include <stdlib.h>

#include "argcode.h"

#define ALL 0xffffffffu

/* ---- tests on words ----------------------------------------------------------------- */

enum { OP_EQ, OP_GT, OP_GE, OP_SET, OP_RET };

/* (word at off & mask) == k, > k, >= k; OP_SET: (word & k) != 0, with mask ALL; OP_RET:
** no test, the program returns k. */
struct test {
  uint32_t off, mask, k;
  int op;
};

static const uint16_t jump_code[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };

/* A node of the rules' graph: a test and where each answer leads, next[1] when it holds. A
** place in the graph is a node, or the end of the rule it belongs to: PASS (the rule
** decides) or FAIL (the next rule is tried). */
enum { PASS = -1, FAIL = -2 };
struct node {
  struct test t;
  int next[2];
  int rule;
  int facts;               /* what every path to it within its rule knows */
  int decided;             /* what that says of its test: -1 nothing, 0 or 1 its answer */
  int reached;             /* some path within the rule gets here */
  int entry;               /* its code once made, or -1 */
};

/* What a test on a path answered. Facts form a tree: each points at the one before it on
** its path (-1 for none). */
struct fact {
  struct test t;
  int holds;
  int up;
};

/* Code that is placed or can be: a test and the entries its answers lead to, or a RET.
** It can be entered with A holding the test's word already, behind an AND of its mask, or
** behind a load: at[] holds each of those once placed (-1 before). */
enum { AT_TEST, AT_AND, AT_LOAD };
struct entry {
  struct test t;
  int kid[2];
  int at[3];
};

/* A node whose code is being made: its kids' entries come first (false, then true).
** [early, early_end) is where its false kid's way in was placed next to that kid's code. */
struct frame {
  int node;
  int kid[2];
  int phase;
  size_t early, early_end;
};

/* A conditional rule of the syscall being compiled. */
struct rule {
  int entry;               /* the place it starts at */
  uint32_t action;
  int ret;                 /* the entry returning action, once looked up (-1 before) */
};

struct sx_argcode {
  /* the syscall being compiled: its graph, its rules and what paths know */
  struct node *nodes;
  size_t nnodes, cap_nodes;
  struct rule *rules;
  size_t nrules, cap_rules;
  uint32_t fallback;
  int fallback_ret;        /* the entry returning fallback, once looked up (-1 before) */
  int oom;                 /* the graph could not grow */
  struct fact *facts;
  size_t nfacts, cap_facts;
  struct frame *frames;
  size_t cap_frames;
  /* the whole program's */
  struct entry *entries;
  size_t nentries, cap_entries;
  int *unique;             /* entries by content, open addressing, -1 empty */
  size_t cap_unique;
};

/* p grown to hold at least `need` items of `size` bytes (*cap updated), or NULL. */
static void *grown(void *p, size_t *cap, size_t need, size_t size) {
  size_t n = *cap ? *cap : 16;
  void *q;
  while (n < need) n *= 2;
  if (n > SIZE_MAX / size || (q = realloc(p, n * size)) == NULL) return NULL;
  *cap = n;
  return q;
}

static inline uint32_t mix(uint32_t h, uint32_t v) {
  h ^= v + 0x9e3779b9u + (h << 6) + (h >> 2);
  return h * 0x85ebca6bu;
}

static inline int same_test(const struct test *a, const struct test *b) {
  return a->off == b->off && a->mask == b->mask && a->k == b->k && a->op == b->op;
}

/* ---- the rules' graph ---------------------------------------------------------------- */

/* A node for test t, in its simplest form, or where the test leads without being made. */
static int test_node(struct sx_argcode *ac, struct test t, int yes, int no) {
  struct node *n;
  if (t.op == OP_EQ) {
    if (t.k & ~t.mask) return no;
    if (t.k == 0) {                            /* no bit of the mask set: one JSET */
      int swap = yes;
      yes = no, no = swap;
      t = (struct test){ t.off, ALL, t.mask, OP_SET };
    } else if (t.k == t.mask && (t.k & (t.k - 1)) == 0) {
      t = (struct test){ t.off, ALL, t.k, OP_SET };
    }
  }
  if (t.op == OP_SET) {
    t.k &= t.mask;
    t.mask = ALL;
    if (t.k == 0) return no;
  }
  if (t.op == OP_GT && t.k >= t.mask) return no;
  if (t.op == OP_GE && t.k == 0) return yes;
  if (t.op == OP_GE && t.k > t.mask) return no;
  if (yes == no) return yes;
  if (ac->nnodes == ac->cap_nodes) {
    void *q = grown(ac->nodes, &ac->cap_nodes, ac->nnodes + 1, sizeof *ac->nodes);
    if (q == NULL) { ac->oom = 1; return no; }
    ac->nodes = q;
  }
  n = &ac->nodes[ac->nnodes];
  *n = (struct node){ t, { no, yes }, (int)ac->nrules, -1, -1, 0, -1 };
  return (int)ac->nnodes++;
}

/* arg > value (strict) or arg >= value on all 64 bits: the high word decides unless it is
** equal, and then the low word does. */
static int order64(struct sx_argcode *ac, uint32_t lo, uint32_t hi, int strict, uint64_t value,
                   int above, int below) {
  uint32_t vlo = (uint32_t)value, vhi = (uint32_t)(value >> 32);
  int low = test_node(ac, (struct test){ lo, ALL, vlo, strict ? OP_GT : OP_GE }, above, below);
  if (vhi == 0) return test_node(ac, (struct test){ hi, ALL, 0, OP_GT }, above, low);
  return test_node(ac, (struct test){ hi, ALL, vhi, OP_GT }, above,
                   test_node(ac, (struct test){ hi, ALL, vhi, OP_EQ }, low, below));
}

/* Condition c on an argument the syscall reads `bits` of, leading to yes or no. A
** condition compares those bits only (sx_arg_bits: an int is its low 32 bits on every ABI,
** whatever the register's upper half holds, which the caller chooses freely). */
static int cond_node(struct sx_argcode *ac, const struct sx_cond *c, int bits, int big_endian,
                     int yes, int no) {
  uint32_t lo = OFF_ARGS + 8 * c->index + (big_endian ? 4 : 0), hi = lo ^ 4;
  if (bits < 64) {
    uint32_t w = (uint32_t)sx_bits_mask(bits), v = (uint32_t)c->value & w;
    switch (c->op) {
      case SX_OP_EQ: return test_node(ac, (struct test){ lo, w, v, OP_EQ }, yes, no);
      case SX_OP_NE: return test_node(ac, (struct test){ lo, w, v, OP_EQ }, no, yes);
      case SX_OP_MASKED_EQ:
        return test_node(ac, (struct test){ lo, (uint32_t)c->mask & w, v, OP_EQ }, yes, no);
      case SX_OP_GT: return test_node(ac, (struct test){ lo, w, v, OP_GT }, yes, no);
      case SX_OP_GE: return test_node(ac, (struct test){ lo, w, v, OP_GE }, yes, no);
      case SX_OP_LT: return test_node(ac, (struct test){ lo, w, v, OP_GE }, no, yes);
      case SX_OP_LE: return test_node(ac, (struct test){ lo, w, v, OP_GT }, no, yes);
      default: return no;     /* unreachable: sx_validate_policy rejects unknown ops */
    }
  }
  switch (c->op) {
    case SX_OP_EQ: case SX_OP_NE: case SX_OP_MASKED_EQ: {
      uint64_t m = c->op == SX_OP_MASKED_EQ ? c->mask : UINT64_MAX;
      int t = c->op == SX_OP_NE ? no : yes, f = c->op == SX_OP_NE ? yes : no;
      int low = test_node(ac, (struct test){ lo, (uint32_t)m, (uint32_t)c->value, OP_EQ }, t, f);
      return test_node(ac, (struct test){ hi, (uint32_t)(m >> 32), (uint32_t)(c->value >> 32),
                                          OP_EQ }, low, f);
    }
    case SX_OP_GT: return order64(ac, lo, hi, 1, c->value, yes, no);
    case SX_OP_GE: return order64(ac, lo, hi, 0, c->value, yes, no);
    case SX_OP_LT: return order64(ac, lo, hi, 0, c->value, no, yes);
    case SX_OP_LE: return order64(ac, lo, hi, 1, c->value, no, yes);
    default: return no;
  }
}

/* The graph of o's conditional rules, and where each starts. 0, or -1 out of memory. */
static int build_graph(struct sx_argcode *ac, const struct sx_outcome_rules *o) {
  const struct sx_policy *p = o->policy;
  ac->nnodes = ac->nrules = 0;
  ac->oom = 0;
  if (o->nk > ac->cap_rules) {
    void *q = grown(ac->rules, &ac->cap_rules, o->nk, sizeof *ac->rules);
    if (q == NULL) return -1;
    ac->rules = q;
  }
  int bits[6] = { 0, 0, 0, 0, 0, 0 };     /* each argument's, looked up when first needed */
  for (size_t i = 0; i < o->nk; i++) {
    const struct sx_rule *r = &p->rules[o->k[i].rule];
    int entry = PASS;
    if (r->ncond == 0) continue;
    for (unsigned c = r->ncond; c-- > 0 && entry != FAIL; ) {
      unsigned index = r->conds[c].index;    /* (0..5: sx_validate_policy) */
      if (bits[index] == 0) bits[index] = sx_arg_bits(o->arch, (long)o->k[i].key, index);
      entry = cond_node(ac, &r->conds[c], bits[index], o->big_endian, entry, FAIL);
    }
    ac->rules[ac->nrules++] = (struct rule){ entry, r->action, -1 };
  }
  ac->fallback = o->fallback;
  ac->fallback_ret = -1;
  return ac->oom ? -1 : 0;
}

/* ---- what a path knows ----------------------------------------------------------------- */

/* What the facts from `facts` up say of test x: 1 it holds, 0 it does not, -1 unknown. The
** view's value v = word & mask lies in [lo, hi], and bits of the word may be known one or
** zero (from an equality, or a JSET that failed). */
static int decide(const struct sx_argcode *ac, const struct test *x, int facts) {
  uint32_t lo = 0, hi = x->mask, one = 0, zero = ~x->mask;
  for (int i = facts; i >= 0; i = ac->facts[i].up) {
    const struct fact *f = &ac->facts[i];
    const struct test *t = &f->t;
    if (t->off != x->off) continue;
    if (t->op == OP_SET) {
      if (!f->holds) { zero |= t->k; continue; }
      /* some bit of t->k is set */
      if (x->op == OP_SET && (t->k & ~x->k) == 0) return 1;
      if (x->op == OP_EQ && (t->k & ~x->mask) == 0 && (x->k & t->k) == 0) return 0;
      continue;
    }
    if (t->op == OP_EQ && f->holds) { one |= t->k; zero |= t->mask & ~t->k; }
    if (t->mask != x->mask) continue;           /* ranges are of one view's values */
    switch (t->op) {
      case OP_EQ:
        if (f->holds) { if (lo < t->k) lo = t->k; if (hi > t->k) hi = t->k; }
        else if (x->op == OP_EQ && x->k == t->k) return 0;
        break;
      case OP_GT:                               /* (test_node: k < mask, k + 1 fits) */
        if (f->holds) { if (lo < t->k + 1) lo = t->k + 1; } else if (hi > t->k) hi = t->k;
        break;
      case OP_GE:                               /* (test_node: k > 0) */
        if (f->holds) { if (lo < t->k) lo = t->k; } else if (hi > t->k - 1) hi = t->k - 1;
        break;
      default: break;
    }
  }
  one &= x->mask;
  if (lo < one) lo = one;                       /* v has those bits, so it is at least them */
  if (hi > (x->mask & ~zero)) hi = x->mask & ~zero;
  if (lo > hi) return 0;                        /* no path gets here: either answer will do */
  switch (x->op) {
    case OP_EQ:
      if ((x->k & zero) || (one & ~x->k) || x->k < lo || x->k > hi) return 0;
      return lo == hi || (one | zero) == ALL ? 1 : -1;
    case OP_GT: return lo > x->k ? 1 : hi <= x->k ? 0 : -1;
    case OP_GE: return lo >= x->k ? 1 : hi < x->k ? 0 : -1;
    case OP_SET: {
      uint32_t top = lo;                        /* lo's highest bit, which v >= lo reaches */
      while (top & (top - 1)) top &= top - 1;
      if ((x->k & one) || (lo > 0 && (~(top - 1) & ~x->k) == 0)) return 1;
      if ((x->k & ~zero) == 0 || hi < (x->k & (~x->k + 1))) return 0;   /* v below k's bits */
      return -1;
    }
    default: return -1;
  }
}

/* The facts `facts` and then test t's answer (just `facts` out of memory: knowing less is
** always correct). */
static int add_fact(struct sx_argcode *ac, int facts, const struct test *t, int holds) {
  if (ac->nfacts == ac->cap_facts) {
    void *q = grown(ac->facts, &ac->cap_facts, ac->nfacts + 1, sizeof *ac->facts);
    if (q == NULL) return facts;
    ac->facts = q;
  }
  ac->facts[ac->nfacts] = (struct fact){ *t, holds, facts };
  return (int)ac->nfacts++;
}

/* Is fact i one of the facts from `list` up to (not including) `stop`? */
static int among(const struct sx_argcode *ac, int i, int list, int stop) {
  for (int j = list; j != stop; j = ac->facts[j].up)
    if (ac->facts[j].holds == ac->facts[i].holds && same_test(&ac->facts[j].t, &ac->facts[i].t))
      return 1;
  return 0;
}

/* The facts that lists a and b both hold: what a path into a node knows when it may come
** either way. Their common start (facts are made after the ones they point at) is shared,
** and of the rest only what both found. */
static int meet(struct sx_argcode *ac, int a, int b) {
  int common = a, j = b, out;
  while (common != j) {
    if (common > j) common = ac->facts[common].up; else j = ac->facts[j].up;
  }
  out = common;
  for (int i = a; i != common; i = ac->facts[i].up)
    if (among(ac, i, b, common)) {
      struct test t = ac->facts[i].t;
      out = add_fact(ac, out, &t, ac->facts[i].holds);
    }
  return out;
}

/* What every path to each node within its rule knows, and what that decides of its test.
** A rule starts knowing nothing: what a path brings from earlier rules is used by the
** jump that leads it into the rule, not by the rule's code, which all paths share. Within
** a rule a node leads only to nodes made before it, so going down from the last node made
** meets each one after all the nodes that lead to it. */
static void know_within_rules(struct sx_argcode *ac) {
  for (size_t r = 0; r < ac->nrules; r++)
    if (ac->rules[r].entry >= 0) ac->nodes[ac->rules[r].entry].reached = 1;
  for (size_t i = ac->nnodes; i-- > 0; ) {
    struct node *n = &ac->nodes[i];
    if (!n->reached) continue;                   /* (no path gets here) */
    n->decided = decide(ac, &n->t, n->facts);
    for (int b = 0; b < 2; b++) {
      int to = n->next[b], f;
      if (to < 0 || (n->decided >= 0 && b != n->decided)) continue;
      f = add_fact(ac, n->facts, &n->t, b);
      if (ac->nodes[to].reached) {
        ac->nodes[to].facts = meet(ac, ac->nodes[to].facts, f);
      } else {
        ac->nodes[to].facts = f;
        ac->nodes[to].reached = 1;
      }
    }
  }
}

/* ---- entries: code that is placed or can be -------------------------------------------- */

static uint32_t entry_hash(const struct test *t, int kid0, int kid1) {
  uint32_t h = mix(mix(mix(mix(mix(0, t->off), t->mask), t->k), (uint32_t)t->op), (uint32_t)kid0);
  return mix(h, (uint32_t)kid1);
}

/* The entry for test t with kids kid0 (not holding) and kid1, made when new; -1 out of
** memory. */
static int entry_for(struct sx_argcode *ac, const struct test *t, int kid0, int kid1, int *fresh) {
  size_t s;
  *fresh = 0;
  if (2 * (ac->nentries + 1) > ac->cap_unique) {
    size_t cap = ac->cap_unique ? 2 * ac->cap_unique : 256;
    int *u = malloc(cap * sizeof *u);
    if (u == NULL) return -1;
    for (size_t i = 0; i < cap; i++) u[i] = -1;
    for (size_t e = 0; e < ac->nentries; e++) {
      const struct entry *x = &ac->entries[e];
      s = entry_hash(&x->t, x->kid[0], x->kid[1]) & (cap - 1);
      while (u[s] >= 0) s = (s + 1) & (cap - 1);
      u[s] = (int)e;
    }
    free(ac->unique);
    ac->unique = u;
    ac->cap_unique = cap;
  }
  s = entry_hash(t, kid0, kid1) & (ac->cap_unique - 1);
  for (; ac->unique[s] >= 0; s = (s + 1) & (ac->cap_unique - 1)) {
    const struct entry *x = &ac->entries[ac->unique[s]];
    if (same_test(&x->t, t) && x->kid[0] == kid0 && x->kid[1] == kid1) return ac->unique[s];
  }
  if (ac->nentries == ac->cap_entries) {
    void *q = grown(ac->entries, &ac->cap_entries, ac->nentries + 1, sizeof *ac->entries);
    if (q == NULL) return -1;
    ac->entries = q;
  }
  ac->entries[ac->nentries] = (struct entry){ *t, { kid0, kid1 }, { -1, -1, -1 } };
  ac->unique[s] = (int)ac->nentries;
  *fresh = 1;
  return (int)ac->nentries++;
}

/* The entry returning action, kept in *cache (-1 until looked up; -1 out of memory). */
static int ret_entry(struct sx_argcode *ac, uint32_t action, int *cache) {
  int fresh;
  struct test t = { 0, 0, action, OP_RET };
  if (*cache < 0) *cache = entry_for(ac, &t, -1, -1, &fresh);
  return *cache;
}

/* Where to jump to run entry e with A holding word `off` & `mask`: past the load (and the
** AND) when A already holds what the test compares; the variant is placed when first
** needed. */
static int entry_target(struct gen *g, struct sx_argcode *ac, int e, uint32_t off, uint32_t mask) {
  struct entry *x = &ac->entries[e];
  if (x->t.op == OP_RET) return ret(g, x->t.k);
  if (off == x->t.off && mask == x->t.mask) return x->at[AT_TEST];
  if (x->t.mask != ALL && off == x->t.off && (x->t.mask & ~mask) == 0) {
    if (x->at[AT_AND] < 0)
      x->at[AT_AND] = place_step(g, BPF_ALU | BPF_AND | BPF_K, x->t.mask, x->at[AT_TEST]);
    return x->at[AT_AND];
  }
  if (x->at[AT_LOAD] < 0) {
    int next = x->at[AT_TEST];
    if (x->t.mask != ALL) {
      if (x->at[AT_AND] < 0)
        x->at[AT_AND] = place_step(g, BPF_ALU | BPF_AND | BPF_K, x->t.mask, x->at[AT_TEST]);
      next = x->at[AT_AND];
    }
    x->at[AT_LOAD] = place_step(g, BPF_LD | BPF_W | BPF_ABS, x->t.off, next);
  }
  return x->at[AT_LOAD];
}

/* The latest placed way into entry e (-1 for a RET, which is placed where it is needed). */
static int latest(const struct sx_argcode *ac, int e) {
  const struct entry *x = &ac->entries[e];
  int at = -1;
  if (x->t.op == OP_RET) return -1;
  for (int v = 0; v < 3; v++) if (x->at[v] > at) at = x->at[v];
  return at;
}

/* The entry for test t between kids made already, placed when new. Each kid's way in is
** placed next to its code when that is the latest placed, so the newer kid goes first. */
static int node_entry(struct gen *g, struct sx_argcode *ac, const struct test *t,
                      const int kid[2]) {
  int fresh, e, first, to[2];
  if (kid[0] == kid[1]) return kid[0];         /* the answer changes nothing: no test */
  if ((e = entry_for(ac, t, kid[0], kid[1], &fresh)) < 0 || !fresh) return e;
  first = latest(ac, kid[1]) > latest(ac, kid[0]);
  to[first] = entry_target(g, ac, kid[first], t->off, t->mask);
  to[!first] = entry_target(g, ac, kid[!first], t->off, t->mask);
  ac->entries[e].at[AT_TEST] =
    place_jump(g, BPF_JMP | jump_code[t->op] | BPF_K, t->k, to[1], to[0]);
  return e;
}

/* ---- the walk ------------------------------------------------------------------------ */

/* settle's answers besides an entry. */
enum { NEEDS_CODE = -1, NO_MEMORY = -2 };

/* Where place `node` of rule `rule` leads a path that knows `facts`, past every test that
** the path or the test's own node decides: the entry it ends in (a RET, or a node's code
** made already), or NEEDS_CODE with *node the node to make code for, or NO_MEMORY. */
static int settle(struct sx_argcode *ac, int rule, int *node, int facts) {
  int e;
  for (;;) {
    const struct node *n;
    int d;
    if (*node == PASS) {
      e = ret_entry(ac, ac->rules[rule].action, &ac->rules[rule].ret);
      return e < 0 ? NO_MEMORY : e;
    }
    if (*node == FAIL) {
      if ((size_t)++rule == ac->nrules) {
        e = ret_entry(ac, ac->fallback, &ac->fallback_ret);
        return e < 0 ? NO_MEMORY : e;
      }
      *node = ac->rules[rule].entry;
      continue;
    }
    n = &ac->nodes[*node];
    if ((d = decide(ac, &n->t, facts)) < 0 && (d = n->decided) < 0) break;
    facts = add_fact(ac, facts, &n->t, d);      /* (what is passed is known after it) */
    *node = n->next[d];
  }
  return ac->nodes[*node].entry >= 0 ? ac->nodes[*node].entry : NEEDS_CODE;
}

/* Push node as a frame at depth d; 0 out of memory. */
static int push(struct sx_argcode *ac, size_t d, int node) {
  if (d == ac->cap_frames) {
    void *q = grown(ac->frames, &ac->cap_frames, d + 1, sizeof *ac->frames);
    if (q == NULL) return 0;
    ac->frames = q;
  }
  ac->frames[d] = (struct frame){ node, { -1, -1 }, 0, 0, 0 };
  return 1;
}

/* The false kid e of frame fr was just made. Its way in for fr's test goes next to its
** code now, while that is the latest placed: once the true kid's code is placed, it could
** only be reached through a JA. */
static void place_way_in(struct gen *g, struct sx_argcode *ac, struct frame *fr, int e) {
  const struct test *t = &ac->nodes[fr->node].t;
  if (latest(ac, e) != (int)g->count - 1) return;
  fr->early = g->count;
  entry_target(g, ac, e, t->off, t->mask);
  fr->early_end = g->count;
}

/* Frame fr tests nothing after all (both kids are kid e): the way into e placed for its
** test is taken back while nothing came after it, or it would be reached by nothing. */
static void take_back_way_in(struct gen *g, struct sx_argcode *ac, const struct frame *fr, int e) {
  struct entry *x = &ac->entries[e];
  if (fr->early_end == fr->early || fr->early_end != g->count) return;
  drop_from(g, fr->early);
  for (int v = 0; v < 3; v++) if (x->at[v] >= (int)fr->early) x->at[v] = -1;
}

/* The entry for the rules from their start, or NO_MEMORY. A node's code is made once its
** kids' entries are known: where each answer leads a path that knows what the node knows
** and that answer. Frames sit in ac->frames, not on the C stack, as a long chain of rules
** makes a deep walk. */
static int walk(struct gen *g, struct sx_argcode *ac) {
  int node = ac->rules[0].entry, e = settle(ac, 0, &node, -1);
  size_t depth = 0;
  if (e != NEEDS_CODE) return e;
  if (!push(ac, depth++, node)) return NO_MEMORY;
  while (depth > 0) {
    struct frame *fr = &ac->frames[depth - 1];
    struct node *n = &ac->nodes[fr->node];
    if (g->failed) return NO_MEMORY;            /* (the caller keeps g's own reason) */
    if (fr->phase < 2) {
      int b = fr->phase++;
      size_t mark = ac->nfacts;                  /* (a jump's facts serve it alone) */
      node = n->next[b];
      e = settle(ac, n->rule, &node, add_fact(ac, n->facts, &n->t, b));
      ac->nfacts = mark;
      if (e >= 0) fr->kid[b] = e;
      else if (e == NO_MEMORY || !push(ac, depth++, node)) return NO_MEMORY;
      continue;
    }
    if (fr->kid[0] == fr->kid[1]) take_back_way_in(g, ac, fr, fr->kid[0]);
    if ((e = node_entry(g, ac, &n->t, fr->kid)) < 0) return NO_MEMORY;
    n->entry = e;
    if (--depth > 0) {
      fr = &ac->frames[depth - 1];
      fr->kid[fr->phase - 1] = e;
      if (fr->phase == 1) place_way_in(g, ac, fr, e);
    }
  }
  return e;
}

/* ---- the interface -------------------------------------------------------------------- */

struct sx_argcode *sx_argcode_new(void) {
  return calloc(1, sizeof(struct sx_argcode));
}

void sx_argcode_free(struct sx_argcode *ac) {
  if (ac == NULL) return;
  free(ac->nodes);
  free(ac->rules);
  free(ac->facts);
  free(ac->frames);
  free(ac->entries);
  free(ac->unique);
  free(ac);
}

int sx_argcode_place(struct gen *g, struct sx_argcode *ac, const struct sx_outcome_rules *o) {
  int e = -1;
  if (ac && build_graph(ac, o) == 0) {
    ac->nfacts = 0;
    if (ac->nrules == 0) return ret(g, o->fallback);
    know_within_rules(ac);
    e = walk(g, ac);
  }
  if (e < 0) {                                 /* NO_MEMORY, or g failed on its own */
    if (!g->failed) g->failed = SX_E_NOMEM;
    return ret(g, o->fallback);
  }
  return entry_target(g, ac, e, OFF_NR, ALL);
}

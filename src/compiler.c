/*
** compiler.c: rules to classic BPF.
**
** The program checks seccomp_data.arch first, then, per audit arch, searches the syscall
** number with a balanced binary tree over ranges of numbers that share an outcome. An
** outcome is either a constant action (one RET) or, for a syscall with argument
** conditions, the code that tests its arguments (argcode.c): only that syscall's branch
** ever loads them, so every other number keeps a path the kernel's constant-action cache
** accepts.
**
** Code is placed backwards, from the program's end, as it is made (place.h); an arch
** whose code would equal an earlier arch's shares that code. A policy without conditions
** reaches the ranges through a map of actions per number (sx_map_rules) instead of
** sorted keys.
*/
#include <stdlib.h>
#include <string.h>

#include "argcode.h"

/* How arguments sit in seccomp_data on one audit arch. */
struct layout {
  int big_endian;
};

/* ---- outcomes and ranges -------------------------------------------------- */

/* What one syscall number gets: a constant action, or the conditional rules of its key
** (entries k[0..nk) of the resolved rules, unconditional ones skipped) then `action`; arch
** is the architecture the key belongs to, which says how wide each argument is. */
struct outcome {
  uint32_t action;
  const struct sx_keyed *k;
  size_t nk;               /* 0: constant */
  int arch;
};

struct range {
  uint32_t start;
  struct outcome o;
};

/* The bits condition c of an outcome's rules compares. */
static inline int cond_bits(const struct outcome *o, const struct sx_cond *c) {
  return sx_arg_bits(o->arch, (long)o->k[0].key, c->index);
}

/* Do rule ra of outcome a and rule rb of outcome b make the same code? */
static int rules_equal(const struct outcome *a, const struct sx_rule *ra, const struct outcome *b,
                       const struct sx_rule *rb) {
  if (ra->action != rb->action || ra->ncond != rb->ncond) return 0;
  for (unsigned c = 0; c < ra->ncond; c++)
    if (!sx_cond_same(&ra->conds[c], cond_bits(a, &ra->conds[c]), &rb->conds[c],
                      cond_bits(b, &rb->conds[c]))) return 0;
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
    if (!rules_equal(a, &p->rules[a->k[i].rule], b, &p->rules[b->k[j].rule])) return 0;
    i++, j++;
  }
}

/* A group's ranges, in room made for the most it can have (max_ranges). */
struct ranges {
  struct range *r;
  size_t n;
};

/* A range with a constant action, unless the last range goes on with it. */
static inline void add_constant(struct ranges *rs, uint32_t start, uint32_t action) {
  if (rs->n > 0 && rs->r[rs->n - 1].o.nk == 0 && rs->r[rs->n - 1].o.action == action) return;
  rs->r[rs->n++] = (struct range){ start, { action, NULL, 0, -1 } };
}

static void add_range(struct ranges *rs, const struct sx_policy *p, uint32_t start,
                      struct outcome o) {
  if (o.nk == 0) { add_constant(rs, start, o.action); return; }
  if (rs->n > 0 && outcome_equal(p, &rs->r[rs->n - 1].o, &o)) return;
  rs->r[rs->n++] = (struct range){ start, o };
}

static struct outcome key_outcome(const struct sx_policy *p, const struct sx_keyed *k, size_t nk,
                                  int arch) {
  struct outcome o = { p->default_action, k, 0, arch };
  for (size_t i = 0; i < nk; i++) {
    const struct sx_rule *r = &p->rules[k[i].rule];
    if (r->ncond == 0) o.action = r->action;
    else o.nk = nk;
  }
  return o;
}

/* The numbers [lo, hi] that one architecture of an audit-arch group owns, and its rules:
** sorted by key (k), or for a policy without conditions as a map of actions. */
struct region {
  int arch;
  uint64_t lo, hi;
  const struct sx_keyed *k;
  size_t nk;
  const struct sx_action_map *map;
};

/* Numbers from *cursor up to key get the default action, key gets o. */
static inline void add_key(struct ranges *rs, const struct sx_policy *p, uint32_t key,
                           struct outcome o, uint64_t *cursor) {
  if (key > *cursor) add_constant(rs, (uint32_t)*cursor, p->default_action);
  *cursor = (uint64_t)key + 1;
  add_range(rs, p, key, o);
}

static void region_ranges(struct ranges *rs, const struct sx_policy *p, const struct region *rg,
                          uint64_t *cursor) {
  if (rg->lo > *cursor) add_constant(rs, (uint32_t)*cursor, p->bad_arch_action);
  *cursor = rg->lo;
  for (size_t w = 0; rg->map && w < SX_MAP_NUMBERS / 64; w++)
    for (uint64_t bits = rg->map->used[w]; bits; bits &= bits - 1) {
      uint32_t b = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
      add_key(rs, p, (uint32_t)rg->lo + b, (struct outcome){ rg->map->action[b], NULL, 0, -1 },
              cursor);
    }
  for (size_t i = 0; i < rg->nk; ) {
    size_t j = i;
    while (j < rg->nk && rg->k[j].key == rg->k[i].key) j++;
    add_key(rs, p, rg->k[i].key, key_outcome(p, rg->k + i, j - i, rg->arch), cursor);
    i = j;
  }
  if (*cursor <= rg->hi) add_constant(rs, (uint32_t)*cursor, p->default_action);
  *cursor = rg->hi + 1;
}

/* ---- code for one audit arch ----------------------------------------------- */

struct group {
  uint32_t audit;
  struct layout layout;
  struct region regions[2];        /* x86_64 and x32 share an audit arch */
  size_t nregions;
  void *owned[2];                  /* each region's keys */
  struct ranges ranges;
  int entry;                       /* position of its code */
};

static void add_region(struct group *gr, int arch, struct sx_keyed *k, size_t nk,
                       const struct sx_action_map *map) {
  struct region rg = { arch, 0, 0xffffffffu, k, nk, map };
  void *owned = k;
  if (arch == SX_ARCH_X86_64) rg.hi = SX_X32_SYSCALL_BIT - 1;
  if (arch == SX_ARCH_X32) rg.lo = SX_X32_SYSCALL_BIT;
  /* keep regions in number order */
  if (gr->nregions == 1 && gr->regions[0].lo > rg.lo) {
    gr->regions[1] = gr->regions[0];
    gr->owned[1] = gr->owned[0];
    gr->regions[0] = rg;
    gr->owned[0] = owned;
  } else {
    gr->regions[gr->nregions] = rg;
    gr->owned[gr->nregions] = owned;
  }
  gr->nregions++;
}

/* The most ranges a group can have: per region the bad-arch numbers before it, each key
** and the default-action numbers before it, and those after the last key; then the
** bad-arch numbers after the last region. */
static size_t max_ranges(const struct group *gr) {
  size_t n = 1;
  for (size_t i = 0; i < gr->nregions; i++) {
    const struct region *rg = &gr->regions[i];
    n += 2 + 2 * (rg->map ? rg->map->count : rg->nk);
  }
  return n;
}

/* The group's ranges, in the room at *room, which moves past them. */
static void group_ranges(const struct sx_policy *p, struct group *gr, struct range **room) {
  uint64_t cursor = 0;
  gr->ranges.r = *room;
  *room += max_ranges(gr);
  for (size_t i = 0; i < gr->nregions; i++)
    region_ranges(&gr->ranges, p, &gr->regions[i], &cursor);
  if (cursor <= 0xffffffffu) add_constant(&gr->ranges, (uint32_t)cursor, p->bad_arch_action);
}

/* Would two arches get the same code? */
static int same_code(const struct sx_policy *p, const struct group *a, const struct group *b) {
  if (a->ranges.n != b->ranges.n || a->layout.big_endian != b->layout.big_endian) return 0;
  for (size_t i = 0; i < a->ranges.n; i++)
    if (a->ranges.r[i].start != b->ranges.r[i].start ||
        !outcome_equal(p, &a->ranges.r[i].o, &b->ranges.r[i].o)) return 0;
  return 1;
}

/* ---- emission --------------------------------------------------------------- */

/* The target for one range: its RET, or the code for its conditional rules. */
static inline int leaf(struct gen *g, struct sx_argcode *ac, const struct sx_policy *p,
                       const struct range *r, struct layout l) {
  struct sx_outcome_rules o = { p, r->o.k, r->o.nk, r->o.arch, l.big_endian, r->o.action };
  return r->o.nk == 0 ? ret(g, r->o.action) : sx_argcode_place(g, ac, &o);
}

/* The balanced search over ranges [lo, hi] (the A register holds the syscall number),
** placed as it is made. Returns the target to jump to. */
static int emit_tree(struct gen *g, struct sx_argcode *ac, const struct sx_policy *p,
                     const struct ranges *rs, size_t lo, size_t hi, struct layout l) {
  size_t mid = lo + (hi - lo + 1) / 2;
  int right, left;
  if (lo == hi) return leaf(g, ac, p, &rs->r[lo], l);
  right = hi == mid ? leaf(g, ac, p, &rs->r[mid], l) : emit_tree(g, ac, p, rs, mid, hi, l);
  left = lo == mid - 1 ? leaf(g, ac, p, &rs->r[lo], l) : emit_tree(g, ac, p, rs, lo, mid - 1, l);
  return jump(g, BPF_JGE, rs->r[mid].start, right, left);
}

/* The program, placed from its end: each audit arch's code (in the policy's order), the
** bad-arch RET, the arch tests and the load of the arch first. Returns the root. */
static int emit_program(struct gen *g, struct sx_argcode *ac, const struct sx_policy *p,
                        struct group *groups, size_t ngroups) {
  int next;
  for (size_t gi = 0; gi < ngroups; gi++) {
    struct group *gr = &groups[gi];
    size_t same = 0;
    while (same < gi && !same_code(p, &groups[same], gr)) same++;
    if (same < gi) { gr->entry = groups[same].entry; continue; }
    gr->entry = place_step(g, BPF_LD | BPF_W | BPF_ABS, OFF_NR,
                           emit_tree(g, ac, p, &gr->ranges, 0, gr->ranges.n - 1, gr->layout));
  }
  next = ret(g, p->bad_arch_action);
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
      n++;
    }
  }
  return n;
}

/* Each arch's rules by number, and each audit arch's ranges. When `maps` has room for a
** map of actions per arch (a policy without conditions), the rules that fit one go there,
** from the policy's rules or from `list`; the rest are sorted by key. */
static int resolve(const struct sx_policy *p, const int *rows, const struct sx_list *list,
                   struct sx_action_map *maps, struct range *room, struct group *groups,
                   size_t ngroups, struct sx_error *err) {
  int st;
  if (list && (st = sx_map_list(p, list, maps, err))) return st;
  for (size_t i = 0; i < p->narches; i++) {
    struct sx_keyed *k = NULL;
    struct sx_action_map *map = maps ? &maps[i] : NULL;
    size_t nk = 0, gi = 0;
    if (map && !list && !sx_map_rules(p, rows, p->arches[i], map)) map = NULL;
    if (!map && (st = sx_resolve_rules(p, rows, p->arches[i], &k, &nk, err))) return st;
    while (groups[gi].audit != sx_arch_audit(p->arches[i])) gi++;
    add_region(&groups[gi], p->arches[i], k, nk, map);
  }
  for (size_t gi = 0; gi < ngroups; gi++) group_ranges(p, &groups[gi], &room);
  return SX_OK;
}

/* The placed program, first instruction first, into `out`: a copy of its own, or with
** work the placed instructions turned around where they are. */
static int finish(struct gen *g, struct sx_work *work, struct sx_program *out,
                  struct sx_error *err) {
  if (g->failed == SX_E_TOO_BIG)
    return sx_set_error(err, SX_E_TOO_BIG, -1, "the filter needs more than %d BPF "
                        "instructions, the kernel's limit", SX_MAX_INSNS), SX_E_TOO_BIG;
  if (g->failed) return sx_set_error(err, SX_E_NOMEM, -1, "out of memory"), SX_E_NOMEM;
  if (work) {
    for (size_t i = 0, j = g->count - 1; i < j; i++, j--) {
      struct sx_insn t = g->out[i];
      g->out[i] = g->out[j];
      g->out[j] = t;
    }
    out->insns = g->out;
  } else {
    if ((out->insns = malloc(g->count * sizeof *out->insns)) == NULL)
      return sx_set_error(err, SX_E_NOMEM, -1, "out of memory"), SX_E_NOMEM;
    for (size_t i = 0; i < g->count; i++) out->insns[i] = g->out[g->count - 1 - i];
  }
  out->len = g->count;
  return SX_OK;
}

/* Room for g's RET slots, at most half full: a policy has no more distinct actions than
** runs of equal actions in its rules, plus the default and bad-arch ones. */
static size_t ret_slots(size_t runs) {
  size_t n = 8;
  while (n < 2 * (runs + 2)) n *= 2;
  return n;
}

static void clear(struct sx_program *out, struct sx_error *err) {
  out->insns = NULL;
  out->len = 0;
  if (err) { err->code = SX_OK; err->rule = err->other = -1; err->message[0] = '\0'; }
}

/* n bytes to work in: work's memory, grown when short, or without work fresh memory
** the caller frees. */
static void *work_room(struct sx_work *work, size_t n) {
  void *mem;
  if (work == NULL) return malloc(n);
  if (work->size >= n) return work->mem;
  if ((mem = malloc(n)) == NULL) return NULL;
  free(work->mem);
  work->mem = mem;
  work->size = n;
  return mem;
}

void sx_work_free(struct sx_work *work) {
  free(work->mem);
  work->mem = NULL;
  work->size = 0;
}

/* The program of a validated policy of `shape`, its rules given by rows or by list. The
** room to work in holds the placed instructions, the RET slots, the maps of actions and
** every group's ranges (at most two a rule and two an arch, and one a group). */
static int compile(const struct sx_policy *p, const int *rows, const struct sx_list *list,
                   const struct sx_shape *shape, struct sx_work *work, struct sx_program *out,
                   struct sx_error *err) {
  struct gen g;
  struct group groups[SX_ARCH_COUNT];
  size_t ngroups = collect_groups(p, groups);
  size_t nmaps = shape->conditional == 0 ? p->narches : 0;
  size_t nrules = list ? list->n : p->nrules, nranges = ngroups + p->narches * (2 + 2 * nrules);
  struct sx_action_map *maps;
  struct sx_argcode *ac = NULL;
  char *room = NULL;
  int st;
  memset(&g, 0, sizeof g);
  g.nrets = ret_slots(shape->runs);
  if (nrules < SIZE_MAX / (4 * SX_ARCH_COUNT * sizeof(struct range)))
    room = work_room(work, SX_MAX_INSNS * sizeof *g.out + g.nrets * sizeof *g.rets +
                           nmaps * sizeof *maps + nranges * sizeof(struct range));
  if (room == NULL) return sx_set_error(err, SX_E_NOMEM, -1, "out of memory"), SX_E_NOMEM;
  g.out = (struct sx_insn *)(void *)room;
  g.rets = (struct ret_slot *)(void *)(g.out + SX_MAX_INSNS);
  maps = (struct sx_action_map *)(void *)(g.rets + g.nrets);
  st = resolve(p, rows, list, nmaps ? maps : NULL, (struct range *)(void *)(maps + nmaps),
               groups, ngroups, err);
  if (st == SX_OK && shape->conditional > 0 && (ac = sx_argcode_new()) == NULL) {
    sx_set_error(err, SX_E_NOMEM, -1, "out of memory");
    st = SX_E_NOMEM;
  }
  if (st == SX_OK) {
    memset(g.rets, 0xff, g.nrets * sizeof *g.rets);        /* every pos FREE */
    emit_program(&g, ac, p, groups, ngroups);
    st = finish(&g, work, out, err);
  }
  sx_argcode_free(ac);
  for (size_t gi = 0; gi < ngroups; gi++)
    for (size_t r = 0; r < groups[gi].nregions; r++) free(groups[gi].owned[r]);
  if (work == NULL) free(room);
  return st;
}

int sx_compile_rows(const struct sx_policy *p, const int *known, struct sx_work *work,
                    struct sx_program *out, struct sx_error *err) {
  int st, *scratch = NULL;
  struct sx_shape shape;
  clear(out, err);
  if (!known && (scratch = malloc((p->nrules ? p->nrules : 1) * sizeof *scratch)) == NULL)
    return sx_set_error(err, SX_E_NOMEM, -1, "out of memory"), SX_E_NOMEM;
  st = sx_validate_policy(p, known, scratch, &shape, err);
  if (st == SX_OK) st = compile(p, known ? known : scratch, NULL, &shape, work, out, err);
  free(scratch);
  return st;
}

/* A list with a number past the maps, compiled as the rules it stands for: one for each
** row, where it first comes. */
static int compile_list_rules(const struct sx_policy *p, const struct sx_list *list,
                              struct sx_work *work, struct sx_program *out,
                              struct sx_error *err) {
  size_t n = list->n ? list->n : 1, words = (sx_syscall_count() + 63) / 64;
  struct sx_rule *rules = malloc(n * sizeof *rules);
  int *rows = malloc(n * sizeof *rows);
  uint64_t *seen = calloc(words, sizeof *seen);
  struct sx_policy q = *p;
  int st = SX_E_NOMEM;
  q.rules = rules;
  q.nrules = 0;
  for (size_t i = 0; rules && rows && seen && i < list->n; i++) {
    int row = list->rows[i];
    if (!sx_bit_set(seen, (size_t)row)) continue;
    rules[q.nrules] = (struct sx_rule){ list->action, sx_syscall_at((size_t)row), -1, 0, NULL };
    rows[q.nrules++] = row;
  }
  if (rules && rows && seen) st = sx_compile_rows(&q, rows, work, out, err);
  else sx_set_error(err, SX_E_NOMEM, -1, "out of memory");
  free(rules);
  free(rows);
  free(seen);
  return st;
}

int sx_compile_list(const struct sx_policy *p, const struct sx_list *list,
                    struct sx_work *work, struct sx_program *out, struct sx_error *err) {
  struct sx_shape shape;
  int st;
  clear(out, err);
  if ((st = sx_validate_list(p, list, &shape, err)) == SX_OK)
    st = compile(p, NULL, list, &shape, work, out, err);
  return st == SX_NOT_MAPPED ? compile_list_rules(p, list, work, out, err) : st;
}

int sx_compile(const struct sx_policy *p, struct sx_program *out, struct sx_error *err) {
  return sx_compile_rows(p, NULL, NULL, out, err);
}

void sx_program_free(struct sx_program *prog) {
  if (!prog) return;
  free(prog->insns);
  prog->insns = NULL;
  prog->len = 0;
}

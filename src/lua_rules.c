/*
** lua_rules.c: sx.core.from_rules, the quick path of sx.seccomp's constructors.
**
** It reads rule tables straight from Lua in their plain forms (syscall names and numbers,
** action strings and action objects, condition tables with integer values), compiles
** them, and returns a filter that keeps its rules in C (a ruleset userdata) until someone
** asks for f.rules. Anything else (groups, text conditions, values given as strings,
** tables with metatables) and every mistake make it return nothing: the Lua layer then
** takes its full path, which accepts more and says what is wrong and on which line. So
** this path never decides alone what a policy means; it only ever agrees with the full
** one, and spec/quick_spec.lua holds it to that. It raises nothing but out-of-memory.
*/
#include <string.h>

#include "lua_compat.h"
#include "lua_rules.h"
#include "rules.h"

#if LUA_VERSION_NUM >= 503          /* sx.seccomp needs 5.3's integers; LuaJIT uses sx.ffi */

/* The field, operator and arch names, interned like every short Lua string: a string
** read from a table is one of them exactly when the pointers are equal. */
enum name {
  N_ACTION, N_SYSCALL, N_ARGS, N_INDEX, N_OP, N_VALUE, N_MASK,
  N_ARCH, N_ARCHES, N_BAD_ARCH, N_DEFAULT, N_DENY_ACTION,     /* options */
  N_OPS, N_ARCH_NAMES = N_OPS + SX_OP_COUNT, N_COUNT = N_ARCH_NAMES + SX_ARCH_COUNT
};
static const char *const name_text[N_OPS] = {
  "action", "syscall", "args", "index", "op", "value", "mask",
  "arch", "arches", "bad_arch", "default", "deny_action"
};

/* What both readers share, in the userdata of their first upvalue: the names, and the
** room their compiles work in (given back by its __gc). Room past WORK_KEPT bytes (only a
** policy of thousands of rules needs it) is given back after the compile. */
enum { WORK_KEPT = 256 * 1024 };
struct shared {
  const char *names[N_COUNT];
  struct sx_work work;
};

/* What a filter made here keeps: one block, rules, rows and conditions inside it (a full
** userdata never moves, so the pointers between its parts stay right). A list's ruleset
** keeps rows alone (rules is NULL): rule i gives list_action to row i's syscall. */
struct ruleset {
  uint32_t default_action, bad_arch_action, list_action;
  int arches[SX_ARCH_COUNT];
  size_t narches, nrules, nconds, cond_cap;
  struct sx_rule *rules;
  int *rows;
  struct sx_cond *conds;
};

#define RULESET "sx.ruleset"

/* The readers' second upvalue holds the metatables they give and recognise. */
enum { TYPE_RULESET = 1, TYPE_FILTER, TYPE_ACTION };
#define TYPES lua_upvalueindex(2)

struct reader {
  lua_State *L;
  struct shared *shared;
  struct ruleset *rs;
  const char *last_action;          /* the last action string parsed, and its value */
  uint32_t last_value;
  int out_of_room;                  /* more conditions than the ruleset has room for */
  uint32_t deny_action;             /* opts.deny_action of deny_list */
};

static int is_plain_table(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  if (!lua_getmetatable(L, idx)) return 1;
  lua_pop(L, 1);
  return 0;
}

/* The name index of a string key, or -1. */
static int name_of(const struct reader *rd, int idx, int from, int to) {
  const char *s;
  if (lua_type(rd->L, idx) != LUA_TSTRING) return -1;
  s = lua_tostring(rd->L, idx);
  for (int n = from; n < to; n++)
    if (s == rd->shared->names[n]) return n;
  return -1;
}

/* ---- actions: the forms sx.action reads (sx_action_parse), nothing wider ------- */

/* The action at idx: a string in a plain form, or an sx.action object. */
static int read_action(struct reader *rd, int idx, uint32_t *value) {
  lua_State *L = rd->L;
  int ok;
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (s == rd->last_action) return *value = rd->last_value, 1;
    if (!sx_action_parse(s, len, value)) return 0;
    rd->last_action = s;
    rd->last_value = *value;
    return 1;
  }
  if (!lua_getmetatable(L, idx)) return 0;
  lua_rawgeti(L, TYPES, TYPE_ACTION);
  ok = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  if (!ok) return 0;
  lua_pushstring(L, "value");
  lua_rawget(L, idx < 0 ? idx - 1 : idx);
  ok = lua_isinteger(L, -1);
  *value = (uint32_t)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return ok && sx_action_valid(*value);
}

/* ---- rules ---------------------------------------------------------------------- */

/* Reads item i (0-based) of a list from the stack top. */
typedef int (*item_reader)(struct reader *rd, size_t i, void *ctx);

/* Read the table at t (absolute) as a list of exactly n items, in whatever order lua_next
** gives them: any key but 1..n fails, and so do fewer keys. (Walking on from key n alone
** would miss keys kept in hash slots before it, and with them a hole in the list.) */
static inline int read_list(struct reader *rd, int t, size_t n, item_reader item, void *ctx) {
  lua_State *L = rd->L;
  size_t count = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_Integer k = lua_isinteger(L, -2) ? lua_tointeger(L, -2) : 0;
    int ok = k >= 1 && (lua_Unsigned)k <= n && item(rd, (size_t)k - 1, ctx);
    lua_pop(L, 1);
    if (!ok) { lua_pop(L, 1); return 0; }
    count++;
  }
  return count == n;
}

static int read_syscall(struct reader *rd, int idx, struct sx_rule *r, int *row) {
  lua_State *L = rd->L;
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (len == 0 || s[0] == '@') return 0;                         /* groups: Lua's job */
    if ((*row = sx_syscall_row_len(s, len)) < 0) return 0;
    r->syscall = sx_syscall_at((size_t)*row);
    r->number = -1;
    return 1;
  }
  if (lua_type(L, idx) == LUA_TNUMBER) {
    int exact;
    lua_Integer n = lua_tointegerx(L, idx, &exact);
    if (!exact || n < 0) return 0;
    r->syscall = NULL;
    r->number = (long)n;
    *row = -1;
    return 1;
  }
  return 0;
}

static int read_cond(struct reader *rd, int t, struct sx_cond *c) {
  lua_State *L = rd->L;
  unsigned seen = 0;
  c->mask = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int key = name_of(rd, -2, N_INDEX, N_MASK + 1), ok = 1;
    lua_Integer v = 0;
    if (key == N_OP) {
      int op = name_of(rd, -1, N_OPS, N_COUNT);
      ok = op >= 0;
      c->op = op - N_OPS;
    } else if (key >= 0) {
      ok = lua_isinteger(L, -1);
      v = lua_tointeger(L, -1);
      if (key == N_INDEX) { ok = ok && v >= 0 && v <= 5; c->index = (unsigned)v; }
      else if (key == N_VALUE) c->value = (uint64_t)v;
      else c->mask = (uint64_t)v;
    }
    lua_pop(L, 1);
    if (key < 0 || !ok) { lua_pop(L, 1); return 0; }
    seen |= 1u << key;
  }
  if ((seen & (1u << N_INDEX | 1u << N_OP | 1u << N_VALUE)) !=
      (1u << N_INDEX | 1u << N_OP | 1u << N_VALUE)) return 0;
  /* a mask goes with masked_eq and nothing else */
  return ((seen >> N_MASK) & 1) == (c->op == SX_OP_MASKED_EQ);
}

static int read_cond_item(struct reader *rd, size_t i, void *conds) {
  int t = lua_gettop(rd->L);
  return is_plain_table(rd->L, t) && read_cond(rd, t, (struct sx_cond *)conds + i);
}

static int read_args(struct reader *rd, int idx, struct sx_rule *r) {
  lua_State *L = rd->L;
  struct ruleset *rs = rd->rs;
  size_t n;
  int t = lua_gettop(L) + 1, ok;
  if (!is_plain_table(L, idx)) return 0;
  lua_pushvalue(L, idx);
  n = (size_t)lua_rawlen(L, t);
  if (rs->nconds + n > rs->cond_cap) rd->out_of_room = 1;
  r->conds = rs->conds + rs->nconds;
  r->ncond = (unsigned)n;
  ok = n <= SX_MAX_CONDS && !rd->out_of_room &&
       read_list(rd, t, n, read_cond_item, rs->conds + rs->nconds);
  if (ok) rs->nconds += n;
  lua_pop(L, 1);
  return ok;
}

/* Rule i from the table at t: {action, name [, args]} or {action =, syscall =, args =}. */
static int read_rule(struct reader *rd, int t, size_t i) {
  lua_State *L = rd->L;
  struct sx_rule *r = &rd->rs->rules[i];
  unsigned seen = 0;
  *r = (struct sx_rule){ 0, NULL, -1, 0, NULL };
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int field = name_of(rd, -2, N_ACTION, N_ARGS + 1), ok;
    if (field < 0 && lua_isinteger(L, -2)) {
      lua_Integer k = lua_tointeger(L, -2);
      if (k >= 1 && k <= 3) field = (int)k - 1;
    }
    ok = field >= 0 && !(seen & (1u << field));
    if (ok) {
      seen |= 1u << field;
      if (field == N_ACTION) ok = read_action(rd, -1, &r->action);
      else if (field == N_SYSCALL) ok = read_syscall(rd, -1, r, &rd->rs->rows[i]);
      else ok = read_args(rd, -1, r);
    }
    lua_pop(L, 1);
    if (!ok) { lua_pop(L, 1); return 0; }
  }
  return (seen & 3u) == 3u;         /* an action and a syscall */
}

static int read_rule_item(struct reader *rd, size_t i, void *ctx) {
  int t = lua_gettop(rd->L);
  (void)ctx;
  return is_plain_table(rd->L, t) && read_rule(rd, t, i);
}

/* ---- options: {arch =} or {arches =}, and bad_arch ------------------------------ */

/* An arch name at idx, or -1. */
static int arch_at(const struct reader *rd, int idx) {
  int n = name_of(rd, idx, N_ARCH_NAMES, N_COUNT);
  return n < 0 ? -1 : n - N_ARCH_NAMES;
}

static int add_arch(struct ruleset *rs, int arch) {
  if (arch < 0) return 0;
  for (size_t a = 0; a < rs->narches; a++)
    if (rs->arches[a] == arch) return 0;           /* listed twice */
  rs->arches[rs->narches++] = arch;
  return 1;
}

static int read_arch_item(struct reader *rd, size_t i, void *arches) {
  return (((int *)arches)[i] = arch_at(rd, -1)) >= 0;
}

static int read_arch_list(struct reader *rd, int idx) {
  lua_State *L = rd->L;
  int arches[SX_ARCH_COUNT], t = lua_gettop(L) + 1, ok;
  size_t n;
  if (!is_plain_table(L, idx)) return 0;
  lua_pushvalue(L, idx);
  n = (size_t)lua_rawlen(L, t);
  ok = n > 0 && n <= SX_ARCH_COUNT && read_list(rd, t, n, read_arch_item, arches);
  lua_pop(L, 1);
  for (size_t i = 0; ok && i < n; i++) ok = add_arch(rd->rs, arches[i]);
  return ok;
}

static int host_arch(struct ruleset *rs) {
  int host = sx_arch_host();
  if (host < 0) return 0;
  rs->arches[rs->narches++] = host;
  return 1;
}

#define BIT(n) (1u << (n))

/* opts: arch or arches, bad_arch, and the keys of `extra` (default, deny_action) that
** the constructor takes; a key it does not take is a mistake the full path names. */
static int read_options(struct reader *rd, int idx, unsigned extra) {
  lua_State *L = rd->L;
  struct ruleset *rs = rd->rs;
  unsigned seen = 0;
  rs->bad_arch_action = SX_RET_KILL_PROCESS;
  if (lua_isnoneornil(L, idx)) return host_arch(rs);
  if (!is_plain_table(L, idx)) return 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int key = name_of(rd, -2, N_ARCH, N_DENY_ACTION + 1), ok;
    if (key == N_ARCH) ok = add_arch(rs, arch_at(rd, -1));
    else if (key == N_ARCHES) ok = read_arch_list(rd, -1);
    else if (key == N_BAD_ARCH) ok = read_action(rd, -1, &rs->bad_arch_action);
    else if (key == N_DEFAULT && (extra & BIT(N_DEFAULT)))
      ok = read_action(rd, -1, &rs->default_action);
    else if (key == N_DENY_ACTION && (extra & BIT(N_DENY_ACTION)))
      ok = read_action(rd, -1, &rd->deny_action);
    else ok = 0;
    lua_pop(L, 1);
    if (!ok) { lua_pop(L, 1); return 0; }
    seen |= BIT(key);
  }
  switch (seen & (BIT(N_ARCH) | BIT(N_ARCHES))) {
    case 0: return host_arch(rs);
    case BIT(N_ARCH) | BIT(N_ARCHES): return 0;   /* both: a mistake the full path names */
    default: return 1;
  }
}

/* ---- from_rules ---------------------------------------------------------------- */

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

/* A ruleset userdata with room for n rules (none for a list) and cond_cap conditions,
** on the stack top. */
static struct ruleset *new_ruleset(lua_State *L, size_t n, size_t cond_cap, int list) {
  size_t rules_at = align8(sizeof(struct ruleset));
  size_t rows_at = rules_at + (list ? 0 : align8(n * sizeof(struct sx_rule)));
  size_t conds_at = rows_at + align8(n * sizeof(int));
  char *block = lua_newuserdatauv(L, conds_at + cond_cap * sizeof(struct sx_cond), 0);
  struct ruleset *rs = (struct ruleset *)(void *)block;
  memset(rs, 0, sizeof *rs);
  rs->nrules = n;
  rs->cond_cap = cond_cap;
  rs->rules = list ? NULL : (struct sx_rule *)(void *)(block + rules_at);
  rs->rows = (int *)(void *)(block + rows_at);
  rs->conds = (struct sx_cond *)(void *)(block + conds_at);
  lua_rawgeti(L, TYPES, TYPE_RULESET);
  lua_setmetatable(L, -2);
  return rs;
}

/* Read everything into a ruleset on the stack top; 0 when the full path must decide. */
static int read_policy(struct reader *rd, size_t n, size_t cond_cap) {
  lua_State *L = rd->L;
  rd->rs = new_ruleset(L, n, cond_cap, 0);
  rd->last_action = NULL;
  rd->out_of_room = 0;
  return read_options(rd, 3, 0) && read_action(rd, 2, &rd->rs->default_action) &&
         read_list(rd, 1, n, read_rule_item, NULL);
}

/* Compile the ruleset at ud and push the filter; nothing when the compiler refuses. */
static int push_filter(struct reader *rd, const struct ruleset *rs, int ud) {
  lua_State *L = rd->L;
  struct sx_policy p = { rs->rules, rs->nrules, rs->default_action, rs->bad_arch_action,
                         rs->arches, rs->narches };
  struct sx_list list = { rs->rows, rs->nrules, rs->list_action };
  struct sx_work *work = &rd->shared->work;
  struct sx_program prog;
  int st = rs->rules ? sx_compile_rows(&p, rs->rows, work, &prog, NULL)
                     : sx_compile_list(&p, &list, work, &prog, NULL);
  if (st != SX_OK) return 0;
  /* the program lies in work: copied first, before a collection step can run a finalizer
  ** that compiles */
  lua_pushlstring(L, (const char *)prog.insns, prog.len * sizeof *prog.insns);
  if (work->size > WORK_KEPT) sx_work_free(work);   /* a huge policy's room is not kept */
  lua_createtable(L, 0, 2);
  lua_insert(L, -2);
  lua_setfield(L, -2, "bpf");
  lua_pushvalue(L, ud);
  lua_setfield(L, -2, "ruleset");
  lua_rawgeti(L, TYPES, TYPE_FILTER);
  lua_setmetatable(L, -2);
  return 1;
}

static struct reader new_reader(lua_State *L) {
  struct reader rd;
  memset(&rd, 0, sizeof rd);
  rd.L = L;
  rd.shared = lua_touserdata(L, lua_upvalueindex(1));
  return rd;
}

/* from_rules(rules, default [, opts]) -> filter, or nothing when the full path decides. */
static int l_from_rules(lua_State *L) {
  struct reader rd = new_reader(L);
  size_t n;
  int ok;
  lua_settop(L, 3);
  if (!is_plain_table(L, 1)) return 0;
  n = (size_t)lua_rawlen(L, 1);
  /* room for a condition per rule; a policy with more reads again with all the room */
  ok = read_policy(&rd, n, n);
  if (!ok && rd.out_of_room) {
    lua_pop(L, 1);
    ok = read_policy(&rd, n, n * SX_MAX_CONDS);
  }
  return ok && push_filter(&rd, rd.rs, 4);
}

/* ---- allow_list and deny_list ---------------------------------------------------- */

enum { MAX_ROWS = 1024 };

/* Item i of a list of names: its table row, kept in rows[i] for read_names. */
static int read_name_item(struct reader *rd, size_t i, void *rows) {
  lua_State *L = rd->L;
  size_t len;
  /* a number turns into a string here, on the stack only, and names no syscall */
  const char *s = lua_tolstring(L, -1, &len);
  int row = s && len > 0 && s[0] != '@' ? sx_syscall_row_len(s, len) : -1;
  return (((int *)rows)[i] = row) >= 0;
}

/* names[1..n] at idx as the list's rows, in order (a name twice is harmless: a list is a
** set, and the compiler and l_ruleset take it so). Names only: numbers and groups are the
** full path's. */
static int read_names(struct reader *rd, int idx, size_t n) {
  return sx_syscall_count() <= MAX_ROWS && read_list(rd, idx, n, read_name_item, rd->rs->rows);
}

/* from_list(names, opts, deny) -> filter, or nothing when the full path decides: allow_list
** (deny false) or deny_list with their defaults. */
static int l_from_list(lua_State *L) {
  struct reader rd = new_reader(L);
  int deny = lua_toboolean(L, 3);
  size_t n;
  lua_settop(L, 2);
  if (!is_plain_table(L, 1)) return 0;
  n = (size_t)lua_rawlen(L, 1);
  rd.rs = new_ruleset(L, n, 0, 1);
  rd.rs->default_action = deny ? SX_RET_ALLOW : SX_RET_KILL_PROCESS;
  rd.deny_action = SX_RET_ERRNO | 1;          /* EPERM */
  if (!read_options(&rd, 2, BIT(N_DEFAULT) | (deny ? BIT(N_DENY_ACTION) : 0))) return 0;
  rd.rs->list_action = deny ? rd.deny_action : SX_RET_ALLOW;
  return read_names(&rd, 1, n) && push_filter(&rd, rd.rs, 3);
}

/* ---- ruleset: what the Lua layer shows of a quick filter, on demand ------------------ */

static void push_cond(lua_State *L, const struct sx_cond *c) {
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, c->index);
  lua_setfield(L, -2, "index");
  lua_pushstring(L, sx_op_name(c->op));
  lua_setfield(L, -2, "op");
  lua_pushinteger(L, (lua_Integer)c->value);
  lua_setfield(L, -2, "value");
  if (c->op == SX_OP_MASKED_EQ) {
    lua_pushinteger(L, (lua_Integer)c->mask);
    lua_setfield(L, -2, "mask");
  }
}

/* ruleset(rs) -> arches, default, bad_arch, rules: actions as kernel values, rules as
** {action =, syscall = name|number, args = {...}|nil}; a list's names once each. */
static int l_ruleset(lua_State *L) {
  const struct ruleset *rs = luaL_checkudata(L, 1, RULESET);
  uint64_t seen[MAX_ROWS / 64] = { 0 };
  lua_Integer m = 0;
  lua_createtable(L, (int)rs->narches, 0);
  for (size_t a = 0; a < rs->narches; a++) {
    lua_pushstring(L, sx_arch_name(rs->arches[a]));
    lua_rawseti(L, -2, (lua_Integer)a + 1);
  }
  lua_pushinteger(L, rs->default_action);
  lua_pushinteger(L, rs->bad_arch_action);
  lua_createtable(L, (int)rs->nrules, 0);
  for (size_t i = 0; i < rs->nrules; i++) {
    struct sx_rule listed = { rs->list_action, NULL, -1, 0, NULL };
    const struct sx_rule *r = rs->rules ? &rs->rules[i] : &listed;
    if (!rs->rules) {
      int row = rs->rows[i];
      if (!sx_bit_set(seen, (size_t)row)) continue;
      listed.syscall = sx_syscall_at((size_t)row);
    }
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, r->action);
    lua_setfield(L, -2, "action");
    if (r->syscall) lua_pushstring(L, r->syscall); else lua_pushinteger(L, r->number);
    lua_setfield(L, -2, "syscall");
    if (r->ncond > 0) {
      lua_createtable(L, (int)r->ncond, 0);
      for (unsigned c = 0; c < r->ncond; c++) {
        push_cond(L, &r->conds[c]);
        lua_rawseti(L, -2, (lua_Integer)c + 1);
      }
      lua_setfield(L, -2, "args");
    }
    lua_rawseti(L, -2, ++m);
  }
  return 4;
}

/* register_type(name, metatable): the metatables of filters ("sx.filter") and action
** objects ("sx.action"), which from_rules makes and recognises. */
static int l_register_type(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  int type = strcmp(name, "sx.filter") == 0 ? TYPE_FILTER :
             strcmp(name, "sx.action") == 0 ? TYPE_ACTION : 0;
  luaL_argcheck(L, type != 0, 1, "sx.filter or sx.action");
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_rawseti(L, lua_upvalueindex(1), type);
  return 0;
}

static int shared_gc(lua_State *L) {
  struct shared *shared = lua_touserdata(L, 1);
  sx_work_free(&shared->work);
  return 0;
}

/* Into the module table on the stack top: from_list and from_rules, with upvalues the
** shared block, the types and the names (kept alive there), and ruleset, register_type. */
void sx_open_rules(lua_State *L) {
  int module = lua_gettop(L), nup = 2 + N_COUNT;
  struct shared *shared;
  /* the upvalues twice over, beyond the 20 slots a C function may use unasked */
  luaL_checkstack(L, 2 * nup + 4, "sx.core");
  shared = lua_newuserdatauv(L, sizeof *shared, 0);
  memset(shared, 0, sizeof *shared);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, shared_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_createtable(L, 3, 0);
  luaL_newmetatable(L, RULESET);
  lua_rawseti(L, -2, TYPE_RULESET);
  for (int n = 0; n < N_COUNT; n++) {
    const char *text = n < N_OPS ? name_text[n] : n < N_ARCH_NAMES ? sx_op_name(n - N_OPS)
                                                                   : sx_arch_name(n - N_ARCH_NAMES);
    shared->names[n] = lua_pushstring(L, text);
  }
  lua_pushvalue(L, module + 2);
  lua_pushcclosure(L, l_register_type, 1);
  lua_setfield(L, module, "register_type");
  for (int i = 1; i <= nup; i++) lua_pushvalue(L, module + i);
  lua_pushcclosure(L, l_from_list, nup);                  /* takes the copies */
  lua_setfield(L, module, "from_list");
  lua_pushcclosure(L, l_from_rules, nup);                 /* and this the upvalues */
  lua_setfield(L, module, "from_rules");
  lua_pushcfunction(L, l_ruleset);
  lua_setfield(L, module, "ruleset");
}

#else

void sx_open_rules(lua_State *L) { (void)L; }

#endif

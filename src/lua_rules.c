/*
** lua_rules.c: the one reader of rule tables, sx.core.build.
**
** sx.seccomp's constructors hand it plain rows: the Lua layer has already turned the
** sugar (groups, text conditions, named arguments, values written as strings) into rule
** tables {action, syscall [, args]} or {action =, syscall =, args =}, with actions as text
** ("allow", "errno(EPERM)") or sx.action objects, syscalls as names or numbers (or a list
** of them: a rule each, sharing the action and conditions), and
** conditions {index =, op =, value = [, mask =]} with integer values; or, for allow_list
** and deny_list, a list of names and numbers. Everything about them is checked here or by
** the rule model (rules.c) behind sx_compile, and a mistake comes back as an error table
** {code, message, rule, other, misuse, field, value} naming the row, which the Lua layer
** turns into an error naming the rule and the policy line. The filter keeps its rules in
** C (a ruleset userdata) until someone asks for f.rules (sx.core.ruleset).
**
** Memory: the ruleset is a userdata made before anything is read, so a Lua error (only
** out of memory can raise here) leaks nothing; the compile works in room kept in the
** module's shared block.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lua_compat.h"
#include "lua_rules.h"
#include "rules.h"

#if LUA_VERSION_NUM >= 503          /* sx.seccomp needs 5.3's integers; LuaJIT uses sx.ffi */

/* Field, operator and arch names, interned like every short Lua string: a string read
** from a table is one of them exactly when the pointers are equal. */
enum name {
  N_ACTION, N_SYSCALL, N_ARGS, N_INDEX, N_OP, N_VALUE, N_MASK,
  N_ARCH, N_ARCHES, N_BAD_ARCH, N_DEFAULT, N_DENY_ACTION,     /* options */
  N_WHERE, N_GROUP,                 /* a rule's provenance, as f.rules and to_rules give it */
  N_OPS, N_ARCH_NAMES = N_OPS + SX_OP_COUNT, N_COUNT = N_ARCH_NAMES + SX_ARCH_COUNT
};
static const char *const name_text[N_OPS] = {
  "action", "syscall", "args", "index", "op", "value", "mask",
  "arch", "arches", "bad_arch", "default", "deny_action", "where", "group"
};

/* What the reader keeps between calls, in the userdata of its first upvalue: the names,
** and the room its compiles work in (given back by its __gc). Room past WORK_KEPT bytes
** (only a policy of thousands of rules needs it) is given back after the compile. */
enum { WORK_KEPT = 256 * 1024 };
struct shared {
  const char *names[N_COUNT];
  struct sx_work work;
};

/* What a filter keeps: one block, rules, rows and conditions inside it (a full userdata
** never moves, so the pointers between its parts stay right). A list of names keeps rows
** alone (rules is NULL): row i gives list_action to its syscall. from[i] is the row of the
** input that rule i came from (a list drops repeats). */
struct ruleset {
  uint32_t default_action, bad_arch_action, list_action;
  int arches[SX_ARCH_COUNT];
  size_t narches, nrules, nconds, cond_cap;
  struct sx_rule *rules;
  int *rows;
  int *from;
  struct sx_cond *conds;
};

#define RULESET "sx.ruleset"

/* The most rules a build makes room for: far past what 4096 instructions hold, and small
** enough that no size new_ruleset works out overflows, and that a sparse table (whose
** border can be anything up to 2^63) costs a few megabytes of room at most before its hole
** is found. A length past it is refused before anything is read. */
enum { MAX_ROOM = 1 << 16 };

/* The reader's second upvalue holds the metatables it gives and recognises. */
enum { TYPE_RULESET = 1, TYPE_FILTER, TYPE_ACTION };
#define TYPES lua_upvalueindex(2)

/* What is being built: the constructor decides the options it takes and its defaults. */
enum kind { K_RULES, K_BUILD, K_ALLOW, K_DENY };
static const char *const kind_names[] = { "rules", "build", "allow", "deny", NULL };
static const char *const kind_functions[] = { "from_rules", "build", "allow_list", "deny_list" };

/* A mistake: the row (1-based, 0 for none) and the Lua value at fault (field names it). */
struct mistake {
  int code;
  long row, other;
  int misuse;                       /* the caller misused the API: Lua raises */
  const char *field;                /* "syscall", "action" or "arch": the value at fault, */
  char message[256];                /* kept in the reader's fault slot, names it */
};

struct reader {
  lua_State *L;
  struct shared *shared;
  struct ruleset *rs;
  enum kind kind;
  uint32_t deny_action;             /* opts.deny_action of deny_list */
  int out_of_room;                  /* more conditions or rules than the ruleset has room for */
  size_t nread;                     /* the rules read so far (a list of syscalls makes many) */
  int fault;                        /* stack slot for the value at fault */
  int sugar;                        /* met something sx.rules rewrites (see sugar()) */
  const char *last_action;          /* the last action text read, and its value: rules */
  uint32_t last_value;              /* mostly repeat one (a Lua string is interned) */
  struct mistake m;
};

static int fail(struct reader *rd, int code, long row, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
static int fail(struct reader *rd, int code, long row, const char *fmt, ...) {
  va_list ap;
  if (rd->m.code) return 0;         /* the first mistake is the one reported */
  rd->m.code = code;
  rd->m.row = row;
  va_start(ap, fmt);
  vsnprintf(rd->m.message, sizeof rd->m.message, fmt, ap);
  va_end(ap);
  return 0;
}

/* After fail: the value at stack index idx is the one at fault, err[field]. */
static int fail_on(struct reader *rd, int idx, const char *field) {
  if (rd->m.field == NULL) {
    lua_pushvalue(rd->L, idx);
    lua_replace(rd->L, rd->fault);
    rd->m.field = field;
  }
  return 0;
}

/* Sugar is sx.rules' to rewrite, not the reader's: a group ("@name"), conditions as text,
** a named argument, a value written as a string. Meeting one, the reader stops and says
** so (build returns nil, {sugar = true}); the Lua layer rewrites the rows and reads again.
** So plain rows cost the Lua layer nothing, and the reader is still the one that checks. */
static int sugar(struct reader *rd) {
  rd->sugar = 1;
  return 0;
}

static int misuse(struct reader *rd, const char *fmt, const char *arg) {
  fail(rd, SX_E_BAD_RULE, 0, fmt, kind_functions[rd->kind], arg);
  rd->m.misuse = 1;
  return 0;
}

static int is_table(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TTABLE;
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

/* A key or value as text for a message, without touching the stack. */
static const char *key_text(lua_State *L, int idx, char *buf, size_t size) {
  if (lua_type(L, idx) == LUA_TSTRING) snprintf(buf, size, "'%.40s'", lua_tostring(L, idx));
  else if (lua_isinteger(L, idx)) snprintf(buf, size, "%lld", (long long)lua_tointeger(L, idx));
  else if (lua_type(L, idx) == LUA_TNUMBER) snprintf(buf, size, "%.14g", lua_tonumber(L, idx));
  else if (lua_type(L, idx) == LUA_TBOOLEAN) snprintf(buf, size, lua_toboolean(L, idx) ? "true" : "false");
  else snprintf(buf, size, "a %s", luaL_typename(L, idx));
  return buf;
}

/* An integer from an integer or an integral float (2^63 up to 2^64 as two's complement). */
static int integer_at(lua_State *L, int idx, uint64_t *v) {
  lua_Number n;
  if (lua_isinteger(L, idx)) return *v = (uint64_t)lua_tointeger(L, idx), 1;
  if (lua_type(L, idx) != LUA_TNUMBER) return 0;
  n = lua_tonumber(L, idx);
  if (n >= -9223372036854775808.0 && n < 9223372036854775808.0 && n == (lua_Number)(int64_t)n)
    return *v = (uint64_t)(int64_t)n, 1;
  if (n >= 9223372036854775808.0 && n < 18446744073709551616.0 && n == (lua_Number)(uint64_t)n)
    return *v = (uint64_t)n, 1;
  return 0;
}

/* ---- actions -------------------------------------------------------------------- */

/* The action at idx: text (sx_action_parse) or an sx.action object. */
static int read_action(struct reader *rd, int idx, uint32_t *value, long row, const char *what) {
  lua_State *L = rd->L;
  struct sx_error err;
  int ok;
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (s == rd->last_action) return *value = rd->last_value, 1;
    if (sx_action_parse(s, len, value, &err) == SX_OK) {
      rd->last_action = s;
      rd->last_value = *value;
      return 1;
    }
    fail(rd, SX_E_BAD_ACTION, row, "%s%s", what, err.message);
    return fail_on(rd, idx, "action");
  }
  if (lua_getmetatable(L, idx)) {
    lua_rawgeti(L, TYPES, TYPE_ACTION);
    ok = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (ok) {
      /* raw: an __index would run Lua code in the middle of the read, which could free a
      ** name or an action text the ruleset points at (the action objects sx.action makes
      ** hold their value as a field of their own) */
      lua_pushliteral(L, "value");
      lua_rawget(L, idx < 0 ? idx - 1 : idx);
      ok = lua_isinteger(L, -1) && sx_action_valid((uint32_t)lua_tointeger(L, -1));
      *value = (uint32_t)lua_tointeger(L, -1);
      lua_pop(L, 1);
      if (ok) return 1;
    }
  }
  fail(rd, SX_E_BAD_ACTION, row, "%san action is a string such as \"allow\" or errno(...), got %s",
       what, luaL_typename(L, idx));
  return fail_on(rd, idx, "action");
}

/* ---- lists --------------------------------------------------------------------------- */

/* Reads item i (0-based) of a list from the stack top. */
typedef int (*item_reader)(struct reader *rd, size_t i, void *ctx);

/* The table at t (absolute) as a list of exactly n items (n = its border), read in
** order, none missing: a hole is what a misspelt variable (nil) in a policy's list looks
** like, and walking it with # or ipairs would silently drop what follows. `what` names the
** list in messages; row is the rule they are about (0: none). */
static int read_list(struct reader *rd, int t, size_t n, item_reader item, void *ctx,
                     const char *what, long row, int code) {
  lua_State *L = rd->L;
  size_t count = 0;
  lua_Integer most = 0;
  char buf[64];
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_Integer k = lua_isinteger(L, -2) ? lua_tointeger(L, -2) : 0;
    if (k < 1) {
      key_text(L, -2, buf, sizeof buf);
      lua_pop(L, 2);
      return fail(rd, code, row, "%s must be a list, but has the key %s", what, buf);
    }
    if (k > most) most = k;
    count++;
    lua_pop(L, 1);
  }
  for (lua_Integer i = 1; count != (size_t)most && i <= most; i++) {
    int missing = lua_rawgeti(L, t, i) == LUA_TNIL;
    lua_pop(L, 1);
    if (missing)
      return fail(rd, code, row ? row : (long)i, "%s: item %lld is nil (a misspelt variable?), "
                  "and the items after it would be lost", what, (long long)i);
  }
  if ((size_t)most != n) return fail(rd, code, row, "%s is not a list", what);
  for (size_t i = 1; i <= n; i++) {
    int ok;
    lua_rawgeti(L, t, (lua_Integer)i);
    ok = item(rd, i - 1, ctx);
    lua_pop(L, 1);
    if (!ok) return 0;
  }
  return 1;
}

/* ---- rules --------------------------------------------------------------------------- */

/* The syscall at idx of rule row: a name (its table row, or -1 for a name the tables lack,
** which the rule model reports with a suggestion) or a number. */
static int read_syscall(struct reader *rd, int idx, struct sx_rule *r, int *table_row, long row) {
  lua_State *L = rd->L;
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (s[0] == '@') return sugar(rd);
    if (strlen(s) != len) {       /* C would read only the part before the NUL */
      fail(rd, SX_E_UNKNOWN_SYSCALL, row, "unknown syscall '%s...' (a name holds no NUL byte)", s);
      return fail_on(rd, idx, "syscall");
    }
    *table_row = sx_syscall_row_len(s, len);
    r->syscall = *table_row >= 0 ? sx_syscall_at((size_t)*table_row) : s;
    r->number = -1;
    return 1;
  }
  if (lua_type(L, idx) == LUA_TNUMBER) {
    uint64_t n;
    if (!integer_at(L, idx, &n) || (int64_t)n < 0) {
      char buf[64];
      fail(rd, SX_E_BAD_RULE, row, "syscall number %s is not a non-negative integer",
           key_text(L, idx, buf, sizeof buf));
      return fail_on(rd, idx, "syscall");
    }
    if (n > 0xffffffffu) {
      fail(rd, SX_E_BAD_RULE, row, "syscall number %llu does not fit 32 bits",
           (unsigned long long)n);
      return fail_on(rd, idx, "syscall");
    }
    r->syscall = NULL;
    r->number = (long)n;
    *table_row = -1;
    return 1;
  }
  fail(rd, SX_E_BAD_RULE, row, "syscall must be a name or a number, got %s", luaL_typename(L, idx));
  return lua_isnil(L, idx) ? 0 : fail_on(rd, idx, "syscall");
}

struct cond_ctx {
  struct sx_cond *conds;
  long row;
};

static int read_cond(struct reader *rd, int t, struct sx_cond *c, long row, size_t nth) {
  lua_State *L = rd->L;
  unsigned seen = 0;
  char buf[64];
  c->mask = 0;
  if (!is_table(L, t))
    return fail(rd, SX_E_BAD_RULE, row, "condition %zu: a condition is a table, got %s", nth,
                luaL_typename(L, t));
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int key = name_of(rd, -2, N_INDEX, N_MASK + 1), ok = 1;
    uint64_t v = 0;
    if (key < 0 || (key >= N_VALUE && lua_type(L, -1) == LUA_TSTRING)) {
      int named = lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "arg") == 0;
      if (named || key >= 0) { lua_pop(L, 2); return sugar(rd); }
      key_text(L, -2, buf, sizeof buf);
      lua_pop(L, 2);
      return fail(rd, SX_E_BAD_RULE, row, "condition %zu: unknown field %s", nth, buf);
    }
    if (key == N_OP) {
      int op = name_of(rd, -1, N_OPS, N_COUNT);
      if (op < 0) ok = fail(rd, SX_E_BAD_RULE, row, "condition %zu: unknown operator %s (eq ne "
                            "lt le gt ge masked_eq)", nth, key_text(L, -1, buf, sizeof buf));
      else c->op = op - N_OPS;
    } else if (!integer_at(L, -1, &v)) {
      if (key == N_INDEX)
        ok = fail(rd, SX_E_BAD_RULE, row, "condition %zu: argument index must be 0..5, got %s",
                  nth, key_text(L, -1, buf, sizeof buf));
      else
        ok = fail(rd, SX_E_BAD_RULE, row, "condition %zu: the %s %s is not an integer that "
                  "fits 64 bits", nth, name_text[key], key_text(L, -1, buf, sizeof buf));
    } else if (key == N_INDEX) {
      if (v > 5) ok = fail(rd, SX_E_BAD_RULE, row, "condition %zu: argument index must be "
                           "0..5, got %lld", nth, (long long)v);
      c->index = (unsigned)v;
    } else if (key == N_VALUE) {
      c->value = v;
    } else {
      c->mask = v;
    }
    lua_pop(L, 1);
    if (!ok) { lua_pop(L, 1); return 0; }
    seen |= 1u << key;
  }
  if (!(seen & (1u << N_INDEX)))
    return fail(rd, SX_E_BAD_RULE, row, "condition %zu: argument index must be 0..5, got nil", nth);
  if (!(seen & (1u << N_OP)))
    return fail(rd, SX_E_BAD_RULE, row, "condition %zu: it needs an op (eq ne lt le gt ge "
                "masked_eq)", nth);
  if (!(seen & (1u << N_VALUE)))
    return fail(rd, SX_E_BAD_RULE, row, "condition %zu: it needs a value", nth);
  if (c->op == SX_OP_MASKED_EQ && !(seen & (1u << N_MASK)))
    return fail(rd, SX_E_BAD_RULE, row, "condition %zu: masked_eq needs a mask", nth);
  if (c->op != SX_OP_MASKED_EQ && (seen & (1u << N_MASK)))
    return fail(rd, SX_E_BAD_RULE, row, "condition %zu: a mask is only for masked_eq", nth);
  return 1;
}

static int read_cond_item(struct reader *rd, size_t i, void *ctx) {
  struct cond_ctx *cc = ctx;
  return read_cond(rd, lua_gettop(rd->L), &cc->conds[i], cc->row, i + 1);
}

static int read_args(struct reader *rd, int idx, struct sx_rule *r, long row) {
  lua_State *L = rd->L;
  struct ruleset *rs = rd->rs;
  struct cond_ctx cc;
  size_t n;
  int t = lua_gettop(L) + 1, ok;
  if (lua_isnil(L, idx)) return 1;
  if (lua_type(L, idx) == LUA_TSTRING) return sugar(rd);
  if (!is_table(L, idx))
    return fail(rd, SX_E_BAD_RULE, row, "args must be a list of conditions, got %s",
                luaL_typename(L, idx));
  lua_pushvalue(L, idx);
  n = (size_t)lua_rawlen(L, t);
  if (n > SX_MAX_CONDS) {
    lua_pop(L, 1);
    return fail(rd, SX_E_BAD_RULE, row, "at most %d conditions in one rule", SX_MAX_CONDS);
  }
  if (rs->nconds + n > rs->cond_cap) {
    lua_pop(L, 1);
    return rd->out_of_room = 1, 0;
  }
  cc.conds = rs->conds + rs->nconds;
  cc.row = row;
  r->conds = n ? cc.conds : NULL;
  r->ncond = (unsigned)n;
  ok = read_list(rd, t, n, read_cond_item, &cc, "args", row, SX_E_BAD_RULE);
  if (ok) rs->nconds += n;
  lua_pop(L, 1);
  return ok;
}

static const char *const field_names[3] = { "action", "syscall", "args" };

/* A rule whose syscall is a list: one rule a name or number, each with the rule's action
** and conditions (shared: the rule model only reads them). The conditions are read after
** the first name, where a rule of its own would have them, so a list says its mistakes in
** the order the same rules written one a name would. */
struct listed_ctx {
  struct sx_rule rule;              /* the action, and the conditions once read */
  int args;                         /* their stack index, 0 for none */
  long row;
};

static int read_listed_syscall(struct reader *rd, size_t i, void *ctx) {
  struct listed_ctx *lc = ctx;
  struct ruleset *rs = rd->rs;
  size_t at = rd->nread++;
  rs->rules[at] = lc->rule;
  rs->from[at] = (int)(lc->row - 1);
  if (!read_syscall(rd, lua_gettop(rd->L), &rs->rules[at], &rs->rows[at], lc->row)) return 0;
  if (i > 0 || !lc->args) return 1;
  if (!read_args(rd, lc->args, &lc->rule, lc->row)) return 0;
  rs->rules[at].ncond = lc->rule.ncond;
  rs->rules[at].conds = lc->rule.conds;
  return 1;
}

static int read_syscall_list(struct reader *rd, int idx, int args, const struct sx_rule *r,
                             long row) {
  struct listed_ctx lc = { *r, args, row };
  size_t n = (size_t)lua_rawlen(rd->L, idx), before = rd->nread;
  if (n > rd->rs->nrules - rd->nread) return rd->out_of_room = 1, 0;
  if (!read_list(rd, idx, n, read_listed_syscall, &lc, "its list of syscalls", row,
                 SX_E_BAD_RULE))
    return 0;
  return rd->nread > before || fail(rd, SX_E_BAD_RULE, row, "its list of syscalls is empty");
}

/* Rule i (0-based) from the table at t: {action, name [, args]} or {action =, syscall =,
** args =}, where a list of names and numbers stands for a rule of each. Each field's
** value is left on the stack while the rest are found. */
static int read_rule(struct reader *rd, int t, size_t i) {
  lua_State *L = rd->L;
  struct ruleset *rs = rd->rs;
  struct sx_rule r = { 0, NULL, -1, 0, NULL };
  long row = (long)i + 1;
  int at[3] = { 0, 0, 0 }, top = lua_gettop(L), ok;
  char buf[64];
  if (!is_table(L, t))
    return fail(rd, SX_E_BAD_RULE, row, "rule %zu is a %s, not a table", i + 1,
                luaL_typename(L, t));
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int field = name_of(rd, -2, N_ACTION, N_ARGS + 1);
    if (field < 0 && lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 && lua_tointeger(L, -2) <= 3)
      field = (int)lua_tointeger(L, -2) - 1;
    /* where and group say where a rule came from (the Lua layer reads them): text only */
    if (field < 0 && name_of(rd, -2, N_WHERE, N_GROUP + 1) >= 0 &&
        (lua_type(L, -1) == LUA_TSTRING || lua_isnil(L, -1))) {
      lua_pop(L, 1);
      continue;
    }
    if (field < 0 || at[field]) {
      key_text(L, -2, buf, sizeof buf);
      lua_settop(L, top);
      if (field < 0) return fail(rd, SX_E_BAD_RULE, row, "unknown field %s", buf);
      return fail(rd, SX_E_BAD_RULE, row, "it gives its %s twice, as item %d and as '%s'",
                  field_names[field], field + 1, field_names[field]);
    }
    at[field] = lua_gettop(L);        /* the value stays; a copy of the key goes on */
    lua_pushvalue(L, -2);
  }
  if (!at[0]) ok = fail(rd, SX_E_BAD_ACTION, row, "it has no action");
  else if (!at[1]) ok = fail(rd, SX_E_BAD_RULE, row, "syscall must be a name or a number, got nil");
  else if (!read_action(rd, at[0], &r.action, row, "")) ok = 0;
  else if (is_table(L, at[1])) ok = read_syscall_list(rd, at[1], at[2], &r, row);
  else if (rd->nread == rs->nrules) ok = (rd->out_of_room = 1, 0);
  else {
    size_t k = rd->nread++;
    rs->rules[k] = r;
    rs->from[k] = (int)i;
    ok = read_syscall(rd, at[1], &rs->rules[k], &rs->rows[k], row) &&
         (!at[2] || read_args(rd, at[2], &rs->rules[k], row));
  }
  lua_settop(L, top);
  return ok;
}

/* How many rules the rows at idx (n of them, in a list) make: a rule whose syscall is a
** list makes one a name. Asked only when the first read ran out of room. */
static size_t count_rules(lua_State *L, int idx, size_t n) {
  size_t count = 0;
  for (size_t i = 1; i <= n; i++) {
    size_t k = 1;
    if (lua_rawgeti(L, idx, (lua_Integer)i) == LUA_TTABLE) {
      lua_pushliteral(L, "syscall");
      if (lua_rawget(L, -2) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_rawgeti(L, -1, 2);
      }
      if (lua_type(L, -1) == LUA_TTABLE) k = (size_t)lua_rawlen(L, -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (k > MAX_ROOM - count) return (size_t)MAX_ROOM + 1;   /* (too many: no sum wraps) */
    count += k > 0 ? k : 1;
  }
  return count;
}

static int read_rule_item(struct reader *rd, size_t i, void *ctx) {
  (void)ctx;
  return read_rule(rd, lua_gettop(rd->L), i);
}

/* ---- options -------------------------------------------------------------------------- */

static int add_arch(struct reader *rd, int idx) {
  struct ruleset *rs = rd->rs;
  int n = name_of(rd, idx, N_ARCH_NAMES, N_COUNT), arch = n - N_ARCH_NAMES;
  char list[160] = "", buf[64];
  if (n < 0) {
    for (int a = 0; a < SX_ARCH_COUNT; a++)
      snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", a ? ", " : "",
               sx_arch_name(a));
    key_text(rd->L, idx, buf, sizeof buf);
    if (buf[0] == '\'') {
      fail(rd, SX_E_UNSUPPORTED_ARCH, 0, "unsupported architecture %s (supported: %s)", buf, list);
    } else {
      fail(rd, SX_E_UNSUPPORTED_ARCH, 0, "unsupported architecture '%s' (supported: %s)", buf, list);
    }
    return fail_on(rd, idx, "arch");
  }
  for (size_t a = 0; a < rs->narches; a++)
    if (rs->arches[a] == arch) {
      fail(rd, SX_E_UNSUPPORTED_ARCH, 0, "architecture '%s' is listed twice", sx_arch_name(arch));
      return fail_on(rd, idx, "arch");
    }
  rs->arches[rs->narches++] = arch;
  return 1;
}

static int read_arch_item(struct reader *rd, size_t i, void *ctx) {
  (void)i, (void)ctx;
  return add_arch(rd, lua_gettop(rd->L));
}

static int read_arch_list(struct reader *rd, int idx) {
  lua_State *L = rd->L;
  int t = lua_gettop(L) + 1, ok;
  size_t n;
  if (!is_table(L, idx) || lua_rawlen(L, idx) == 0) {
    fail(rd, SX_E_UNSUPPORTED_ARCH, 0, "opts.arches must be a non-empty list of names");
    return fail_on(rd, idx, "arch");
  }
  lua_pushvalue(L, idx);
  n = (size_t)lua_rawlen(L, t);
  if (n > SX_ARCH_COUNT) {
    lua_pop(L, 1);
    return fail(rd, SX_E_UNSUPPORTED_ARCH, 0, "opts.arches lists more architectures than there are");
  }
  /* in list order, whatever order lua_next walks: read item by item */
  ok = read_list(rd, t, n, read_arch_item, NULL, "opts.arches", 0, SX_E_UNSUPPORTED_ARCH);
  if (ok) {
    rd->rs->narches = 0;
    for (size_t i = 1; ok && i <= n; i++) {
      lua_rawgeti(L, t, (lua_Integer)i);
      ok = add_arch(rd, lua_gettop(L));
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return ok;
}

static int host_arch(struct reader *rd) {
  int host = sx_arch_host();
  if (host < 0)
    return fail(rd, SX_E_UNSUPPORTED_ARCH, 0, "this machine's architecture is not supported");
  rd->rs->arches[rd->rs->narches++] = host;
  return 1;
}

#define BIT(n) (1u << (n))

/* The options a constructor takes besides arch, arches and bad_arch. */
static unsigned extra_options(enum kind kind) {
  switch (kind) {
    case K_BUILD: case K_ALLOW: return BIT(N_DEFAULT);
    case K_DENY: return BIT(N_DEFAULT) | BIT(N_DENY_ACTION);
    default: return 0;
  }
}

static int read_options(struct reader *rd, int idx) {
  lua_State *L = rd->L;
  struct ruleset *rs = rd->rs;
  unsigned seen = 0, extra = extra_options(rd->kind);
  char buf[64];
  rs->bad_arch_action = SX_RET_KILL_PROCESS;
  if (lua_isnoneornil(L, idx)) return host_arch(rd);
  if (!is_table(L, idx))
    return misuse(rd, "%s: options must be a table, got %s", luaL_typename(L, idx));
  {
    int both = lua_getfield(L, idx, "arch") != LUA_TNIL;
    both = (lua_getfield(L, idx, "arches") != LUA_TNIL) && both;
    lua_pop(L, 2);
    if (both) return misuse(rd, "%s: give opts.arch or opts.arches, not both%s", "");
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int key = name_of(rd, -2, N_ARCH, N_DENY_ACTION + 1), ok;
    if (key < 0 || (key >= N_DEFAULT && !(extra & BIT(key)))) {
      key_text(L, -2, buf, sizeof buf);
      lua_pop(L, 2);
      return misuse(rd, "%s: unknown option %s", buf);
    }
    if (key == N_ARCH) ok = add_arch(rd, lua_gettop(L));
    else if (key == N_ARCHES) ok = read_arch_list(rd, lua_gettop(L));
    else if (key == N_BAD_ARCH) ok = read_action(rd, lua_gettop(L), &rs->bad_arch_action, 0, "bad_arch action: ");
    else if (key == N_DEFAULT) ok = read_action(rd, lua_gettop(L), &rs->default_action, 0, "default action: ");
    else ok = read_action(rd, lua_gettop(L), &rd->deny_action, 0, "deny_action: ");
    if (!ok) { lua_pop(L, 2); return 0; }
    lua_pop(L, 1);
    seen |= BIT(key);
  }
  return (seen & (BIT(N_ARCH) | BIT(N_ARCHES))) ? 1 : host_arch(rd);
}

/* ---- the ruleset ------------------------------------------------------------------------ */

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

/* A ruleset userdata with room for n rules (none for a list of names) and cond_cap
** conditions, on the stack top; n <= MAX_ROOM and cond_cap <= MAX_ROOM * SX_MAX_CONDS. */
static struct ruleset *new_ruleset(lua_State *L, size_t n, size_t cond_cap, int list) {
  size_t rules_at = align8(sizeof(struct ruleset));
  size_t rows_at = rules_at + (list ? 0 : align8(n * sizeof(struct sx_rule)));
  size_t from_at = rows_at + align8(n * sizeof(int));
  size_t conds_at = from_at + align8(n * sizeof(int));
  char *block = lua_newuserdatauv(L, conds_at + cond_cap * sizeof(struct sx_cond), 0);
  struct ruleset *rs = (struct ruleset *)(void *)block;
  memset(rs, 0, sizeof *rs);
  rs->nrules = n;
  rs->cond_cap = cond_cap;
  rs->rules = list ? NULL : (struct sx_rule *)(void *)(block + rules_at);
  rs->rows = (int *)(void *)(block + rows_at);
  rs->from = (int *)(void *)(block + from_at);
  rs->conds = (struct sx_cond *)(void *)(block + conds_at);
  lua_rawgeti(L, TYPES, TYPE_RULESET);
  lua_setmetatable(L, -2);
  return rs;
}

/* ---- lists of names --------------------------------------------------------------------- */

enum { MAX_ROWS = 1024 };

/* Item i of a list of names: its table row, or -1 when it is anything else (a number, a
** name the tables lack, a mistake), which the list then reads as rules. */
static int read_name_item(struct reader *rd, size_t i, void *ctx) {
  lua_State *L = rd->L;
  size_t len;
  const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
  int row = s && strlen(s) == len ? sx_syscall_row_len(s, len) : -1;
  (void)ctx;
  if (s && s[0] == '@') return sugar(rd);
  rd->rs->rows[i] = row;
  if (row < 0) rd->out_of_room = 1;   /* not plain: read again as rules */
  return 1;
}

/* Item i of a list as rule i: the list's action for its syscall (a repeat is dropped). */
static int read_list_rule(struct reader *rd, size_t i, void *ctx) {
  struct ruleset *rs = rd->rs;
  struct sx_rule *r = &rs->rules[i];
  (void)ctx;
  *r = (struct sx_rule){ rs->list_action, NULL, -1, 0, NULL };
  rs->from[i] = (int)i;
  return read_syscall(rd, lua_gettop(rd->L), r, &rs->rows[i], (long)i + 1);
}

/* Do rules i and j name the same syscall (the same name, or the same number)? */
static int same_syscall(const struct ruleset *rs, size_t i, size_t j) {
  const struct sx_rule *a = &rs->rules[i], *b = &rs->rules[j];
  if (!a->syscall) return !b->syscall && a->number == b->number;
  return b->syscall == a->syscall ||
         (rs->rows[i] < 0 && b->syscall && strcmp(b->syscall, a->syscall) == 0);
}

/* A list's rules without repeats (a list is a set), in place. */
static void drop_repeats(struct ruleset *rs) {
  size_t m = 0;
  for (size_t i = 0; i < rs->nrules; i++) {
    int repeat = 0;
    for (size_t j = 0; j < m && !repeat; j++) repeat = same_syscall(rs, i, j);
    if (repeat) continue;
    rs->rules[m] = rs->rules[i];
    rs->rows[m] = rs->rows[i];
    rs->from[m] = rs->from[i];
    m++;
  }
  rs->nrules = m;
}

/* ---- compiling ------------------------------------------------------------------------- */

/* Compile the ruleset at ud; 0 with the mistake set when the compiler refuses. */
static int compile(struct reader *rd, int ud) {
  lua_State *L = rd->L;
  struct ruleset *rs = rd->rs;
  struct sx_policy p = { rs->rules, rs->nrules, rs->default_action, rs->bad_arch_action,
                         rs->arches, rs->narches };
  struct sx_list list = { rs->rows, rs->nrules, rs->list_action };
  struct sx_work *work = &rd->shared->work;
  struct sx_program prog;
  struct sx_error err;
  int st = rs->rules ? sx_compile_rows(&p, rs->rows, work, &prog, &err)
                     : sx_compile_list(&p, &list, work, &prog, &err);
  if (st != SX_OK) {
    fail(rd, st, err.rule < 0 ? 0 : rs->rules ? rs->from[err.rule] + 1 : err.rule + 1, "%s",
         err.message);
    rd->m.other = err.other >= 0 ? rs->from[err.other] + 1 : 0;
    if (rs->rules && err.rule >= 0) {   /* the syscall at fault, also when its row lists many */
      const struct sx_rule *r = &rs->rules[err.rule];
      if (r->syscall) lua_pushstring(L, r->syscall); else lua_pushinteger(L, r->number);
      fail_on(rd, lua_gettop(L), "syscall");
      lua_pop(L, 1);
    }
    return 0;
  }
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

/* nil and the mistake as a table {code, message, rule, other, misuse, field, value}, or
** {sugar = true}. */
static int push_mistake(struct reader *rd) {
  lua_State *L = rd->L;
  lua_pushnil(L);
  if (rd->sugar && !rd->m.code) {
    lua_createtable(L, 0, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "sugar");
    return 2;
  }
  lua_createtable(L, 0, 7);
  lua_pushstring(L, sx_status_name(rd->m.code));
  lua_setfield(L, -2, "code");
  lua_pushstring(L, rd->m.message);
  lua_setfield(L, -2, "message");
  if (rd->m.row > 0) { lua_pushinteger(L, rd->m.row); lua_setfield(L, -2, "rule"); }
  if (rd->m.other > 0) { lua_pushinteger(L, rd->m.other); lua_setfield(L, -2, "other"); }
  if (rd->m.misuse) { lua_pushboolean(L, 1); lua_setfield(L, -2, "misuse"); }
  if (rd->m.field) {
    lua_pushstring(L, rd->m.field);
    lua_setfield(L, -2, "field");
    lua_pushvalue(L, rd->fault);
    lua_setfield(L, -2, "value");
  }
  return 2;
}

/* The rows of a list at idx (n items): names alone take the list path; anything else
** (numbers, unknown names, mistakes) is read as rules, each once. */
static int read_names(struct reader *rd, int idx, size_t n) {
  lua_State *L = rd->L;
  struct ruleset *rs = rd->rs;
  if (!read_list(rd, idx, n, read_name_item, NULL, "the list of syscalls", 0, SX_E_BAD_RULE))
    return 0;
  if (!rd->out_of_room && sx_syscall_count() <= MAX_ROWS) return 1;
  /* the same list as rules, in a ruleset with room for them */
  {
    struct ruleset *full = new_ruleset(L, n, 0, 0);
    memcpy(full, rs, offsetof(struct ruleset, nrules));
    lua_replace(L, -2);
    rd->rs = full;
    if (!read_list(rd, idx, n, read_list_rule, NULL, "the list of syscalls", 0, SX_E_BAD_RULE))
      return 0;
    drop_repeats(full);
  }
  return 1;
}

/* build(kind, rows, opts [, default]) -> filter | nil, mistake. kind is "rules" (rows of
** rules; default the default action), "build" (the same, default in opts), "allow" or
** "deny" (a list of names; default and deny_action in opts). A mistake {sugar = true}
** means the rows hold sugar for sx.rules to rewrite first. */
static int l_build(lua_State *L) {
  struct reader rd;
  size_t n;
  int list, ud;
  memset(&rd, 0, sizeof rd);
  rd.L = L;
  rd.shared = lua_touserdata(L, lua_upvalueindex(1));
  rd.kind = (enum kind)luaL_checkoption(L, 1, NULL, kind_names);
  list = rd.kind == K_ALLOW || rd.kind == K_DENY;
  lua_settop(L, 4);
  if (!is_table(L, 2)) {
    if (list) return misuse(&rd, "%s takes a list of syscall names, got %s", luaL_typename(L, 2)),
                     push_mistake(&rd);
    fail(&rd, SX_E_BAD_RULE, 0, "rules must be a list, got %s", luaL_typename(L, 2));
    return push_mistake(&rd);
  }
  n = (size_t)lua_rawlen(L, 2);
  if (n > MAX_ROOM) {
    fail(&rd, SX_E_BAD_RULE, 0, "%s: more than %d %s", list ? "the list of syscalls" : "rules",
         MAX_ROOM, list ? "items" : "rules");
    return push_mistake(&rd);
  }
  /* room for a rule and a condition per row; a policy with more (lists of syscalls, rules
  ** with several conditions) reads again with all the room it needs */
  for (size_t nrules = n, room = n, again = 0; ; again = 1) {
    lua_settop(L, 4);
    lua_pushnil(L);
    rd.fault = lua_gettop(L);
    rd.rs = new_ruleset(L, nrules, list ? 0 : room, list);
    ud = lua_gettop(L);
    rd.out_of_room = rd.sugar = 0;
    rd.nread = 0;
    rd.last_action = NULL;    /* (a collection between reads may free the string it was) */
    memset(&rd.m, 0, sizeof rd.m);
    rd.rs->default_action = rd.kind == K_DENY ? SX_RET_ALLOW : SX_RET_KILL_PROCESS;
    rd.deny_action = SX_RET_ERRNO | 1;          /* EPERM */
    if (!read_options(&rd, 3)) return push_mistake(&rd);
    if (rd.kind == K_RULES) {
      if (lua_isnil(L, 4))
        return fail(&rd, SX_E_BAD_ACTION, 0, "from_rules needs a default action"),
               push_mistake(&rd);
      if (!read_action(&rd, 4, &rd.rs->default_action, 0, "default action: "))
        return push_mistake(&rd);
    }
    rd.rs->list_action = rd.kind == K_DENY ? rd.deny_action : SX_RET_ALLOW;
    lua_pushvalue(L, ud);                       /* read_names may replace the ruleset */
    if (list ? read_names(&rd, 2, n)
             : read_list(&rd, 2, n, read_rule_item, NULL, "rules", 0, SX_E_BAD_RULE)) {
      ud = lua_gettop(L);
      if (!list) rd.rs->nrules = rd.nread;
      return compile(&rd, ud) ? 1 : push_mistake(&rd);
    }
    if (again && rd.out_of_room)      /* (a finalizer run by the collector grew a list) */
      fail(&rd, SX_E_BAD_RULE, 0, "the rules changed while they were read");
    if (!rd.out_of_room || list || again) return push_mistake(&rd);
    nrules = count_rules(L, 2, n);
    room = n * SX_MAX_CONDS;
    if (nrules > MAX_ROOM) {
      fail(&rd, SX_E_BAD_RULE, 0, "the rules' lists of syscalls make more than %d rules", MAX_ROOM);
      return push_mistake(&rd);
    }
  }
}

/* ---- arches_of: the architectures a constructor's options name ------------------------- */

/* arches_of(kind, opts) -> {names} | nil, mistake (the options checked as build does). */
static int l_arches_of(lua_State *L) {
  struct reader rd;
  memset(&rd, 0, sizeof rd);
  rd.L = L;
  rd.shared = lua_touserdata(L, lua_upvalueindex(1));
  rd.kind = (enum kind)luaL_checkoption(L, 1, NULL, kind_names);
  lua_settop(L, 2);
  lua_pushnil(L);
  rd.fault = lua_gettop(L);
  rd.rs = new_ruleset(L, 0, 0, 1);
  if (!read_options(&rd, 2)) return push_mistake(&rd);
  lua_createtable(L, (int)rd.rs->narches, 0);
  for (size_t a = 0; a < rd.rs->narches; a++) {
    lua_pushstring(L, sx_arch_name(rd.rs->arches[a]));
    lua_rawseti(L, -2, (lua_Integer)a + 1);
  }
  return 1;
}

/* ---- ruleset: what the Lua layer shows of a filter, on demand ----------------------------- */

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

static void push_arches(lua_State *L, const struct ruleset *rs) {
  lua_createtable(L, (int)rs->narches, 0);
  for (size_t a = 0; a < rs->narches; a++) {
    lua_pushstring(L, sx_arch_name(rs->arches[a]));
    lua_rawseti(L, -2, (lua_Integer)a + 1);
  }
}

/* ruleset_arches(rs) -> the arches' names, without the rules (what installing a filter
** asks of it). */
static int l_ruleset_arches(lua_State *L) {
  push_arches(L, luaL_checkudata(L, 1, RULESET));
  return 1;
}

/* ruleset_syscalls(rs) -> how many syscalls its rules name, each once (what tostring of a
** filter says, without making its rules into Lua tables). */
static int l_ruleset_syscalls(lua_State *L) {
  const struct ruleset *rs = luaL_checkudata(L, 1, RULESET);
  uint64_t seen[MAX_ROWS / 64] = { 0 };
  lua_Integer n = 0;
  for (size_t i = 0; i < rs->nrules; i++) {
    int row = rs->rows[i];
    size_t j = 0;
    if (row >= 0 && row < MAX_ROWS) {       /* a name of the tables (every item of a list) */
      n += sx_bit_set(seen, (size_t)row);
      continue;
    }
    while (j < i && !same_syscall(rs, i, j)) j++;
    n += j == i;
  }
  lua_pushinteger(L, n);
  return 1;
}

/* ruleset(rs) -> arches, default, bad_arch, rules, from: actions as kernel values, rules as
** {action =, syscall = name|number, args = {...}|nil}; a list's names once each; from[i]
** is the input row rule i came from. */
static int l_ruleset(lua_State *L) {
  const struct ruleset *rs = luaL_checkudata(L, 1, RULESET);
  uint64_t seen[MAX_ROWS / 64] = { 0 };
  lua_Integer m = 0;
  push_arches(L, rs);
  lua_pushinteger(L, rs->default_action);
  lua_pushinteger(L, rs->bad_arch_action);
  lua_createtable(L, (int)rs->nrules, 0);
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
    lua_rawseti(L, -3, ++m);
    lua_pushinteger(L, rs->rules ? rs->from[i] + 1 : (lua_Integer)i + 1);
    lua_rawseti(L, -2, m);
  }
  return 5;
}

/* register_type(name, metatable): the metatables of filters ("sx.filter") and action
** objects ("sx.action"), which build makes and recognises. */
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

/* action_value(text) -> the kernel value | nil, message (the one parser of action text). */
static int l_action_value(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  uint32_t value;
  struct sx_error err;
  if (sx_action_parse(s, len, &value, &err) == SX_OK) {
    lua_pushinteger(L, value);
    return 1;
  }
  lua_pushnil(L);
  lua_pushstring(L, err.message);
  return 2;
}

static int shared_gc(lua_State *L) {
  struct shared *shared = lua_touserdata(L, 1);
  sx_work_free(&shared->work);
  return 0;
}

/* Into the module table on the stack top: build and arches_of, with upvalues the shared
** block, the types and the names (kept alive there); ruleset, register_type, action_value. */
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
  lua_pushcclosure(L, l_arches_of, nup);                  /* takes the copies */
  lua_setfield(L, module, "arches_of");
  lua_pushcclosure(L, l_build, nup);                      /* and this the upvalues */
  lua_setfield(L, module, "build");
  lua_pushcfunction(L, l_ruleset);
  lua_setfield(L, module, "ruleset");
  lua_pushcfunction(L, l_ruleset_arches);
  lua_setfield(L, module, "ruleset_arches");
  lua_pushcfunction(L, l_ruleset_syscalls);
  lua_setfield(L, module, "ruleset_syscalls");
  lua_pushcfunction(L, l_action_value);
  lua_setfield(L, module, "action_value");
}

#else

void sx_open_rules(lua_State *L) { (void)L; }

#endif

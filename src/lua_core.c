/*
** lua_core.c: the sx.core Lua module, a thin translation of sx.h.
**
** Programs cross as strings of 8-byte instructions (the layout seccomp(2) takes). Rule
** tables are read by lua_rules.c (sx.core.build), the one reader. Scratch C memory lives
** in a userdata, so nothing leaks when a Lua error unwinds.
*/
#include <string.h>

#include "lua_compat.h"
#include "lua_rules.h"
#include "rules.h"
#include "sx.h"

#define LUAMOD_EXPORT __attribute__((visibility("default")))

LUAMOD_EXPORT int luaopen_sx_core(lua_State *L);

static int check_arch(lua_State *L, int idx) {
  const char *name = luaL_checkstring(L, idx);
  int arch = sx_arch_from_name(name);
  if (arch < 0) luaL_argerror(L, idx, lua_pushfstring(L, "unknown architecture '%s'", name));
  return arch;
}

static int l_arches(lua_State *L) {
  lua_createtable(L, SX_ARCH_COUNT, 0);
  for (int a = 0; a < SX_ARCH_COUNT; a++) {
    lua_pushstring(L, sx_arch_name(a));
    lua_rawseti(L, -2, a + 1);
  }
  return 1;
}

static int l_host_arch(lua_State *L) {
  int arch = sx_arch_host();
  if (arch < 0) lua_pushnil(L); else lua_pushstring(L, sx_arch_name(arch));
  return 1;
}

static int l_audit(lua_State *L) {
  lua_pushinteger(L, sx_arch_audit(check_arch(L, 1)));
  return 1;
}

static int l_big_endian(lua_State *L) {
  lua_pushboolean(L, sx_arch_big_endian(check_arch(L, 1)));
  return 1;
}

static int l_arch_bits(lua_State *L) {
  lua_pushinteger(L, sx_arch_bits(check_arch(L, 1)));
  return 1;
}

/* A syscall name; one holding a NUL byte names nothing (C would read only its start). */
static const char *check_name(lua_State *L, int idx) {
  size_t len;
  const char *name = luaL_checklstring(L, idx, &len);
  return strlen(name) == len ? name : "";
}

static int l_syscall_number(lua_State *L) {
  long nr = sx_syscall_number(check_name(L, 1), check_arch(L, 2));
  if (nr == SX_NO_SYSCALL) lua_pushnil(L); else lua_pushinteger(L, nr);
  return 1;
}

static int l_syscall_name(lua_State *L) {
  lua_Integer nr = luaL_checkinteger(L, 1);
  const char *name = sx_syscall_name((long)nr, check_arch(L, 2));
  if (name) lua_pushstring(L, name); else lua_pushnil(L);
  return 1;
}

/* syscall_arches(names) -> for each name of the list, the arches that have it, as bits
** (1 << (i - 1) for arches()[i]; 0 for a name no arch has), and the index of the first
** name no arch has (nil: none); or nil and the index of the first item that is not a
** string. One call for a list a caller would otherwise look up name by name and arch by
** arch (a container profile names hundreds), which also says where a caller looking for
** names that are not syscalls ("" among them) has to start. */
static int l_syscall_arches(lua_State *L) {
  int n, first_unknown = 0;
  luaL_checktype(L, 1, LUA_TTABLE);
  n = (int)luaL_len(L, 1);
  lua_createtable(L, n, 0);
  for (int i = 1; i <= n; i++) {
    size_t len;
    const char *name;
    const int *numbers;
    lua_Integer bits = 0;
    lua_rawgeti(L, 1, i);
    if (lua_type(L, -1) != LUA_TSTRING) {
      lua_pushnil(L);
      lua_pushinteger(L, i);
      return 2;
    }
    name = lua_tolstring(L, -1, &len);
    numbers = sx_row_numbers(sx_syscall_row_len(name, len));
    for (int a = 0; numbers && a < SX_ARCH_COUNT; a++)
      if (numbers[a] >= 0) bits |= (lua_Integer)1 << a;
    if (bits == 0 && first_unknown == 0) first_unknown = i;
    lua_pop(L, 1);
    lua_pushinteger(L, bits);
    lua_rawseti(L, -2, i);
  }
  if (first_unknown) lua_pushinteger(L, first_unknown); else lua_pushnil(L);
  return 2;
}

/* table(narray, nhash) -> an empty table with room for narray elements and nhash keys, as
** Lua 5.5's table.create: a caller that knows how many it will put in spares the table its
** growing (sx.oci files some 400 names of a profile in one). */
static int l_table(lua_State *L) {
  lua_Integer narr = luaL_checkinteger(L, 1), nrec = luaL_checkinteger(L, 2);
  luaL_argcheck(L, narr >= 0 && narr <= (1 << 24), 1, "out of range");
  luaL_argcheck(L, nrec >= 0 && nrec <= (1 << 24), 2, "out of range");
  lua_createtable(L, (int)narr, (int)nrec);
  return 1;
}

/* unknown_key(t, known) -> the first key of t, in next's order, that known does not map to
** a true value; nothing when every key is known; false when t is not a table. One call
** for what a Lua loop would ask next for key by key: sx.oci checks each object of a
** profile (hundreds in a container profile) for fields it does not know, and only a
** message needs more than this. */
static int l_unknown_key(lua_State *L) {
  luaL_checktype(L, 2, LUA_TTABLE);
  if (lua_type(L, 1) != LUA_TTABLE) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    int known;
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawget(L, 2);
    known = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (!known) return 1;
  }
  return 0;
}

static int l_syscall_known(lua_State *L) {
  lua_pushboolean(L, sx_syscall_known(check_name(L, 1)));
  return 1;
}

static int l_syscall_suggest(lua_State *L) {
  const char *near = sx_syscall_suggest(check_name(L, 1));
  if (near) lua_pushstring(L, near); else lua_pushnil(L);
  return 1;
}

static int l_syscall_names(lua_State *L) {
  size_t n = sx_syscall_count();
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, sx_syscall_at(i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* arg(arch, nr, index) -> name | nil, width in bytes (0 unknown), bits compared */
static int l_arg(lua_State *L) {
  int arch = check_arch(L, 1);
  long nr = (long)luaL_checkinteger(L, 2);
  lua_Integer index = luaL_checkinteger(L, 3);
  const char *name;
  luaL_argcheck(L, index >= 0 && index <= 5, 3, "an argument index is 0..5");
  name = sx_arg_name(arch, nr, (unsigned)index);
  if (name) lua_pushstring(L, name); else lua_pushnil(L);
  lua_pushinteger(L, sx_arg_width(arch, nr, (unsigned)index));
  lua_pushinteger(L, sx_arg_bits(arch, nr, (unsigned)index));
  return 3;
}

static int l_errno_number(lua_State *L) {
  int e = sx_errno_from_name(luaL_checkstring(L, 1));
  if (e < 0) lua_pushnil(L); else lua_pushinteger(L, e);
  return 1;
}

static int l_errno_name(lua_State *L) {
  const char *name = sx_errno_name((int)luaL_checkinteger(L, 1));
  if (name) lua_pushstring(L, name); else lua_pushnil(L);
  return 1;
}

static int l_action_string(lua_State *L) {
  char buf[48];
  lua_Integer action = luaL_checkinteger(L, 1);
  sx_action_format((uint32_t)action, buf, sizeof buf);
  lua_pushstring(L, buf);
  return 1;
}

static int l_action_valid(lua_State *L) {
  lua_Integer action = luaL_checkinteger(L, 1);
  lua_pushboolean(L, action >= 0 && action <= 0xffffffff && sx_action_valid((uint32_t)action));
  return 1;
}

static int l_check(lua_State *L) {
  size_t len;
  const struct sx_insn *insns = sx_checkprogram(L, 1, &len);
  struct sx_error err;
  int st = sx_check(insns, len, &err);
  if (st == SX_OK) { lua_pushboolean(L, 1); return 1; }
  lua_pushnil(L);
  lua_pushstring(L, sx_status_name(st));
  lua_pushstring(L, err.message);
  return 3;
}

static void read_args(lua_State *L, int idx, uint64_t args[6]) {
  for (int i = 0; i < 6; i++) args[i] = lua_isnoneornil(L, idx + i) ? 0 : sx_checku64(L, idx + i);
}

/* seccomp_data from the arguments (audit, nr, a0..a5 [, ip]) at `idx`. */
static struct sx_data read_data(lua_State *L, int idx) {
  struct sx_data d;
  memset(&d, 0, sizeof d);
  d.arch = (uint32_t)luaL_checkinteger(L, idx);
  d.nr = (int32_t)(uint32_t)luaL_checkinteger(L, idx + 1);
  read_args(L, idx + 2, d.args);
  if (!lua_isnoneornil(L, idx + 8)) d.instruction_pointer = sx_checku64(L, idx + 8);
  return d;
}

/* emulate(bpf, audit, nr, a0..a5 [, ip]) -> action, executed */
static int l_emulate(lua_State *L) {
  size_t len, executed = 0;
  const struct sx_insn *insns = sx_checkprogram(L, 1, &len);
  struct sx_data d = read_data(L, 2);
  uint32_t action;
  if (sx_emulate(insns, len, &d, &action, &executed) != SX_OK)
    return luaL_error(L, "the BPF program ran off its end");
  lua_pushinteger(L, action);
  lua_pushinteger(L, (lua_Integer)executed);
  return 2;
}

/* trace(bpf, audit, nr, a0..a5 [, ip]) -> action, {pc...} (0-based instruction indexes) */
static int l_trace(lua_State *L) {
  size_t len, executed = 0, path[SX_MAX_INSNS];
  const struct sx_insn *insns = sx_checkprogram(L, 1, &len);
  struct sx_data d = read_data(L, 2);
  uint32_t action;
  if (sx_trace(insns, len, &d, &action, path, SX_MAX_INSNS, &executed) != SX_OK)
    return luaL_error(L, "the BPF program ran off its end");
  lua_pushinteger(L, action);
  lua_createtable(L, (int)executed, 0);
  for (size_t i = 0; i < executed && i < SX_MAX_INSNS; i++) {
    lua_pushinteger(L, (lua_Integer)path[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 2;
}

static int l_cache_eligible(lua_State *L) {
  size_t len;
  const struct sx_insn *insns = sx_checkprogram(L, 1, &len);
  lua_pushboolean(L, sx_cache_eligible(insns, len, (uint32_t)luaL_checkinteger(L, 2),
                                       (int32_t)(uint32_t)luaL_checkinteger(L, 3)));
  return 1;
}

/* constant_action(bpf, audit, nr) -> action | nil when the decision reads arguments */
static int l_constant_action(lua_State *L) {
  size_t len;
  const struct sx_insn *insns = sx_checkprogram(L, 1, &len);
  uint32_t action;
  if (sx_constant_action(insns, len, (uint32_t)luaL_checkinteger(L, 2),
                         (int32_t)(uint32_t)luaL_checkinteger(L, 3), &action))
    lua_pushinteger(L, action);
  else
    lua_pushnil(L);
  return 1;
}

static int l_disasm(lua_State *L) {
  size_t len, need;
  const struct sx_insn *insns = sx_checkprogram(L, 1, &len);
  char *text;
  need = sx_disasm(insns, len, NULL, 0);
  text = lua_newuserdatauv(L, need + 1, 0);   /* scratch, collected by Lua */
  sx_disasm(insns, len, text, need + 1);
  lua_pushlstring(L, text, need);
  return 1;
}

/* install(bpf, flags) -> true | nil, code, message, errno, tid */
static int l_install(lua_State *L) {
  size_t len;
  const struct sx_insn *insns = sx_checkprogram(L, 1, &len);
  unsigned flags = (unsigned)luaL_checkinteger(L, 2);
  struct sx_install_error err;
  if (sx_install(insns, len, flags, &err) == SX_OK) { lua_pushboolean(L, 1); return 1; }
  lua_pushnil(L);
  lua_pushstring(L, sx_status_name(err.code));
  lua_pushstring(L, err.message);
  lua_pushinteger(L, err.error);
  lua_pushinteger(L, err.tid);
  return 5;
}

static const char *const probe_outcomes[] = { "returned", "errno", "signaled", "install_failed" };

/* probe(bpf, nr, a0..a5) -> outcome, value */
static int l_probe(lua_State *L) {
  size_t len;
  const struct sx_insn *insns = sx_checkprogram(L, 1, &len);
  uint64_t args[6];
  struct sx_probe_result r;
  long nr = (long)luaL_checkinteger(L, 2);
  read_args(L, 3, args);
  if (sx_probe(insns, len, nr, args, &r) != 0) return luaL_fileresult(L, 0, "probe");
  lua_pushstring(L, probe_outcomes[r.outcome]);
  lua_pushinteger(L, r.value);
  return 2;
}

static const luaL_Reg core_functions[] = {
  { "arches", l_arches }, { "host_arch", l_host_arch }, { "audit", l_audit },
  { "big_endian", l_big_endian }, { "arch_bits", l_arch_bits },
  { "syscall_number", l_syscall_number }, { "syscall_name", l_syscall_name },
  { "syscall_known", l_syscall_known }, { "syscall_arches", l_syscall_arches }, { "syscall_suggest", l_syscall_suggest },
  { "syscall_names", l_syscall_names }, { "unknown_key", l_unknown_key }, { "table", l_table }, { "arg", l_arg },
  { "errno_number", l_errno_number }, { "errno_name", l_errno_name },
  { "action_string", l_action_string }, { "action_valid", l_action_valid },
  { "check", l_check }, { "emulate", l_emulate },
  { "cache_eligible", l_cache_eligible }, { "trace", l_trace }, { "constant_action", l_constant_action }, { "disasm", l_disasm }, { "probe", l_probe },
  { "install", l_install },
  { NULL, NULL }
};

LUAMOD_EXPORT int luaopen_sx_core(lua_State *L) {
  luaL_newlib(L, core_functions);
  lua_pushinteger(L, SX_MAX_INSNS);
  lua_setfield(L, -2, "MAX_INSNS");
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, SX_INSTALL_TSYNC); lua_setfield(L, -2, "tsync");
  lua_pushinteger(L, SX_INSTALL_LOG); lua_setfield(L, -2, "log");
  lua_pushinteger(L, SX_INSTALL_SPEC_ALLOW); lua_setfield(L, -2, "spec_allow");
  lua_pushinteger(L, SX_INSTALL_KEEP_PRIVS); lua_setfield(L, -2, "keep_privs");
  lua_pushinteger(L, SX_INSTALL_NO_NEW_PRIVS); lua_setfield(L, -2, "no_new_privs");
  lua_setfield(L, -2, "INSTALL");
  sx_open_rules(L);
  return 1;
}

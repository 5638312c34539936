/*
** lua_compat.h: the few differences between Lua 5.4, Lua 5.3 and LuaJIT 2.1 that the
** sx bindings meet, in one place, and the argument checks the bindings share. Everything
** else is the common Lua C API.
**
** LuaJIT numbers are doubles: a 64-bit argument value that does not fit 53 bits cannot
** cross as a number, so sx_checku64 also takes strings ("0xffffffffffffffff").
*/
#ifndef SX_LUA_COMPAT_H
#define SX_LUA_COMPAT_H

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <stdlib.h>

#include "sx.h"

#if LUA_VERSION_NUM < 504
#define lua_newuserdatauv(L, size, nuv) lua_newuserdata(L, size)
#define lua_setiuservalue(L, idx, n) lua_setuservalue(L, idx)   /* one value: n is 1 */
#endif

#if LUA_VERSION_NUM < 502      /* LuaJIT 2.1 speaks 5.1 with a few 5.2 additions */
#define SX_LUAJIT 1
static inline lua_Integer sx_compat_len(lua_State *L, int idx) {
  return (lua_Integer)lua_objlen(L, idx);
}
#define luaL_len(L, idx) sx_compat_len(L, idx)
#define lua_geti(L, idx, i) lua_rawgeti(L, idx, (int)(i))
#endif

/* A 64-bit unsigned value: a Lua integer (two's complement for >= 2^63), an integral
** number below 2^53, or a string in C syntax ("0x...", decimal, "-1"). */
static inline uint64_t sx_checku64(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char *s = lua_tostring(L, idx);
    char *end;
    uint64_t v;
    errno = 0;
    v = *s == '-' ? (uint64_t)strtoll(s, &end, 0) : (uint64_t)strtoull(s, &end, 0);
    if (errno || end == s || *end)
      luaL_argerror(L, idx, lua_pushfstring(L, "'%s' is not a 64-bit number", s));
    return v;
  }
#ifdef SX_LUAJIT
  {
    lua_Number n = luaL_checknumber(L, idx);
    if (n != (lua_Number)(int64_t)n || n >= 9007199254740992.0 || n <= -9007199254740992.0)
      luaL_argerror(L, idx, "not an exact integer: give 64-bit values as strings");
    return (uint64_t)(int64_t)n;
  }
#else
  return (uint64_t)luaL_checkinteger(L, idx);
#endif
}

/* A BPF program argument: a string of 8-byte instructions. */
static inline const struct sx_insn *sx_checkprogram(lua_State *L, int idx, size_t *len) {
  size_t bytes;
  const char *s = luaL_checklstring(L, idx, &bytes);
  luaL_argcheck(L, bytes % sizeof(struct sx_insn) == 0, idx,
                "BPF program length is not a multiple of 8 bytes");
  *len = bytes / sizeof(struct sx_insn);
  return (const struct sx_insn *)(const void *)s;
}

#endif

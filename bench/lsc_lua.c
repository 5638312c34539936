/*
** lsc_lua.c: libseccomp 2.5 as a Lua module, `lsc_peer`, for bench/lua_compile.lua's pair
** mode: the peer's compiles run in the same process as sx's Lua API, in batches that
** alternate with sx's, so both are timed on the same machine state. Benchmark only.
**
**   local peer = require("bench.lsc_peer").load(rulefile)
**   peer:compile(n)       -- n compiles, rules -> BPF bytes, as compile_bench times them
*/
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "lsc_build.h"

#define PEER "lsc_peer"

__attribute__((visibility("default"))) int luaopen_bench_lsc_peer(lua_State *L);

struct peer {
  struct rf_policy rf;
  int memfd;               /* -1 once closed */
};

static int l_gc(lua_State *L) {
  struct peer *p = luaL_checkudata(L, 1, PEER);
  if (p->memfd >= 0) {
    close(p->memfd);
    rf_free(&p->rf);
    p->memfd = -1;
  }
  return 0;
}

static int l_load(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct peer *p = lua_newuserdatauv(L, sizeof *p, 0);
  char why[300];
  p->memfd = -1;
  if (rf_read_path(path, &p->rf, why, sizeof why))
    return luaL_error(L, "lsc_peer: %s: %s", path, why);
  if ((p->memfd = memfd_create("lsc_peer", 0)) < 0) {
    rf_free(&p->rf);
    return luaL_error(L, "lsc_peer: memfd_create failed");
  }
  luaL_setmetatable(L, PEER);
  return 1;
}

static int l_compile(lua_State *L) {
  struct peer *p = luaL_checkudata(L, 1, PEER);
  lua_Integer n = luaL_checkinteger(L, 2);
  char why[300];
  luaL_argcheck(L, p->memfd >= 0, 1, "closed");
  for (lua_Integer i = 0; i < n; i++) {
    unsigned char *bpf;
    size_t len;
    if (lsc_compile(&p->rf, 1, p->memfd, &bpf, &len, why, sizeof why))
      return luaL_error(L, "lsc_peer: libseccomp: %s", why);
    free(bpf);
  }
  return 0;
}

int luaopen_bench_lsc_peer(lua_State *L) {
  static const luaL_Reg methods[] = {
    { "compile", l_compile }, { "__gc", l_gc }, { NULL, NULL }
  };
  luaL_newmetatable(L, PEER);
  luaL_setfuncs(L, methods, 0);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushcfunction(L, l_load);
  lua_setfield(L, -2, "load");
  return 1;
}

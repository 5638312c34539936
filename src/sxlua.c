/*
** sxlua.c: the sxlua command, a Lua 5.4 host with the sx modules built in.
**
**   sxlua [options] policy.lua [policy args...] -- program [args...]
**
** The Lua modules (every lua/sx module) are compiled in as bytecode and the C modules
** (sx.core, sx.process_core) are linked in; all are put in package.preload, so sxlua
** works from the build directory and after installation alike, whatever LUA_PATH says.
** Where CMakeLists.txt finds static archives of LPeg and lua-cjson (the modules sx needs
** for text conditions and OCI profiles) it links them in too and makes sxlua a static
** executable (SX_STATIC): no dynamic loader, libc or libm to map and relocate at every
** start, and no library an environment variable can slip into it. Such an sxlua loads no
** other C module: require says so by name.
** Everything else (options, loading the policy, running the workload, exit codes) is
** lua/sx/runner.lua; this file only builds the state and turns its answer into an exit.
*/
#define _GNU_SOURCE
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef SX_VERSION
#define SX_VERSION "unknown"
#endif

#define EXIT_RUNNER 125

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23                  /* Linux 5.14: older kernels say EINVAL */
#endif

struct sx_embedded { const char *name; const unsigned char *code; size_t len; };
extern const struct sx_embedded sx_embedded_modules[];

int luaopen_sx_core(lua_State *L);
int luaopen_sx_process_core(lua_State *L);
#ifdef SX_STATIC
int luaopen_lpeg(lua_State *L);
int luaopen_cjson(lua_State *L);

/* package.searchers' C searchers in a static sxlua: a module that is not built in. */
static int no_c_modules(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_pushfstring(L, "no C module '%s' in this sxlua: it is a static executable, with "
                  "LPeg and lua-cjson built in (a policy that needs other C modules can be "
                  "run with lua5.4 and sx.process)", name);
  return 1;
}

/* package.loadlib in a static sxlua. */
static int no_loadlib(lua_State *L) {
  return luaL_error(L, "package.loadlib: this sxlua is a static executable and loads no C "
                    "library ('%s')", luaL_optstring(L, 1, "?"));
}

/* LPeg and lua-cjson into package.preload; the C searchers (3, 4) and loadlib replaced. */
static void open_static(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_lpeg);
  lua_setfield(L, -2, "lpeg");
  lua_pushcfunction(L, luaopen_cjson);
  lua_setfield(L, -2, "cjson");
  lua_pop(L, 1);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchers");
  lua_pushcfunction(L, no_c_modules);
  lua_rawseti(L, -2, 3);
  lua_pushnil(L);
  lua_rawseti(L, -2, 4);
  lua_pop(L, 1);
  lua_pushcfunction(L, no_loadlib);
  lua_setfield(L, -2, "loadlib");
  lua_pop(L, 1);
}
#endif

/* ---- sx.host: the policy's output away from stdout ------------------------------
** `sxlua bpf` and `export` write their product to stdout, so while the policy runs, what it
** prints (print, io.write, a child's output) goes to stderr. The saved descriptor goes back
** to Lua, which hands it to restore_stdout: no C state. */

/* host.stdout_to_stderr() -> the saved stdout descriptor, or nil, message */
static int host_stdout_to_stderr(lua_State *L) {
  int saved;
  fflush(stdout);
  saved = dup(STDOUT_FILENO);
  if (saved < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    if (saved >= 0) close(saved);
    luaL_pushfail(L);
    lua_pushstring(L, "cannot redirect standard output");
    return 2;
  }
  lua_pushinteger(L, saved);
  return 1;
}

/* host.restore_stdout(saved): stdout is what it was; what the policy wrote is flushed first */
static int host_restore_stdout(lua_State *L) {
  int saved = (int)luaL_checkinteger(L, 1);
  int ok;
  fflush(stdout);
  ok = dup2(saved, STDOUT_FILENO) >= 0;
  close(saved);
  lua_pushboolean(L, ok);
  return 1;
}

/* host.populate_stack(): the 64 KB of stack under this call's page populated in one call
** (see populate_heap below): parsing the policy and compiling it go that deep, a page at
** a time. sx.runner calls it once it knows a policy will run (--version never goes deep).
** Below the stack's mapping, the kernel says ENOMEM and populates nothing. */
static int host_populate_stack(lua_State *L) {
  enum { STACK_POPULATED = 64 * 1024 };
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t here = (uintptr_t)__builtin_frame_address(0) & ~(page - 1);
  (void)L;
  if (page > 1 && page <= STACK_POPULATED)
    madvise((void *)(here - STACK_POPULATED), STACK_POPULATED, MADV_POPULATE_WRITE);
  return 0;
}

static int luaopen_sx_host(lua_State *L) {
  static const luaL_Reg host[] = { { "stdout_to_stderr", host_stdout_to_stderr },
                                   { "restore_stdout", host_restore_stdout },
                                   { "populate_stack", host_populate_stack },
                                   { NULL, NULL } };
  luaL_newlib(L, host);
  return 1;
}

/* package.preload loader of an embedded module: upvalue 1 is its index. The modules are
** bytecode that tools/embed_lua.lua compiled at build time with this Lua release (their
** chunk names and line information are inside); only they are ever loaded as bytecode. */
static int load_embedded(lua_State *L) {
  const struct sx_embedded *m = &sx_embedded_modules[lua_tointeger(L, lua_upvalueindex(1))];
  const char *name = luaL_checkstring(L, 1);
  lua_pushfstring(L, "=%s", m->name);
  if (luaL_loadbufferx(L, (const char *)m->code, m->len, lua_tostring(L, -1), "b") != LUA_OK)
    return luaL_error(L, "embedded module %s: %s", m->name, lua_tostring(L, -1));
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  return 1;
}

/* Called under lua_pcall: fill package.preload, run sx.runner.main(args, version). */
static int run(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = lua_touserdata(L, 2);
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (lua_Integer i = 0; sx_embedded_modules[i].name; i++) {
    lua_pushinteger(L, i);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, sx_embedded_modules[i].name);
  }
  lua_pushcfunction(L, luaopen_sx_core);
  lua_setfield(L, -2, "sx.core");
  lua_pushcfunction(L, luaopen_sx_process_core);
  lua_setfield(L, -2, "sx.process_core");
  lua_pushcfunction(L, luaopen_sx_host);
  lua_setfield(L, -2, "sx.host");
  lua_pop(L, 1);
#ifdef SX_STATIC
  open_static(L);
#endif
  lua_getglobal(L, "require");
  lua_pushliteral(L, "sx.runner");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "main");
  lua_createtable(L, argc, 0);
  for (int i = 1; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i);
  }
  lua_pushliteral(L, SX_VERSION);
  lua_call(L, 2, 1);
  return 1;
}

/* ---- the heap, populated at once --------------------------------------------------
** A run of a small policy touches some 250 KB of heap (Lua's state, the modules, the
** policy, the spawn), a page at a time, and on a virtual machine each first touch is a
** fault that costs microseconds, more than twice what a page costs populated with the
** others in one MADV_POPULATE_WRITE (bench/page_cost measures both; docs/benchmarks.md
** has the last run's figures). So, before anything else is allocated, glibc's heap is
** made to grow in steps of that size (M_TOP_PAD) and its first step is populated with
** one call. Any such mallopt turns glibc's sliding mmap and trim thresholds off for good,
** so they are set where they would slide to for the buffers of a long supervised run:
** an allocation under 1 MB stays on the heap rather than being mapped and unmapped each
** time, and the heap gives back only what passes 2 MB. Without glibc, or on a kernel older
** than 5.14 (EINVAL), the pages fault in as before: only the cost differs. */
enum { HEAP_POPULATED = 256 * 1024 };

static void populate_heap(void) {
#if defined(__GLIBC__) && defined(M_TOP_PAD) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  char *first, *start, *end;
  if (page <= 1 || !mallopt(M_MMAP_THRESHOLD, 1024 * 1024) ||
      !mallopt(M_TRIM_THRESHOLD, 2 * 1024 * 1024) ||
      !mallopt(M_TOP_PAD, HEAP_POPULATED + 64 * 1024) || !(first = malloc(1)))
    return;
  start = (char *)(((uintptr_t)first + page - 1) & ~(page - 1));
  end = sbrk(0);
  /* the heap past the first chunk, and nothing else (a heap glibc had to mmap elsewhere
  ** is left alone) */
  if (end != (char *)-1 && end > start && (size_t)(end - start) <= 2 * HEAP_POPULATED)
    madvise(start, (size_t)(end - start) < HEAP_POPULATED ? (size_t)(end - start) : HEAP_POPULATED,
            MADV_POPULATE_WRITE);
  free(first);
#endif
}

/* Called under lua_pcall: does a process spawned here still run (or wait, parked)? Only
** then must the state be closed at the end, for its handle's __gc to kill and reap it.
** Everything else the state holds the kernel frees at exit faster than lua_close does
** (14% of the instructions of a run), and stdio flushes what the policy wrote. */
static int processes_left(lua_State *L) {
  lua_Integer n = 0;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "sx.process_core") == LUA_TTABLE) {
    lua_getfield(L, -1, "live");
    lua_call(L, 0, 1);
    n = lua_tointeger(L, -1);
  }
  lua_pushboolean(L, n > 0);
  return 1;
}

int main(int argc, char **argv) {
  lua_State *L;
  int status;
  lua_Integer code;
  /* From the first instruction on, no process of this uid (a workload run with
  ** --no-pid-namespace, say) may open this one's /proc/PID/mem or attach to it. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  populate_heap();
  L = luaL_newstate();
  if (!L) {
    fputs("sxlua: cannot create the Lua state: not enough memory\n", stderr);
    return EXIT_RUNNER;
  }
  /* Loading sxlua's modules makes almost no garbage: the collector waits for the heap to
  ** grow tenfold (not twice) until sx.runner sets it back for the policy (3% of a run). */
  lua_gc(L, LUA_GCINC, 1000, 0, 0);
  lua_pushcfunction(L, run);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "sxlua: %s\n", msg ? msg : "error object is not a string");
    lua_close(L);
    return EXIT_RUNNER;
  }
  code = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : EXIT_RUNNER;
  fflush(stdout);
  lua_pushcfunction(L, processes_left);
  if (lua_pcall(L, 0, 1, 0) != LUA_OK || lua_toboolean(L, -1)) lua_close(L);
  return (int)(code & 0xff);
}

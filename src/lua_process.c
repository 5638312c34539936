/*
** lua_process.c: the sx.process_core Lua module, a thin binding of sx_agent.h.
**
** A handle is a userdata holding a struct sx_agent, created in the safe empty state
** before anything is acquired (so __gc can always run), and released by __gc or
** close(): a child still there is killed and reaped. lua/sx/process.lua builds the
** public API (errors, exec-once) on top.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua_compat.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "sx_agent.h"

#define LUAMOD_EXPORT __attribute__((visibility("default")))
#define HANDLE "sx.agent"

LUAMOD_EXPORT int luaopen_sx_process_core(lua_State *L);

static struct sx_agent *check_handle(lua_State *L) {
  return luaL_checkudata(L, 1, HANDLE);
}

/* nil, code, errno, message [, index] */
static int push_error(lua_State *L, const struct sx_agent_error *e) {
  lua_pushnil(L);
  lua_pushstring(L, sx_agent_code_name(e->code));
  lua_pushinteger(L, e->error);
  lua_pushstring(L, e->message);
  if (e->code != SX_AGENT_E_INSTALL || e->index < 0) return 4;
  lua_pushinteger(L, e->index + 1);
  return 5;
}

static int result(lua_State *L, int rc, const struct sx_agent_error *e) {
  if (rc != SX_AGENT_OK) return push_error(L, e);
  lua_pushboolean(L, 1);
  return 1;
}

/* A NULL-terminated vector of the strings in list `idx`, in a userdata left on the stack
** (the strings stay alive: the list holds them). A NUL byte would cut a string short
** where the kernel reads it, so it is an error. */
static const char **string_vector(lua_State *L, int idx, const char *what) {
  lua_Integer n = luaL_len(L, idx);
  const char **v = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *v, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    size_t len;
    lua_geti(L, idx, i);
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "%s[%d] is not a string", what, (int)i);
    v[i - 1] = lua_tolstring(L, -1, &len);
    if (strlen(v[i - 1]) != len) luaL_error(L, "%s[%d] holds a NUL byte", what, (int)i);
    lua_pop(L, 1);
  }
  v[n] = NULL;
  return v;
}

/* A descriptor: an integer that names one, or a Lua file. */
static int to_fd(lua_State *L, int idx) {
  luaL_Stream *p = luaL_testudata(L, idx, LUA_FILEHANDLE);
  lua_Integer fd;
  if (p) {
    if (!p->closef || !p->f) luaL_error(L, "fds: a closed file cannot be passed");
    return fileno(p->f);
  }
  if (!lua_isinteger(L, idx)) luaL_error(L, "fds: a descriptor is an integer or a file");
  fd = lua_tointeger(L, idx);
  if (fd < 0 || fd > INT_MAX) luaL_error(L, "fds: %I is not a descriptor number", (LUAI_UACINT)fd);
  return (int)fd;
}

static int handle_gc(lua_State *L) {
  sx_agent_release(check_handle(L));
  return 0;
}

/* spawn(argv, env|nil, cwd|nil, allow_new_privs, fds|nil, share_pid_namespace)
** -> handle | nil, code, errno, msg */
static int l_spawn(lua_State *L) {
  struct sx_agent *a;
  struct sx_spawn o;
  struct sx_agent_error e;
  int *fds = NULL;
  memset(&o, 0, sizeof o);
  luaL_checktype(L, 1, LUA_TTABLE);
  o.argv = string_vector(L, 1, "argv");
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    o.envp = string_vector(L, 2, "env");
  }
  o.cwd = luaL_optstring(L, 3, NULL);
  if (o.cwd && strlen(o.cwd) != lua_rawlen(L, 3)) luaL_error(L, "cwd holds a NUL byte");
  o.allow_new_privs = lua_toboolean(L, 4);
  if (!lua_isnoneornil(L, 5)) {
    lua_Integer n;
    luaL_checktype(L, 5, LUA_TTABLE);
    n = luaL_len(L, 5);
    fds = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *fds, 0);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_geti(L, 5, i);
      fds[i - 1] = to_fd(L, -1);
      lua_pop(L, 1);
    }
    o.fds = fds;
    o.nfds = (size_t)n;
  }
  o.share_pid_namespace = lua_toboolean(L, 6);
  /* the handle exists, empty, before there is anything to release */
  a = lua_newuserdatauv(L, sizeof *a, 0);
  sx_agent_init(a);
  luaL_setmetatable(L, HANDLE);
  if (sx_agent_spawn(a, &o, &e) != SX_AGENT_OK) {
    sx_agent_release(a);
    return push_error(L, &e);
  }
  return 1;
}

/* pid() -> the workload's pid, or nil once it is gone */
static int l_pid(lua_State *L) {
  struct sx_agent *a = check_handle(L);
  if (a->pid > 0) lua_pushinteger(L, a->pid); else lua_pushnil(L);
  return 1;
}

/* state() -> "parked", "running", "exited" (ended, not yet waited for) or "gone" */
static int l_state(lua_State *L) {
  struct sx_agent *a = check_handle(L);
  const char *st = "gone";
  if (a->state == SX_AGENT_PARKED || a->state == SX_AGENT_RUNNING)
    st = sx_agent_ended(a) ? "exited" : a->state == SX_AGENT_PARKED ? "parked" : "running";
  lua_pushstring(L, st);
  return 1;
}

/* install(bpf [, notify]) -> true | nil, code, errno, msg; notify: SX_NOTIFY_* bits */
static int l_install(lua_State *L) {
  struct sx_agent *a = check_handle(L);
  size_t len;
  const struct sx_insn *insns = sx_checkprogram(L, 2, &len);
  unsigned notify = (unsigned)luaL_optinteger(L, 3, 0);
  struct sx_agent_error e;
  return result(L, sx_agent_install(a, insns, len, notify, &e), &e);
}

static int l_proceed(lua_State *L) {
  struct sx_agent_error e;
  return result(L, sx_agent_proceed(check_handle(L), &e), &e);
}

/* wait([signals]) -> "exited", code | "signaled", signo; signals sent to us meanwhile
** are forwarded to the workload */
static int l_wait(lua_State *L) {
  struct sx_agent *a = check_handle(L);
  struct sx_agent_error e;
  int status, signals[64];
  size_t n = 0;
  if (!lua_isnoneornil(L, 2)) {   /* a list of signal numbers to forward */
    luaL_checktype(L, 2, LUA_TTABLE);
    for (lua_Integer i = 1; i <= luaL_len(L, 2) && n < 64; i++) {
      lua_geti(L, 2, i);
      signals[n++] = (int)luaL_checkinteger(L, -1);
      lua_pop(L, 1);
    }
  }
  if (sx_agent_wait(a, signals, n, NULL, NULL, &status, &e) != SX_AGENT_OK)
    return push_error(L, &e);
  if (WIFEXITED(status)) {
    lua_pushliteral(L, "exited");
    lua_pushinteger(L, WEXITSTATUS(status));
    return 2;
  }
  lua_pushliteral(L, "signaled");
  lua_pushinteger(L, WTERMSIG(status));
  return 2;
}

static int l_kill(lua_State *L) {
  struct sx_agent_error e;
  return result(L, sx_agent_kill(check_handle(L), (int)luaL_checkinteger(L, 2), &e), &e);
}

/* enter_user_namespace() -> true | nil, code, errno, msg */
static int l_enter_user_namespace(lua_State *L) {
  struct sx_agent_error e;
  return result(L, sx_agent_enter_user_namespace(&e), &e);
}

static int l_strerror(lua_State *L) {
  lua_pushstring(L, strerror((int)luaL_checkinteger(L, 1)));
  return 1;
}

static const luaL_Reg handle_methods[] = {
  { "pid", l_pid }, { "state", l_state }, { "install", l_install }, { "proceed", l_proceed },
  { "wait", l_wait }, { "kill", l_kill }, { "close", handle_gc }, { NULL, NULL }
};

static const luaL_Reg functions[] = {
  { "spawn", l_spawn }, { "strerror", l_strerror },
  { "enter_user_namespace", l_enter_user_namespace }, { NULL, NULL }
};

static const struct { const char *name; int value; } signals[] = {
  { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
  { "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
  { "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
  { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CHLD", SIGCHLD },
  { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
  { "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
  { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
  { "PWR", SIGPWR }, { "SYS", SIGSYS }
};

LUAMOD_EXPORT int luaopen_sx_process_core(lua_State *L) {
  if (luaL_newmetatable(L, HANDLE)) {
    luaL_newlib(L, handle_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, handle_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, handle_gc);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
  luaL_newlib(L, functions);
  lua_createtable(L, 0, (int)(sizeof signals / sizeof *signals));
  for (size_t i = 0; i < sizeof signals / sizeof *signals; i++) {
    lua_pushinteger(L, signals[i].value);
    lua_setfield(L, -2, signals[i].name);
  }
  lua_setfield(L, -2, "signals");
  return 1;
}

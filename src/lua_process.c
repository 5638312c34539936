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
#include <fcntl.h>
#include <linux/seccomp.h>
#include <unistd.h>

#include "sx_agent.h"
#include "gate.h"
#include "sx_notify.h"
#include "outlet.h"

#define LUAMOD_EXPORT __attribute__((visibility("default")))
#define HANDLE "sx.agent"
#define LIVE "sx.agent.live"         /* registry: a weak-keyed table of the handles */
#define SPARE "sx.agent.spare"       /* the memory spawns keep for the next (sx_agent.h): the
                                     ** registry's, and the metatable of such userdata */

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

static int spare_gc(lua_State *L) {
  sx_agent_spare_free(luaL_checkudata(L, 1, SPARE));
  return 0;
}

/* spawn(argv, env|nil, cwd|nil, allow_new_privs, fds|nil, share_pid_namespace)
** -> handle | nil, code, errno, msg. The state's spare (upvalue 1) lends each spawn its
** memory; the handle holds it (its user value) for as long as it may give it back. */
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
  o.spare = lua_touserdata(L, lua_upvalueindex(1));
  /* the handle exists, empty, before there is anything to release */
  a = lua_newuserdatauv(L, sizeof *a, 1);
  sx_agent_init(a);
  luaL_setmetatable(L, HANDLE);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setiuservalue(L, -2, 1);
  if (sx_agent_spawn(a, &o, &e) != SX_AGENT_OK) {
    sx_agent_release(a);
    return push_error(L, &e);
  }
  lua_getfield(L, LUA_REGISTRYINDEX, LIVE);     /* the handle, in the weak table of them */
  lua_pushvalue(L, -2);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  return 1;
}

/* live() -> how many handles still have a process (parked, running, or ended and not
** waited for): sxlua frees its Lua state at the end only when some do. */
static int l_live(lua_State *L) {
  lua_Integer n = 0;
  lua_getfield(L, LUA_REGISTRYINDEX, LIVE);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    const struct sx_agent *a = luaL_testudata(L, -2, HANDLE);
    if (a && (a->state == SX_AGENT_PARKED || a->state == SX_AGENT_RUNNING)) n++;
    lua_pop(L, 1);
  }
  lua_pushinteger(L, n);
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

/* install(bpf) -> true | nil, code, errno, msg */
static int l_install(lua_State *L) {
  struct sx_agent *a = check_handle(L);
  size_t len;
  const struct sx_insn *insns = sx_checkprogram(L, 2, &len);
  struct sx_agent_error e;
  return result(L, sx_agent_install(a, insns, len, &e), &e);
}

/* proceed([notify]) -> true, unsupervised | nil, code, errno, msg [, index]; notify:
** SX_NOTIFY_* bits (and "required"); unsupervised: why the kernel gave the filter no
** listener (EBUSY, EINVAL), or false */
static int l_proceed(lua_State *L) {
  struct sx_agent *a = check_handle(L);
  struct sx_agent_error e;
  if (sx_agent_proceed(a, (unsigned)luaL_optinteger(L, 2, 0), &e) != SX_AGENT_OK)
    return push_error(L, &e);
  lua_pushboolean(L, 1);
  if (a->unsupervised) lua_pushinteger(L, a->unsupervised);
  else lua_pushboolean(L, 0);
  return 2;
}

/* The supervisor's side of wait: each notification goes to the Lua dispatcher as a table
** { listener, filter, id, pid, nr, arch, ip, args = { arg0, ..., arg5 } }. The dispatcher
** answers it (sx.process's supervisor); should it raise, the call fails closed with EPERM
** and the error is written to stderr. */
struct dispatch {
  lua_State *L;
  int fn;
};

static void set_integer(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

static void lua_answer(void *ctx, int listener, int filter, const struct seccomp_notif *req) {
  struct dispatch *d = ctx;
  lua_State *L = d->L;
  lua_pushvalue(L, d->fn);
  lua_createtable(L, 0, 8);
  set_integer(L, "listener", listener);
  set_integer(L, "filter", filter + 1);
  set_integer(L, "id", (lua_Integer)req->id);
  set_integer(L, "pid", req->pid);
  set_integer(L, "nr", req->data.nr);
  set_integer(L, "arch", req->data.arch);
  set_integer(L, "ip", (lua_Integer)req->data.instruction_pointer);
  lua_createtable(L, 6, 0);
  for (int i = 0; i < 6; i++) {
    lua_pushinteger(L, (lua_Integer)req->data.args[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "args");
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    sx_notify_send(listener, req->id, EPERM, 0, 0);
    fprintf(stderr, "sxlua: the supervisor failed, the call was refused (EPERM): %s\n",
            lua_tostring(L, -1) ? lua_tostring(L, -1) : "(no message)");
    lua_pop(L, 1);
  }
}

/* wait([signals [, dispatcher]]) -> "exited", code | "signaled", signo; signals sent to us
** meanwhile are forwarded to the workload; notifications go to the dispatcher, or without
** one fail with ENOSYS */
static int l_wait(lua_State *L) {
  struct sx_agent *a = check_handle(L);
  struct sx_agent_error e;
  struct dispatch d = { L, 3 };
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
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TFUNCTION);
  if (sx_agent_wait(a, signals, n, lua_isnoneornil(L, 3) ? NULL : lua_answer, &d, &status, &e)
      != SX_AGENT_OK)
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

/* ---- the supervisor's tools (sx_notify.h): each returns a result or nil, errno ---- */

static int errno_result(lua_State *L, long rc) {
  if (rc >= 0) return 0;
  lua_pushnil(L);
  lua_pushinteger(L, -rc);
  return 2;
}

#define READER "sx.notify_reader"

static int reader_gc(lua_State *L) {
  struct sx_notify_reader **r = luaL_checkudata(L, 1, READER);
  sx_notify_reader_free(*r);
  *r = NULL;
  return 0;
}

/* The module's reader (its upvalue), for reads that give up. */
static struct sx_notify_reader *reader_of(lua_State *L) {
  struct sx_notify_reader **r = lua_touserdata(L, lua_upvalueindex(1));
  if (!*r && !(*r = sx_notify_reader_new())) luaL_error(L, "not enough memory");
  return *r;
}

/* A read at addr of pid into a buffer of `room` bytes, then pushed (`string`: room - 1
** at most and a NUL looked for); with ms >= 0 given up after ms milliseconds. */
static int read_memory(lua_State *L, int string, size_t room, lua_Integer ms) {
  lua_Integer pid = luaL_checkinteger(L, 1), addr = luaL_checkinteger(L, 2);
  luaL_Buffer b;
  char *buf;
  long got;
  luaL_argcheck(L, ms == -1 || (ms >= 0 && ms <= 60000), 4, "0..60000 ms");
  buf = luaL_buffinitsize(L, &b, room);
  if (ms >= 0)
    got = sx_notify_reader_read(reader_of(L), (pid_t)pid, (uint64_t)addr, buf, room, string, (int)ms);
  else if (string)
    got = sx_notify_string((pid_t)pid, (uint64_t)addr, buf, room);
  else
    got = sx_notify_read((pid_t)pid, (uint64_t)addr, buf, room);
  if (got < 0) return errno_result(L, got);
  luaL_pushresultsize(&b, (size_t)got);
  return 1;
}

/* read(pid, addr, n [, ms]) -> the bytes (fewer where the memory ends); with ms, given up
** after ms milliseconds (ETIMEDOUT) */
static int l_read(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 3);
  luaL_argcheck(L, n >= 0 && n <= 1 << 20, 3, "0..1 MiB");
  return read_memory(L, 0, (size_t)n, luaL_optinteger(L, 4, -1));
}

/* read_string(pid, addr, max [, ms]) -> the string (without its NUL); with ms, given
** up after ms milliseconds (ETIMEDOUT) */
static int l_read_string(lua_State *L) {
  lua_Integer max = luaL_optinteger(L, 3, 4096);
  luaL_argcheck(L, max >= 1 && max <= 1 << 20, 3, "1..1 MiB");
  return read_memory(L, 1, (size_t)max + 1, luaL_optinteger(L, 4, -1));
}

static int l_notif_valid(lua_State *L) {
  int rc = sx_notify_valid((int)luaL_checkinteger(L, 1), (uint64_t)luaL_checkinteger(L, 2));
  if (rc < 0) return errno_result(L, rc);
  lua_pushboolean(L, 1);
  return 1;
}

/* send(listener, id, errno, value, continue) -> true */
static int l_notif_send(lua_State *L) {
  int rc = sx_notify_send((int)luaL_checkinteger(L, 1), (uint64_t)luaL_checkinteger(L, 2),
                          (int)luaL_optinteger(L, 3, 0), (int64_t)luaL_optinteger(L, 4, 0),
                          lua_toboolean(L, 5));
  if (rc < 0) return errno_result(L, rc);
  lua_pushboolean(L, 1);
  return 1;
}

/* addfd(listener, id, fd, cloexec) -> the descriptor's number in the caller */
static int l_notif_addfd(lua_State *L) {
  int rc = sx_notify_addfd((int)luaL_checkinteger(L, 1), (uint64_t)luaL_checkinteger(L, 2),
                           (int)luaL_checkinteger(L, 3), lua_toboolean(L, 4));
  if (rc < 0) return errno_result(L, rc);
  lua_pushinteger(L, rc);
  return 1;
}

static int l_tgid(lua_State *L) {
  pid_t rc = sx_notify_tgid((pid_t)luaL_checkinteger(L, 1));
  if (rc < 0) return errno_result(L, rc);
  lua_pushinteger(L, rc);
  return 1;
}

/* open_beneath(dirfd, path, flags, mode) -> fd */
static int l_open_beneath(lua_State *L) {
  size_t len;
  const char *path = luaL_checklstring(L, 2, &len);
  int rc;
  if (strlen(path) != len) return errno_result(L, -EINVAL);
  rc = sx_open_beneath((int)luaL_checkinteger(L, 1), path, (int)luaL_checkinteger(L, 3),
                       (unsigned)luaL_optinteger(L, 4, 0));
  if (rc < 0) return errno_result(L, rc);
  lua_pushinteger(L, rc);
  return 1;
}

/* open_dir(path) -> a close-on-exec O_PATH descriptor of the directory */
static int l_open_dir(lua_State *L) {
  int fd = open(luaL_checkstring(L, 1), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_result(L, -errno);
  lua_pushinteger(L, fd);
  return 1;
}

/* kill(pid, sig) -> true */
static int l_kill_pid(lua_State *L) {
  if (kill((pid_t)luaL_checkinteger(L, 1), (int)luaL_checkinteger(L, 2)) != 0)
    return errno_result(L, -errno);
  lua_pushboolean(L, 1);
  return 1;
}

/* fileno(file) -> the descriptor of a Lua file */
static int l_fileno(lua_State *L) {
  luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
  if (!p->closef || !p->f) return luaL_argerror(L, 1, "the file is closed");
  lua_pushinteger(L, fileno(p->f));
  return 1;
}

static int l_close_fd(lua_State *L) {
  if (close((int)luaL_checkinteger(L, 1)) != 0) return errno_result(L, -errno);
  lua_pushboolean(L, 1);
  return 1;
}

/* ---- outlets (outlet.h): lines to a descriptor the workload shares ---- */

#define OUTLET "sx.outlet"

static struct sx_outlet **check_outlet(lua_State *L) {
  struct sx_outlet **o = luaL_checkudata(L, 1, OUTLET);
  if (!*o) luaL_argerror(L, 1, "the outlet is finished");
  return o;
}

/* outlet(fd, limit) -> an outlet | nil, errno */
static int l_outlet(lua_State *L) {
  int fd = (int)luaL_checkinteger(L, 1);
  lua_Integer limit = luaL_checkinteger(L, 2);
  struct sx_outlet **o = lua_newuserdatauv(L, sizeof *o, 0);
  *o = NULL;
  luaL_argcheck(L, limit > 0, 2, "the limit is a number of bytes");
  if (!(*o = sx_outlet_new(fd, (size_t)limit))) return errno_result(L, -errno);
  luaL_setmetatable(L, OUTLET);
  return 1;
}

/* outlet:put(s) -> true, or false when the queue had no room (counted as lost) */
static int l_outlet_put(lua_State *L) {
  size_t len;
  struct sx_outlet **o = check_outlet(L);
  const char *s = luaL_checklstring(L, 2, &len);
  lua_pushboolean(L, sx_outlet_put(*o, s, len));
  return 1;
}

/* outlet:drain() -> how many lines were lost so far (waits until the queue is written) */
static int l_outlet_drain(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)sx_outlet_drain(*check_outlet(L)));
  return 1;
}

/* outlet:finish() -> how many lines were lost (waits until the rest is written) */
static int l_outlet_finish(lua_State *L) {
  struct sx_outlet **o = check_outlet(L);
  size_t lost = sx_outlet_finish(*o);
  *o = NULL;
  lua_pushinteger(L, (lua_Integer)lost);
  return 1;
}

static int outlet_gc(lua_State *L) {
  struct sx_outlet **o = luaL_checkudata(L, 1, OUTLET);
  if (*o) sx_outlet_finish(*o);
  *o = NULL;
  return 0;
}

static const luaL_Reg outlet_methods[] = {
  { "put", l_outlet_put }, { "drain", l_outlet_drain }, { "finish", l_outlet_finish },
  { NULL, NULL }
};

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
  { "strerror", l_strerror },
  { "enter_user_namespace", l_enter_user_namespace },
  { "notif_valid", l_notif_valid },
  { "notif_send", l_notif_send }, { "notif_addfd", l_notif_addfd }, { "tgid", l_tgid },
  { "open_beneath", l_open_beneath }, { "open_dir", l_open_dir }, { "close_fd", l_close_fd },
  { "kill", l_kill_pid }, { "fileno", l_fileno }, { "live", l_live },
  { "outlet", l_outlet },
  { NULL, NULL }
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
  if (lua_getfield(L, LUA_REGISTRYINDEX, LIVE) != LUA_TTABLE) {
    lua_newtable(L);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_pushvalue(L, -1);
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, LIVE);
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, OUTLET)) {
    luaL_newlib(L, outlet_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, outlet_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_newlib(L, functions);
  lua_getfield(L, LUA_REGISTRYINDEX, SPARE);      /* one a state */
  if (!luaL_testudata(L, -1, SPARE)) {
    lua_pop(L, 1);
    sx_agent_spare_init(lua_newuserdatauv(L, sizeof(struct sx_agent_spare), 0));
    if (luaL_newmetatable(L, SPARE)) {
      lua_pushcfunction(L, spare_gc);
      lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, SPARE);
  }
  lua_pushcclosure(L, l_spawn, 1);
  lua_setfield(L, -2, "spawn");
  *(struct sx_notify_reader **)lua_newuserdatauv(L, sizeof(struct sx_notify_reader *), 0) = NULL;
  if (luaL_newmetatable(L, READER)) {
    lua_pushcfunction(L, reader_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, l_read, 1);
  lua_setfield(L, -3, "read");
  lua_pushcclosure(L, l_read_string, 1);
  lua_setfield(L, -2, "read_string");
  lua_createtable(L, 0, (int)(sizeof signals / sizeof *signals));
  for (size_t i = 0; i < sizeof signals / sizeof *signals; i++) {
    lua_pushinteger(L, signals[i].value);
    lua_setfield(L, -2, signals[i].name);
  }
  lua_setfield(L, -2, "signals");
  lua_createtable(L, 0, 7);      /* the kinds of action proceed can turn into notifications */
  set_integer(L, "kill", SX_NOTIFY_KILL);
  set_integer(L, "trap", SX_NOTIFY_TRAP);
  set_integer(L, "errno", SX_NOTIFY_ERRNO);
  set_integer(L, "trace", SX_NOTIFY_TRACE);
  set_integer(L, "log", SX_NOTIFY_LOG);
  set_integer(L, "allow", SX_NOTIFY_ALLOW);
  set_integer(L, "required", SX_AGENT_NOTIFY_REQUIRED);   /* no plain fallback */
  lua_setfield(L, -2, "notify");
  return 1;
}

/*
** spawn_peer.c: C spawn loops as a Lua module, `bench.spawn_peer`, for bench/spawn.lua:
** the peers of sx.process run in the same warm lua5.4, in batches that alternate with
** sx.process's, and every batch is measured the same way. Benchmark only.
**
**   local peer = require "bench.spawn_peer"
**   peer.cpu()                          -- µs of CPU: this process and the children it reaped
**   peer.fork_exec(n, bpf, path, ...)   -- n times: fork; no_new_privs, the filter, execv;
**                                       -- wait (what a C launcher does); bpf nil: no filter
**   peer.vfork_exec(n, path, ...)       -- n times: vfork, execv, wait (no filter)
** Both return how many runs did not exit 0.
*/
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

__attribute__((visibility("default"))) int luaopen_bench_spawn_peer(lua_State *L);

static double us(struct timeval t) { return (double)t.tv_sec * 1e6 + (double)t.tv_usec; }

static int l_cpu(lua_State *L) {
  struct rusage self, children;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  lua_pushnumber(L, us(self.ru_utime) + us(self.ru_stime) + us(children.ru_utime) +
                    us(children.ru_stime));
  return 1;
}

/* argv from the stack, from index `from` on; a userdata keeps it (freed by Lua). */
static char **argv_from(lua_State *L, int from) {
  int n = lua_gettop(L) - from + 1;
  char **argv;
  luaL_argcheck(L, n >= 1, from, "a program to run");
  argv = lua_newuserdata(L, (size_t)(n + 1) * sizeof *argv);
  for (int i = 0; i < n; i++) argv[i] = (char *)luaL_checkstring(L, from + i);
  argv[n] = NULL;
  return argv;
}

static int waited(pid_t pid) {
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return 1;
  return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

static int l_fork_exec(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  size_t len = 0;
  const char *bpf = lua_isnil(L, 2) ? NULL : luaL_checklstring(L, 2, &len);
  char **argv = argv_from(L, 3);
  struct sock_fprog prog = { (unsigned short)(len / 8), (struct sock_filter *)(void *)bpf };
  int failed = 0;
  luaL_argcheck(L, len % 8 == 0, 2, "a BPF program is a multiple of 8 bytes");
  for (lua_Integer i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      if (bpf && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
                  syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)))
        _exit(125);
      execv(argv[0], argv);
      _exit(127);
    }
    failed += waited(pid);
  }
  lua_pushinteger(L, failed);
  return 1;
}

static int l_vfork_exec(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  char **argv = argv_from(L, 2);
  int failed = 0;
  for (lua_Integer i = 0; i < n; i++) {
    pid_t pid = vfork();
    if (pid == 0) {
      execv(argv[0], argv);
      _exit(127);
    }
    failed += waited(pid);
  }
  lua_pushinteger(L, failed);
  return 1;
}

int luaopen_bench_spawn_peer(lua_State *L) {
  static const luaL_Reg peer[] = { { "cpu", l_cpu }, { "fork_exec", l_fork_exec },
                                   { "vfork_exec", l_vfork_exec }, { NULL, NULL } };
  luaL_newlib(L, peer);
  return 1;
}

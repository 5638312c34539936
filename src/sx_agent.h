/*
** sx_agent.h: the checkpointed spawn agent, plain C (no Lua).
**
** sx_agent_spawn forks a child that resets its signals, closes every inherited
** descriptor but 0, 1, 2 and the ones asked for, sets its parent-death signal and then
** parks at a checkpoint before execve. While it is parked the parent installs filters
** (sx_agent_install); sx_agent_proceed makes it execve the program resolved in the
** parent. The child reports every failure (stage and errno) through a shared page, so
** it can report even when a filter it just installed forbids write(2).
**
** Exec-once: a filter may forbid execve and still start the workload. The caller
** installs an exec guard (a filter returning SECCOMP_RET_USER_NOTIF for execve and
** execveat, flag SX_AGENT_GUARD) and the user's filter with exec allowed, and gives the
** user's ORIGINAL program as the `decide` program. The agent's own execve is let
** through once; every later one gets the original programs' decision, answered by a
** supervisor that runs inside sx_agent_proceed and sx_agent_wait. When the supervisor
** is gone (sx_agent_unsupervise, or the parent died), the kernel fails the notified
** syscalls with ENOSYS: execs fail closed.
**
** no_new_privs: set at spawn when asked; otherwise set before the first filter when the
** caller lacks CAP_SYS_ADMIN (the kernel wants one or the other).
** The parent-death signal follows the THREAD that spawned: spawn from a thread that
** lives as long as the child should.
**
** struct sx_agent is plain data so it can live inside a Lua userdata; its fields are
** private. sx_agent_init puts it in a safe empty state that sx_agent_release accepts.
*/
#ifndef SX_AGENT_H
#define SX_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sx.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sx_agent_state {
  SX_AGENT_EMPTY,      /* nothing spawned (or spawn failed) */
  SX_AGENT_PARKED,     /* the child waits at the checkpoint */
  SX_AGENT_RUNNING,    /* proceed done: the workload runs (or died, not yet reaped) */
  SX_AGENT_GONE        /* reaped */
};

enum sx_agent_code {
  SX_AGENT_OK,
  SX_AGENT_E_NOT_READY,    /* no parked child yet */
  SX_AGENT_E_RUNNING,      /* the child already proceeded */
  SX_AGENT_E_NO_PROCESS,   /* the child is gone */
  SX_AGENT_E_SYSTEM,       /* a syscall in the parent failed: errno */
  SX_AGENT_E_NOT_FOUND,    /* the program is not in PATH / does not exist */
  SX_AGENT_E_CWD,          /* chdir in the child failed: errno */
  SX_AGENT_E_INSTALL,      /* the kernel refused the filter: errno */
  SX_AGENT_E_BLOCKED,      /* a filter installed before forbids installing another */
  SX_AGENT_E_EXEC,         /* execve failed: errno */
  SX_AGENT_E_BAD_PROGRAM,  /* the program fails sx_check, or too many filters */
  SX_AGENT_E_DIED          /* the child died while parked */
};

struct sx_agent_error {
  int code;            /* enum sx_agent_code */
  int error;           /* errno, or 0 */
  char message[200];
};

/* What spawn needs. argv[0] is searched in PATH (the env's PATH when env is given)
** unless it holds a '/'. envp NULL: inherit the caller's environment. */
struct sx_spawn {
  const char *const *argv;     /* NULL-terminated, at least one element */
  const char *const *envp;     /* NULL-terminated, or NULL */
  const char *cwd;             /* or NULL */
  int no_new_privs;            /* 1: set before the first install (or before exec) */
  const int *fds;              /* extra descriptors the workload keeps, same numbers */
  size_t nfds;
};

#define SX_AGENT_MAX_FILTERS 64

/* Install flags */
#define SX_AGENT_GUARD 1u      /* install with a user-notification listener (exec guard) */

struct sx_agent_filter {       /* a copy of a program, owned by the agent */
  struct sx_insn *insns;
  size_t len;
};

struct sx_agent {
  int state;
  pid_t pid;
  pid_t parent;
  int pidfd, exec_fd, listener;
  void *page;                  /* struct shared page, see agent.c */
  size_t page_size;
  char *block;                 /* argv, envp and path, one allocation */
  const char *path;
  char *const *argv;
  char *const *envp;
  int nnp_asked, nnp_needed, nnp_done;
  unsigned seq;
  struct sx_agent_filter installed[SX_AGENT_MAX_FILTERS];
  size_t ninstalled;
  struct sx_agent_filter decide[SX_AGENT_MAX_FILTERS];
  size_t ndecide;
  int guarded, own_exec_done;
  int filter_kill_nr;          /* syscall the supervisor killed the workload for, or -1 */
  uint32_t filter_kill_arch;   /* and its audit arch */
  int status;                  /* wait status once reaped */
};

SX_API void sx_agent_init(struct sx_agent *a);
SX_API int sx_agent_spawn(struct sx_agent *a, const struct sx_spawn *opts,
                          struct sx_agent_error *err);
/* Install a filter in the parked child. `decide` (or NULL) is the program whose answer
** the supervisor gives to later execs; flags SX_AGENT_GUARD makes this the exec guard. */
SX_API int sx_agent_install(struct sx_agent *a, const struct sx_insn *insns, size_t len,
                            unsigned flags, const struct sx_insn *decide, size_t dlen,
                            struct sx_agent_error *err);
/* What `insns` returns for the agent's own execve (the exact seccomp_data it will
** make); SX_AGENT_E_NOT_READY when there is no parked child. */
SX_API int sx_agent_exec_action(const struct sx_agent *a, const struct sx_insn *insns,
                                size_t len, uint32_t *action);
SX_API int sx_agent_proceed(struct sx_agent *a, struct sx_agent_error *err);
/* Wait for the child, answering exec notifications meanwhile; *status as waitpid's. */
SX_API int sx_agent_wait(struct sx_agent *a, int *status, struct sx_agent_error *err);
/* sx_agent_wait that also forwards `signals` sent to this process by other processes
** to the child (they are blocked meanwhile and read through a signalfd). */
SX_API int sx_agent_wait_forward(struct sx_agent *a, const int *signals, size_t nsignals,
                                 int *status, struct sx_agent_error *err);
SX_API int sx_agent_kill(struct sx_agent *a, int sig, struct sx_agent_error *err);
/* Stop supervising: close the listener, so later notified execs fail with ENOSYS. */
SX_API void sx_agent_unsupervise(struct sx_agent *a);
/* Kill and reap a child that is still there, free everything; back to EMPTY. */
SX_API void sx_agent_release(struct sx_agent *a);
SX_API const char *sx_agent_code_name(int code);   /* "not_ready", ... */

#ifdef __cplusplus
}
#endif
#endif

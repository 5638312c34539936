/*
** sx_agent.h: the checkpointed spawn agent, plain C (no Lua).
**
** sx_agent_spawn makes the workload and parks it before execve: its signals reset, its
** working directory set, its parent-death signal armed. sx_agent_install adds filters to
** its plan (checked now, installed at proceed); sx_agent_proceed makes it install them
** all and execve the program resolved in the parent, or fail with nothing run: a filter
** the kernel refuses ends the process and proceed says which filter and why. The child
** reports every failure (stage and errno) through shared memory, so it can report even
** when a filter it just installed forbids write(2).
**
** What the workload can never reach (the guarantees; see the README):
** - The agent's process is made non-dumpable at spawn (PR_SET_DUMPABLE 0), and the
**   workload loses CAP_SYS_PTRACE from every capability set and the bounding set. So no
**   process of the workload, whatever its uid and its policy, can ptrace the agent,
**   pidfd_getfd its descriptors, or read or write its memory (process_vm_*, /proc/PID/mem).
** - By default the workload gets its own PID namespace, with a reaper as pid 1 (a child
**   of the agent sharing its memory, so the same protection covers it). The agent's pid
**   cannot be named from inside, so it cannot be signalled either. When the workload
**   ends, the kernel kills everything it left in the namespace; when the agent dies, the
**   reaper dies with it (parent-death signal) and so does everything in the namespace.
**   A PID namespace needs CAP_SYS_ADMIN: a caller without it first moves itself into a
**   user namespace of its own (sx_agent_enter_user_namespace). The reaper cannot do
**   that for it: it shares the agent's non-dumpable memory, and a process that is not
**   dumpable may not write its own uid map.
** - Exec-once needs no listener: a filter that forbids the agent's own execve is
**   installed behind the exec gate (gate.h), and every later exec gets the filter's own
**   action from the kernel, whether or not the agent is still there.
** - no_new_privs is set unless the caller opts out (allow_new_privs).
** - The workload leads a session of its own (setsid: no controlling terminal, its own
**   process group), and installs a terminal guard before the caller's filters: ioctl
**   TIOCSTI and TIOCLINUX fail with EPERM on every ABI of the host (gate.h).
** - Filters that notify are installed with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: once
**   the caller has received a call, only a fatal signal ends the wait for its answer.
** - A workload that asks to be traced (PTRACE_TRACEME) makes the reaper (or, without a
**   namespace, the caller) its tracer: its stops are let go, as if untraced.
**
** Filters that return SECCOMP_RET_USER_NOTIF get listeners: the workload hands each to
** the caller through a socket as soon as it installed the filter (through the gate,
** gate.h), and the caller answers them (sx_agent_wait).
**
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
  SX_AGENT_RUNNING,    /* proceed done: the workload runs (or ended, not yet waited for) */
  SX_AGENT_GONE        /* waited for, killed while parked, or released */
};

enum sx_agent_code {
  SX_AGENT_OK,
  SX_AGENT_E_NOT_PARKED,   /* install or proceed after proceed */
  SX_AGENT_E_NO_PROCESS,   /* the child is gone */
  SX_AGENT_E_SYSTEM,       /* a syscall in the parent failed: errno */
  SX_AGENT_E_NOT_FOUND,    /* the program is not in PATH / does not exist */
  SX_AGENT_E_CWD,          /* chdir in the child failed: errno */
  SX_AGENT_E_INSTALL,      /* the kernel refused a filter (or a filter before denies it) */
  SX_AGENT_E_BLOCKED,      /* a filter installed before forbids installing another */
  SX_AGENT_E_EXEC,         /* execve failed: errno */
  SX_AGENT_E_BAD_PROGRAM,  /* the program fails sx_check, is too big, or too many filters */
  SX_AGENT_E_DIED,         /* the child died before it could exec */
  SX_AGENT_E_NAMESPACE,    /* no PID namespace could be made: errno */
  SX_AGENT_E_SETUP,        /* the child could not prepare (no_new_privs, capabilities) */
  SX_AGENT_E_PARKED        /* wait on a process that waits for proceed: it would never end */
};

struct sx_agent_error {
  int code;            /* enum sx_agent_code */
  int error;           /* errno, or 0 */
  int index;           /* SX_AGENT_E_INSTALL: the filter, counted from 0 in install order */
  char message[200];
};

/* What spawn needs. argv[0] is searched in PATH (the env's PATH when env is given)
** unless it holds a '/'. envp NULL: inherit the caller's environment. Zero means the
** safe choice for each flag. */
struct sx_spawn {
  const char *const *argv;     /* NULL-terminated, at least one element */
  const char *const *envp;     /* NULL-terminated, or NULL */
  const char *cwd;             /* or NULL */
  const int *fds;              /* extra descriptors the workload keeps, same numbers */
  size_t nfds;
  int allow_new_privs;         /* 1: leave no_new_privs as it is (else it is set) */
  int share_pid_namespace;     /* 1: no PID namespace of its own (see the header) */
  struct sx_agent_spare *spare;   /* or NULL: where the children's memory is kept between
                                  ** spawns; it must outlive the agent. Zero the whole
                                  ** struct: a stray pointer here would be written through */
};

/* The memory one spawn's children used (their stacks, the gate's pages, the report page),
** kept for the caller's next spawn, which then maps, populates and unmaps none: on a VM
** that is a good part of a spawn's cost. A spawn takes what the spare holds, and gives it
** back once its children are gone, every page they wrote zeroed (an area with a page in
** swap is given to the kernel instead); a spare holds one area. All of it is private
** memory: a fork of the caller gets copies. Not thread-safe: one spare per thread that
** spawns (a Lua state has one). */
struct sx_agent_spare {
  void *report, *stacks;       /* NULL: none held */
  size_t size;                 /* the stacks' mapping, the gate's pages included */
  int closed;                  /* freed: nothing more is kept */
};
SX_API void sx_agent_spare_init(struct sx_agent_spare *s);
SX_API void sx_agent_spare_free(struct sx_agent_spare *s);   /* gives the memory back */

#define SX_AGENT_MAX_FILTERS 32

struct sx_agent_filter {       /* a filter of the plan, owned by the agent */
  struct sx_insn *insns;       /* as given */
  size_t len;
  struct sx_insn *plan;        /* as the workload installs it: notifications, the gate */
  size_t plan_len;
  struct sx_insn *plain;       /* without the notifications proceed made, or NULL */
  size_t plain_len;
  int door;                    /* the plan's gate lets a listener's handover sendmsg through */
};

struct sx_agent {
  int state;
  pid_t pid;                   /* the workload, in the caller's PID namespace */
  int pidfd;                   /* the workload */
  pid_t child;                 /* the caller's own child: the reaper, or the workload */
  int child_pidfd;
  int self_pidfd;              /* the caller, for the reaper's check */
  int namespace;               /* 1 when the workload has its own PID namespace */
  void *report;                /* struct sx_report (agent_child.h), a shared page */
  void *stacks;                /* the children's stacks */
  size_t stacks_size;
  void *inner;                 /* the plan and what the parent keeps beside it (agent.c) */
  char *block;                 /* argv, envp, path, cwd, keep list, maps: one allocation */
  void *gate;                  /* the gate's pages (path, argv, envp, handover message), */
  size_t gate_size;            /* above the stacks in their mapping */
  struct sx_agent_spare *spare;   /* sx_spawn's */
  struct sx_agent_filter filters[SX_AGENT_MAX_FILTERS];
  size_t nfilters;
  int listeners[SX_AGENT_MAX_FILTERS];
  int listener_filter[SX_AGENT_MAX_FILTERS];   /* the filter each belongs to, from 0 */
  size_t nlisteners;
  int unsupervised;            /* why the filters went without a listener (errno), 0: they did not; see proceed */
  int status;                  /* wait status once waited for */
};

SX_API void sx_agent_init(struct sx_agent *a);
/* Without CAP_SYS_ADMIN: move the calling process into a new user namespace that maps its
** own uid and gid (others show as the overflow id there), where it has the capabilities
** a PID namespace needs. Call it while single-threaded (a process that is not dumpable
** is made dumpable for the three writes of its maps, then not again); a no-op with
** CAP_SYS_ADMIN. */
SX_API int sx_agent_enter_user_namespace(struct sx_agent_error *err);
SX_API int sx_agent_spawn(struct sx_agent *a, const struct sx_spawn *opts,
                          struct sx_agent_error *err);
/* Add a filter to the plan of the parked child (copied). It is checked now: a valid
** program, within the kernel's limits with the filters before it, and not blocked by
** them (a filter that forbids seccomp(2) must come last). */
SX_API int sx_agent_install(struct sx_agent *a, const struct sx_insn *insns, size_t len,
                            struct sx_agent_error *err);
/* Install the plan's filters in the child and execve. `notify` (SX_NOTIFY_* bits of
** gate.h) turns the filters' actions of those kinds into notifications, for a supervisor
** to see and decide as the filters would, to report them (the plan is checked again).
** When the kernel gives the workload no listener (EBUSY: the caller runs under a filter
** with the one a process gets; EINVAL: Linux before 5.19), or a filter with its
** notifications' tails would be too long for the kernel (E2BIG; then every filter goes
** without), the workload installs such a filter without those notifications, so the
** kernel decides, and a->unsupervised says why; with SX_AGENT_NOTIFY_REQUIRED in
** `notify` (the notifications are the point, as when they let denied calls through), or
** when a filter before it opened its exec gate for the handover's sendmsg, the plan fails
** instead. On failure the child is gone. */
enum { SX_AGENT_NOTIFY_REQUIRED = 1 << 30 };
SX_API int sx_agent_proceed(struct sx_agent *a, unsigned notify, struct sx_agent_error *err);
/* Answers one notification, received from `listener` of filter `filter` (counted from 0
** in install order), with SECCOMP_IOCTL_NOTIF_SEND. */
struct seccomp_notif;
typedef void (*sx_agent_answer)(void *ctx, int listener, int filter,
                                const struct seccomp_notif *req);

/* Wait for the workload; *status as waitpid's. Signals in `signals` (n of them) sent to
** this process by other processes meanwhile go to the workload (they are blocked and read
** through a signalfd). Each notification is given to `answer`, or without one failed
** with ENOSYS, as the kernel does when nobody listens. */
SX_API int sx_agent_wait(struct sx_agent *a, const int *signals, size_t nsignals,
                         sx_agent_answer answer, void *ctx, int *status,
                         struct sx_agent_error *err);
/* Has the workload ended (it can be waited for without blocking)? */
SX_API int sx_agent_ended(const struct sx_agent *a);
SX_API int sx_agent_kill(struct sx_agent *a, int sig, struct sx_agent_error *err);
/* The listeners of the filters that notify, after proceed; *n of them. */
SX_API const int *sx_agent_listeners(const struct sx_agent *a, size_t *n);
/* Kill and reap a child that is still there, free everything; back to EMPTY. */
SX_API void sx_agent_release(struct sx_agent *a);
SX_API const char *sx_agent_code_name(int code);   /* "not_parked", ... */

#ifdef __cplusplus
}
#endif
#endif

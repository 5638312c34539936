/*
** agent_child.h: what the spawn agent's parent (agent.c) and its children (agent_child.c)
** share: the plan the children follow and the report they write back.
**
** Both children are made with CLONE_VM: they run on stacks of their own inside the
** parent's memory, read the plan from there, and write the report into a shared page.
** Neither touches malloc, Lua or thread-local state (raw_syscall.h). The reaper shares
** the parent's descriptor table (so the workload's pidfd lands there); the workload has
** a table of its own from the start.
**
**   parent ─┬─ reaper (pid 1 of a new PID namespace; absent with share_pid_namespace)
**           │    └─ workload (pid 2): parks, then installs the filters and execs
**           └─ (without a namespace the workload is the parent's own child)
*/
#ifndef SX_AGENT_CHILD_H
#define SX_AGENT_CHILD_H

#include <linux/filter.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "sx_agent.h"

enum { SX_CMD_PARK, SX_CMD_PROCEED };

/* How far a child got; a failure stage says what failed, with `error` (errno) and, for
** an install, `index` (the filter). */
enum sx_stage {
  SX_ST_STARTING, SX_ST_PARKED, SX_ST_EXECING,
  SX_ST_SETUP_FAILED,      /* the parent-death signal, signals, or the parent was gone */
  SX_ST_CWD_FAILED,
  SX_ST_CLONE_FAILED,      /* the reaper could not make the workload */
  SX_ST_NNP_FAILED,
  SX_ST_CAPS_FAILED,       /* dropping CAP_SYS_PTRACE */
  SX_ST_GUARD_FAILED,      /* installing the terminal guard (gate.h) */
  SX_ST_SESSION_FAILED,    /* setsid */
  SX_ST_INSTALL_FAILED,    /* installing filter `index` */
  SX_ST_HANDOVER_FAILED,   /* sending filter `index`'s listener to the parent */
  SX_ST_EXEC_FAILED,
  SX_ST_AFFINITY_FAILED    /* taking back the caller's CPU affinity */
};

/* Written by the children; the parent waits on `stage` and `workload_tid` (futexes). */
struct sx_report {
  uint32_t cmd;            /* parent -> workload: SX_CMD_* */
  uint32_t stage;          /* enum sx_stage */
  int32_t error, index;
  int32_t workload_tid;    /* nonzero until the workload execs or ends (CLONE_CHILD_CLEARTID) */
  int32_t workload_pidfd;  /* the reaper's pidfd of the workload, in the shared table */
  int32_t workload_status; /* the reaper: the workload's wait status, once `ended` */
  int32_t ended;
  int32_t unsupervised;    /* the workload installed a filter's plain version: why (errno) */
  int32_t pinned;          /* a child moved itself to plan.pin_cpu: the workload moves back */
};

/* One seccomp(2) call the workload makes at proceed. A filter that notifies only because
** proceed turned some of its actions into notifications, to report them, also has its
** plain version, which decides the same in the kernel: the workload installs that instead
** when the kernel gives it no listener, because one of the filters it already runs under
** has the one a process gets (EBUSY), or because it is older than 5.19 and lacks
** SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (EINVAL). */
struct sx_plan_filter {
  struct sock_fprog prog;
  unsigned flags;          /* SECCOMP_FILTER_FLAG_NEW_LISTENER for one that notifies */
  struct sock_fprog plain; /* .len 0 when there is none */
};

/* The message that hands a listener to the parent (SCM_RIGHTS, one byte: the filter's
** index), at a random place in the gate's pages: its address is the gate's sendmsg argument. */
struct sx_handover {
  struct msghdr msg;
  struct iovec iov;
  uint8_t index;
  _Alignas(struct cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int))];
};

/* Everything the children read; it lives in the parent (struct sx_agent). */
struct sx_plan {
  struct sx_report *report;
  pid_t parent;            /* the workload without a namespace checks getppid() against it */
  int parent_pidfd;        /* the reaper checks the parent is still there through it */
  const char *cwd;
  const int *keep;         /* descriptors the workload keeps, sorted */
  size_t nkeep;
  const int *pass;         /* ... of which these lose FD_CLOEXEC */
  size_t npass;
  int set_nnp;
  unsigned long workload_flags;      /* clone flags of the workload (by the reaper) */
  void *workload_stack;              /* its top */
  int socket;              /* the workload's end of the listener handover socket */
  struct sx_handover *handover;
  struct sock_fprog guard;           /* the terminal guard, installed first (gate.h), */
  int guard_redundant;               /* unless the first filter refuses its calls itself */
  struct sx_plan_filter filters[SX_AGENT_MAX_FILTERS];   /* in install order */
  size_t nfilters;
  const char *path;                  /* the execve arguments, at the gate's addresses */
  char *const *argv;
  char *const *envp;
  struct {                           /* the gate's keys: execve's and sendmsg's unused */
    uint64_t exec[3], send[3];       /* argument registers 3..5 (gate.h) */
  } keys;
  cpu_set_t affinity;                /* the caller's, which the workload takes back */
  int pin_cpu;                       /* the caller's CPU, the children's until proceed; -1 */
  uint64_t reset_signals;  /* bit sig-1: the workload sets sig to SIG_DFL (see below) */
};

int sx_reaper_main(void *plan);
int sx_workload_main(void *plan);

#if defined(__x86_64__) && !defined(__ILP32__) && defined(CLONE_CLEAR_SIGHAND)
#define SX_HAVE_CLONE_CLEARED 1

/* The parent's child, with every handler of the parent's reset to SIG_DFL by the kernel
** as it copies them (clone3's CLONE_CLEAR_SIGHAND, Linux 5.5): clone flags and the other
** arguments as glibc's clone() takes them, the stack as its top and size. A handler of
** the parent's can then never run in a child, whatever another thread of the parent
** installs meanwhile, and the workload only has the signals the parent ignores left to
** reset (reset_signals). The child's pid, or -errno. Written for x86_64 only: elsewhere
** (and where clone3 is refused) clone() and a reset of every signal stand in. */
long sx_clone_cleared(int (*fn)(void *), void *stack_top, size_t stack_size,
                      unsigned long flags, void *arg, int *pidfd, pid_t *child_tid);
#endif

#endif

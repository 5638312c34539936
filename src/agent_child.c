/*
** agent_child.c: the code the spawn agent's children run (see agent_child.h).
**
** The reaper is pid 1 of the workload's PID namespace: it makes the workload, reaps what
** the workload leaves behind, and when the workload ends writes its status and exits,
** which makes the kernel kill whatever else is left in the namespace. It dies with the
** parent (parent-death signal), and with it everything in the namespace. It moves to the
** CPU the parent spawned from and stays there (agent.c: start_child), where it only waits.
**
** The workload starts a session of its own, closes every descriptor but the ones it keeps
** and parks (on the caller's CPU) until the parent says proceed, then: the caller's CPU
** affinity back; no_new_privs; CAP_SYS_PTRACE out of every capability set; the terminal
** guard (gate.h); the filters, each that notifies followed by the sendmsg that hands its
** listener to the parent (through the gate); execve. Filters the parent itself runs under
** apply to these calls too: the fewer, the better. Every syscall here is raw (sx_sys), and a failure is written to the report
** before the child ends.
*/
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "agent_child.h"
#include "raw_syscall.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

static __attribute__((noreturn)) void end(int code) {
  SX_SYS1(SYS_exit_group, code);
  __builtin_trap();          /* exit_group itself was denied: end without a syscall */
}

/* Report a failure at `stage` (rc is a raw syscall's -errno) and end. `wake` says whether
** the parent waits on `stage` (before proceed) or on workload_tid (after). */
static __attribute__((noreturn)) void fail(struct sx_report *r, int stage, long rc, int index,
                                          int wake) {
  r->error = (int32_t)-rc;
  r->index = index;
  STORE(r->stage, (uint32_t)stage);
  if (wake) SX_SYS3(SYS_futex, &r->stage, FUTEX_WAKE, 1);
  end(127);
}

/* A kernel sigaction of all zeros: SIG_DFL with no flags and an empty mask on every
** architecture. */
static const unsigned long zeros[8];

/* The signals of `reset` back to SIG_DFL. Raw, so glibc's own signals (32, 33) too. */
static void default_signals(uint64_t reset) {
  for (int sig = 1; sig <= 64; sig++)   /* KILL and STOP refuse: fine */
    if (reset >> (sig - 1) & 1) SX_SYS4(SYS_rt_sigaction, sig, zeros, 0, sizeof(uint64_t));
}

/* Onto the caller's CPU alone (agent.c: start_child), until the workload proceeds;
** failing that, it stays where it is (only the cost differs). */
static void pin(const struct sx_plan *p) {
  enum { WORD = 8 * sizeof(unsigned long), CPUS = 1024 };   /* the kernel's mask: longs */
  unsigned long one[CPUS / WORD] = { 0 };
  if (p->pin_cpu < 0 || p->pin_cpu >= CPUS) return;
  one[p->pin_cpu / WORD] = 1UL << (p->pin_cpu % WORD);
  if (SX_SYS3(SYS_sched_setaffinity, 0, sizeof one, one) == 0) STORE(p->report->pinned, 1);
}

/* ---- the reaper ---------------------------------------------------------- */

int sx_reaper_main(void *arg) {
  const struct sx_plan *p = arg;
  struct sx_report *r = p->report;
  struct pollfd parent = { p->parent_pidfd, POLLIN, 0 };
  long rc, workload;
  int status;
  if ((rc = SX_SYS2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL)) < 0) fail(r, SX_ST_SETUP_FAILED, rc, 0, 1);
  pin(p);
  /* Its parent is outside the namespace (getppid() says 0): ask the parent's pidfd
  ** whether it ended before the parent-death signal was set. */
  if (SX_SYS3(SYS_poll, &parent, 1, 0) != 0) end(127);
  /* SIGCHLD ignored (or SA_NOCLDWAIT) would reap the workload before wait4. No other
  ** handler matters: signals stay blocked here, and the workload resets its own. */
  SX_SYS4(SYS_rt_sigaction, SIGCHLD, zeros, 0, sizeof(uint64_t));
  workload = clone(sx_workload_main, p->workload_stack, (int)p->workload_flags, arg,
                   &r->workload_pidfd, NULL, &r->workload_tid);
  if (workload < 0) fail(r, SX_ST_CLONE_FAILED, -errno, 0, 1);
  for (;;) {                /* signals stay blocked: only the parent's SIGKILL reaches it */
    long w = SX_SYS4(SYS_wait4, -1, &status, __WALL, 0);
    if (w > 0 && WIFSTOPPED(status)) {
      /* A child that asked to be traced (PTRACE_TRACEME) made the reaper its tracer, and
      ** its stops come here: let it go, as if untraced (the exec's SIGTRAP dropped). */
      int sig = WSTOPSIG(status);
      SX_SYS4(SYS_ptrace, PTRACE_DETACH, w, 0, sig == SIGTRAP ? 0 : sig);
      continue;
    }
    if (w == workload) {
      r->workload_status = status;
      STORE(r->ended, 1);
      end(0);               /* the kernel kills the rest of the namespace */
    }
    if (w < 0 && w != -EINTR) end(0);
  }
}

/* ---- the workload ---------------------------------------------------------- */

/* Close every descriptor but the sorted `keep` list (close_range over the gaps). */
static void close_others(const int *keep, size_t nkeep) {
  unsigned lo = 0;
  for (size_t i = 0; i <= nkeep; i++) {
    unsigned hi = i < nkeep ? (unsigned)keep[i] : ~0u;
    if (hi > lo && SX_SYS3(SYS_close_range, lo, i < nkeep ? hi - 1 : ~0u, 0) != 0)
      for (unsigned fd = lo; fd < hi && fd < 65536; fd++) SX_SYS1(SYS_close, fd);
    if (hi == ~0u) break;
    lo = hi + 1;
  }
}

/* CAP_SYS_PTRACE out of the bounding set and every set of this process, so that nothing
** the workload runs can ptrace, pidfd_getfd or read the memory of the non-dumpable agent,
** whatever its uid. Without CAP_SETPCAP the bounding set cannot change; with no_new_privs
** set nothing can raise the capability then, and without it that is an error. */
static long drop_ptrace(int nnp) {
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  unsigned word = CAP_SYS_PTRACE / 32, bit = 1u << (CAP_SYS_PTRACE % 32);
  long rc = SX_SYS2(SYS_prctl, PR_CAPBSET_DROP, CAP_SYS_PTRACE);
  if (rc < 0 && !(rc == -EPERM && nnp)) return rc;
  rc = SX_SYS4(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_SYS_PTRACE, 0);
  if (rc < 0 && rc != -EINVAL) return rc;
  if ((rc = SX_SYS2(SYS_capget, &h, d)) < 0) return rc;
  if (!((d[word].effective | d[word].permitted | d[word].inheritable) & bit)) return 0;
  d[word].effective &= ~bit;
  d[word].permitted &= ~bit;
  d[word].inheritable &= ~bit;
  return SX_SYS2(SYS_capset, &h, d);
}

static __attribute__((noreturn)) void proceed(const struct sx_plan *p, struct sx_report *r) {
  long rc;
  if (LOAD(r->pinned) &&
      (rc = SX_SYS3(SYS_sched_setaffinity, 0, sizeof p->affinity, &p->affinity)) < 0)
    fail(r, SX_ST_AFFINITY_FAILED, rc, 0, 0);
  if (p->set_nnp && (rc = SX_SYS5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) < 0)
    fail(r, SX_ST_NNP_FAILED, rc, 0, 0);
  if ((rc = drop_ptrace(p->set_nnp)) < 0) fail(r, SX_ST_CAPS_FAILED, rc, 0, 0);
  if (!p->guard_redundant && (rc = SX_SYS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p->guard)) < 0)
    fail(r, SX_ST_GUARD_FAILED, rc, 0, 0);
  for (size_t i = 0; i < p->nfilters; i++) {
    const struct sx_plan_filter *f = &p->filters[i];
    rc = SX_SYS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &f->prog);
    if ((rc == -EBUSY || rc == -EINVAL) && f->plain.len) {   /* no listener: the kernel decides */
      long why = rc;
      rc = SX_SYS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &f->plain);
      if (rc >= 0) { STORE(r->unsupervised, (int32_t)-why); continue; }
    }
    if (rc < 0) fail(r, SX_ST_INSTALL_FAILED, rc, (int)i, 0);
    if (f->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
      int fd = (int)rc;
      p->handover->index = (uint8_t)i;
      memcpy(CMSG_DATA((struct cmsghdr *)(void *)p->handover->control), &fd, sizeof fd);
      rc = SX_SYS6(SYS_sendmsg, p->socket, &p->handover->msg, 0, p->keys.send[0],
                   p->keys.send[1], p->keys.send[2]);
      if (rc < 0) fail(r, SX_ST_HANDOVER_FAILED, rc, (int)i, 0);
    }
  }
  STORE(r->stage, SX_ST_EXECING);
  rc = SX_SYS6(SYS_execve, p->path, p->argv, p->envp, p->keys.exec[0], p->keys.exec[1],
               p->keys.exec[2]);
  fail(r, SX_ST_EXEC_FAILED, rc, 0, 0);
}

int sx_workload_main(void *arg) {
  const struct sx_plan *p = arg;
  struct sx_report *r = p->report;
  static const unsigned long none[1];
  long rc;
  if ((rc = SX_SYS2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL)) < 0) fail(r, SX_ST_SETUP_FAILED, rc, 0, 1);
  /* Made by the parent itself: did it end before the parent-death signal was set? (Made
  ** by the reaper, the kernel kills it with the reaper anyway.) */
  if (p->parent && SX_SYS0(SYS_getppid) != p->parent) end(127);
  if (p->parent) pin(p);
  default_signals(p->reset_signals);
  /* A session of its own: no controlling terminal (so no TIOCSTI into the user's; the
  ** guard covers root), and a process group of its own (kill(0, sig) reaches only it). */
  if ((rc = SX_SYS0(SYS_setsid)) < 0) fail(r, SX_ST_SESSION_FAILED, rc, 0, 1);
  if (SX_SYS4(SYS_rt_sigprocmask, SIG_SETMASK, none, 0, sizeof(uint64_t)) < 0)
    fail(r, SX_ST_SETUP_FAILED, -EINVAL, 0, 1);
  if (p->cwd && (rc = SX_SYS1(SYS_chdir, p->cwd)) < 0) fail(r, SX_ST_CWD_FAILED, rc, 0, 1);
  close_others(p->keep, p->nkeep);
  for (size_t i = 0; i < p->npass; i++) SX_SYS3(SYS_fcntl, p->pass[i], F_SETFD, 0);
  STORE(r->stage, SX_ST_PARKED);
  SX_SYS3(SYS_futex, &r->stage, FUTEX_WAKE, 1);
  while (LOAD(r->cmd) == SX_CMD_PARK)
    SX_SYS4(SYS_futex, &r->cmd, FUTEX_WAIT, SX_CMD_PARK, 0);
  proceed(p, r);
}

/* ---- clone3, the parent's handlers cleared ---------------------------------------- */

#ifdef SX_HAVE_CLONE_CLEARED

/* clone3(args, size); in the child, on its new stack, exit(fn(arg)) as glibc's clone()
** does. rcx and r11 do not survive syscall: arg waits in r9, fn in rdx (both copied into
** the child with every other register). A 0 on any stack but the child's (`top`) is no
** child: a filter of the caller's that answers clone3 with errno 0, say; then -ENOSYS,
** and the caller falls back. */
long sx_clone3_run(struct clone_args *args, size_t size, int (*fn)(void *), void *arg,
                   void *top);
__asm__(".text\n"
        ".globl sx_clone3_run\n"
        ".hidden sx_clone3_run\n"
        ".type sx_clone3_run,@function\n"
        "sx_clone3_run:\n"
        "  mov %rcx, %r9\n"
        "  mov $435, %eax\n"               /* SYS_clone3 */
        "  syscall\n"
        "  test %rax, %rax\n"
        "  jnz 1f\n"
        "  cmp %r8, %rsp\n"
        "  jne 2f\n"
        "  xor %ebp, %ebp\n"               /* the child: no frame above fn */
        "  mov %r9, %rdi\n"
        "  call *%rdx\n"
        "  mov %eax, %edi\n"
        "  mov $60, %eax\n"                /* SYS_exit */
        "  syscall\n"
        "  hlt\n"
        "2:\n"
        "  mov $-38, %rax\n"               /* -ENOSYS */
        "1:\n"
        "  ret\n"
        ".size sx_clone3_run, .-sx_clone3_run\n");

long sx_clone_cleared(int (*fn)(void *), void *stack_top, size_t stack_size,
                      unsigned long flags, void *arg, int *pidfd, pid_t *child_tid) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = (flags & ~0xffUL) | CLONE_CLEAR_SIGHAND;
  args.exit_signal = flags & 0xff;
  args.pidfd = (uintptr_t)pidfd;
  args.child_tid = (uintptr_t)child_tid;
  args.stack = (uintptr_t)stack_top - stack_size;
  args.stack_size = stack_size;
  return sx_clone3_run(&args, CLONE_ARGS_SIZE_VER0, fn, arg, stack_top);
}
#endif

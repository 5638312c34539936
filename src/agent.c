/*
** agent.c: the checkpointed spawn agent, the parent's side (see sx_agent.h for the
** contract, agent_child.h for what the children do).
**
** Everything the children need (argv, envp, the resolved path, the descriptors to keep,
** the filters) is made in the parent; the children share its memory and only make raw
** syscalls. The parent waits on words of a shared report page (futexes): `stage` while
** the workload gets ready, `workload_tid`, which the kernel clears when the workload
** execs or ends (CLONE_CHILD_CLEARTID), after proceed.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_area.h"
#include "agent_child.h"
#include "gate.h"

extern char **environ;

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)     /* Linux 5.19 */
#endif

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

enum {
  KERNEL_INSNS = 32768          /* the kernel's MAX_INSNS_PER_PATH: a process's filters together */
};

/* The plan the children read, and what the parent keeps beside it. */
struct inner {
  struct sx_plan plan;
  int socket;                                     /* the parent's end of the handover socket */
  int child_socket;                               /* the parent's copy of the workload's end */
  size_t notifying;                               /* filters with a listener */
  int doorless[SX_AGENT_MAX_FILTERS];             /* planned without a handover's door */
  struct seccomp_notif stash[SX_AGENT_MAX_FILTERS];   /* received during proceed, not ours */
  int stashed[SX_AGENT_MAX_FILTERS];
  struct sx_insn guard[SX_GUARD_MAX];             /* the terminal guard (gate.h) */
};

static const char *const code_names[] = {
  "ok", "not_parked", "no_process", "system", "not_found", "cwd_failed", "install_failed",
  "blocked", "exec_failed", "bad_program", "died", "no_namespace", "setup_failed", "parked"
};

const char *sx_agent_code_name(int code) {
  if (code < 0 || code >= (int)(sizeof code_names / sizeof *code_names)) return "unknown";
  return code_names[code];
}

static int fail(struct sx_agent_error *err, int code, int e, const char *fmt, const char *arg) {
  if (err) {
    err->code = code;
    err->error = e;
    err->index = -1;
    snprintf(err->message, sizeof err->message, fmt, arg ? arg : "");
  }
  return code;
}

void sx_agent_init(struct sx_agent *a) {
  memset(a, 0, sizeof *a);
  a->state = SX_AGENT_EMPTY;
  a->pidfd = a->child_pidfd = a->self_pidfd = -1;
}

static struct sx_report *report_of(const struct sx_agent *a) { return a->report; }
static struct inner *inner_of(const struct sx_agent *a) { return a->inner; }

/* ---- preparing: the program, its arguments, its descriptors -------------------- */

static size_t count(const char *const *v) {
  size_t n = 0;
  while (v && v[n]) n++;
  return n;
}

static int join_path(char *out, size_t size, const char *cwd, const char *dir,
                     const char *name) {
  int n;
  if (dir[0] != '/' && cwd) n = snprintf(out, size, "%s/%s/%s", cwd, dir, name);
  else n = snprintf(out, size, "%s/%s", dir, name);
  return n > 0 && (size_t)n < size ? 0 : -1;
}

/* Find argv[0] as execvp would, in the parent. 0, or SX_AGENT_E_NOT_FOUND. */
static int resolve(const char *name, const char *pathvar, const char *cwd, char *out,
                   size_t size) {
  struct stat st;
  char found[PATH_MAX];
  int have = 0;
  if (strchr(name, '/')) {
    int n = name[0] != '/' && cwd ? snprintf(out, size, "%s/%s", cwd, name)
                                  : snprintf(out, size, "%s", name);
    if (n < 0 || (size_t)n >= size) return SX_AGENT_E_NOT_FOUND;
    return stat(out, &st) == 0 || errno != ENOENT ? 0 : SX_AGENT_E_NOT_FOUND;
  }
  if (!*name) return SX_AGENT_E_NOT_FOUND;
  while (pathvar) {
    const char *colon = strchr(pathvar, ':');
    size_t len = colon ? (size_t)(colon - pathvar) : strlen(pathvar);
    char dir[PATH_MAX];
    if (len >= sizeof dir) len = sizeof dir - 1;
    memcpy(dir, len ? pathvar : ".", len ? len : 1);
    dir[len ? len : 1] = '\0';
    if (join_path(found, sizeof found, cwd, dir, name) == 0 && stat(found, &st) == 0 &&
        S_ISREG(st.st_mode)) {
      if (access(found, X_OK) == 0) { snprintf(out, size, "%s", found); return 0; }
      if (!have) { snprintf(out, size, "%s", found); have = 1; }   /* exec says EACCES */
    }
    pathvar = colon ? colon + 1 : NULL;
  }
  return have ? 0 : SX_AGENT_E_NOT_FOUND;
}

static const char *env_path(const char *const *envp) {
  const char *p;
  if (!envp) return (p = getenv("PATH")) ? p : "/usr/local/bin:/usr/bin:/bin";
  for (size_t i = 0; envp[i]; i++)
    if (strncmp(envp[i], "PATH=", 5) == 0) return envp[i] + 5;
  return "/usr/local/bin:/usr/bin:/bin";
}

static int has_cap_sys_admin(void) {
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) != 0) return 0;
  return (d[CAP_SYS_ADMIN / 32].effective >> (CAP_SYS_ADMIN % 32)) & 1;
}

static int cmp_int(const void *x, const void *y) {
  int a = *(const int *)x, b = *(const int *)y;
  return (a > b) - (a < b);
}

/* One allocation for what the children read: the argv and envp vectors and strings, the
** resolved path, cwd and the sorted descriptors to keep (the handover socket among them). */
static int build_block(struct sx_agent *a, const struct sx_spawn *o, const char *path,
                       char *const **argv, char *const **envp) {
  const char *const *env = o->envp ? o->envp : (const char *const *)environ;
  size_t argc = count(o->argv), envc = count(env), size, i, nkeep = 0;
  struct sx_plan *plan = &inner_of(a)->plan;
  char **vec, *p;
  int *keep;
  size = (argc + envc + 2) * sizeof(char *) + (o->nfds + 4) * 2 * sizeof(int) +
         strlen(path) + 1 + (o->cwd ? strlen(o->cwd) + 1 : 0);
  for (i = 0; i < argc; i++) size += strlen(o->argv[i]) + 1;
  for (i = 0; i < envc; i++) size += strlen(env[i]) + 1;
  if (!(a->block = malloc(size))) return -1;
  vec = (char **)(void *)a->block;
  keep = (int *)(void *)(vec + argc + envc + 2);
  p = (char *)(keep + 2 * (o->nfds + 4));
  for (i = 0; i < argc; i++) { vec[i] = p; p = stpcpy(p, o->argv[i]) + 1; }
  vec[argc] = NULL;
  for (i = 0; i < envc; i++) { vec[argc + 1 + i] = p; p = stpcpy(p, env[i]) + 1; }
  vec[argc + 1 + envc] = NULL;
  *argv = vec;
  *envp = vec + argc + 1;
  plan->path = p;
  p = stpcpy(p, path) + 1;
  if (o->cwd) plan->cwd = strcpy(p, o->cwd);
  keep[nkeep++] = 0; keep[nkeep++] = 1; keep[nkeep++] = 2; keep[nkeep++] = plan->socket;
  for (i = 0; i < o->nfds; i++) keep[nkeep++] = o->fds[i];
  qsort(keep, nkeep, sizeof *keep, cmp_int);
  {   /* drop repeats */
    size_t j = 0;
    for (i = 0; i < nkeep; i++) if (j == 0 || keep[j - 1] != keep[i]) keep[j++] = keep[i];
    nkeep = j;
  }
  plan->keep = keep;
  plan->nkeep = nkeep;
  memcpy(keep + nkeep, o->fds, o->nfds * sizeof *keep);
  plan->pass = keep + nkeep;
  plan->npass = o->nfds;
  return 0;
}

/* ---- the exec gate's pages ---------------------------------------------------- */

enum { GATE_OBJECTS = 4, GATE_GAP = 4096 };

/* The bytes each of the gate's objects takes: the path, the argv and envp vectors, the
** handover message. */
static void gate_needs(const struct sx_plan *plan, char *const *argv, char *const *envp,
                       size_t need[GATE_OBJECTS]) {
  need[0] = strlen(plan->path) + 1;
  need[1] = (count((const char *const *)argv) + 1) * sizeof(char *);
  need[2] = (count((const char *const *)envp) + 1) * sizeof(char *);
  need[3] = sizeof(struct sx_handover);
}

/* The size of the gate's pages: each object in a gap of its own, in whole pages. */
static size_t gate_size(const size_t need[GATE_OBJECTS]) {
  size_t size = 0, page = (size_t)sysconf(_SC_PAGESIZE);
  for (int i = 0; i < GATE_OBJECTS; i++) size += GATE_GAP + ((need[i] + 7) & ~(size_t)7);
  return (size + page - 1) / page * page;
}

/* Copies of the path and of the argv and envp vectors: the three pointers the agent's
** execve passes; and the message that hands a listener over, whose address sendmsg
** passes (`need`: their sizes, gate_needs); each at a random 8-byte place in a gap of its
** own in the gate's pages (a->gate: agent_area.h). Beside them the keys both calls pass
** in their unused registers (gate.h). Only the gate lets those calls through, and only
** with the keys. The places are no secret from a root workload (it reads sxlua's
** /proc/PID/maps, and may sample what the reaper's stack holds); the keys are: they live
** in the plan and the filters only, and forget_keys zeroes them once the workload has
** exec'd. */
static int make_gate(struct sx_agent *a, char *const *argv, char *const *envp,
                     const size_t need[GATE_OBJECTS]) {
  struct sx_plan *plan = &inner_of(a)->plan;
  size_t off = 0;
  uint16_t gaps[GATE_OBJECTS];
  char *at[GATE_OBJECTS], *base = a->gate, *path, **av, **ev;
  struct sx_handover *h;
  /* the keys straight into the plan, never on this stack */
  if (getrandom(&plan->keys, sizeof plan->keys, 0) != (ssize_t)sizeof plan->keys ||
      getrandom(gaps, sizeof gaps, 0) != (ssize_t)sizeof gaps)
    return -1;
  for (int i = 0; i < GATE_OBJECTS; i++) {
    at[i] = base + off + (gaps[i] % (GATE_GAP / 8)) * 8;
    off += GATE_GAP + ((need[i] + 7) & ~(size_t)7);
  }
  explicit_bzero(gaps, sizeof gaps);
  path = at[0];
  av = (char **)(void *)at[1];
  ev = (char **)(void *)at[2];
  h = (struct sx_handover *)(void *)at[3];
  memcpy(path, plan->path, need[0]);
  memcpy(av, argv, need[1]);
  memcpy(ev, envp, need[2]);
  plan->path = path;
  plan->argv = av;
  plan->envp = ev;
  memset(h, 0, sizeof *h);
  h->iov.iov_base = &h->index;
  h->iov.iov_len = 1;
  h->msg.msg_iov = &h->iov;
  h->msg.msg_iovlen = 1;
  h->msg.msg_control = h->control;
  h->msg.msg_controllen = sizeof h->control;
  CMSG_FIRSTHDR(&h->msg)->cmsg_level = SOL_SOCKET;
  CMSG_FIRSTHDR(&h->msg)->cmsg_type = SCM_RIGHTS;
  CMSG_FIRSTHDR(&h->msg)->cmsg_len = CMSG_LEN(sizeof(int));
  plan->handover = h;
  return 0;
}

/* The memory the children use (agent_area.h), given back when they are gone (reap), not
** before: while a child shares this memory (the reaper does until the workload ends)
** every munmap interrupts its CPU to flush the TLB. */
static void unmap_shared(struct sx_agent *a) {
  if (a->inner) {                      /* nothing may point into them after */
    struct sx_plan *plan = &inner_of(a)->plan;
    plan->path = NULL;
    plan->argv = plan->envp = NULL;
    plan->handover = NULL;
    plan->report = NULL;
  }
  sx_area_give_back(a);
}

/* The gate's two calls: the agent's execve and its handover sendmsg. */
static struct sx_gate gate_calls(const struct sx_agent *a) {
  const struct sx_plan *plan = &inner_of(a)->plan;
  struct sx_gate g;
  g.exec[0] = (uintptr_t)plan->path;
  g.exec[1] = (uintptr_t)plan->argv;
  g.exec[2] = (uintptr_t)plan->envp;
  g.send[0] = (uint64_t)plan->socket;
  g.send[1] = (uintptr_t)&plan->handover->msg;
  g.send[2] = 0;
  for (int i = 0; i < 3; i++) {
    g.exec[3 + i] = plan->keys.exec[i];
    g.send[3 + i] = plan->keys.send[i];
  }
  g.handover = g.exec_allowed = 0;
  return g;
}

/* Zero the stack below the caller's frame. The calls that build a filter's gate leave its
** keys in their frames, and later calls' locals (a poll array, a buffer) would hold them
** where a root workload that samples this process's stack (perf_event_open with
** PERF_SAMPLE_STACK_USER, CPU-wide: it keeps CAP_PERFMON) reads them. */
static __attribute__((noinline)) void scrub_stack(void) {
  char below[64 * 1024];
  explicit_bzero(below, sizeof below);
  __asm__ volatile("" : : "r"(below) : "memory");
}

/* Once the workload has exec'd nothing needs its gate's keys: the plan's copies and the
** filters as installed (the gate compares them as constants) are zeroed and let go. */
static void forget_keys(struct sx_agent *a) {
  struct sx_plan *plan = &inner_of(a)->plan;
  explicit_bzero(&plan->keys, sizeof plan->keys);
  for (size_t k = 0; k < a->nfilters; k++) {
    struct sx_agent_filter *f = &a->filters[k];
    if (f->plan) explicit_bzero(f->plan, f->plan_len * sizeof *f->plan);
    if (f->plain) explicit_bzero(f->plain, f->plain_len * sizeof *f->plain);
    free(f->plan);
    free(f->plain);
    f->plan = f->plain = NULL;
    f->plan_len = f->plain_len = 0;
    plan->filters[k].prog.filter = plan->filters[k].plain.filter = NULL;
    plan->filters[k].prog.len = plan->filters[k].plain.len = 0;
  }
  scrub_stack();
}

/* ---- the parent: spawning ---------------------------------------------------- */

static int poll_one(int fd, int timeout_ms) {
  struct pollfd p = { fd, POLLIN, 0 };
  return fd >= 0 && poll(&p, 1, timeout_ms) > 0;
}

/* Has the parent's own child (reaper or workload) ended? */
static int child_ended(const struct sx_agent *a) {
  return poll_one(a->child_pidfd, 0);
}

/* The text after `label` (say "\nPid:") in the file at path, into text (size bytes);
** NULL when the file or the label is not there. */
static const char *proc_field(const char *path, const char *label, char *text, size_t size) {
  int f = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n;
  const char *at;
  if (f < 0) return NULL;
  n = read(f, text, size - 1);
  close(f);
  if (n <= 0) return NULL;
  text[n] = '\0';
  return (at = strstr(text, label)) != NULL ? at + strlen(label) : NULL;
}

/* The pid a pidfd stands for, in this process's namespace, from its fdinfo. */
static pid_t pidfd_pid(int fd) {
  char path[64], text[512];
  const char *at;
  int pid = -1;
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  if ((at = proc_field(path, "\nPid:", text, sizeof text)) != NULL) sscanf(at, "%d", &pid);
  return pid;
}

#ifdef SX_HAVE_CLONE_CLEARED
/* The signals this process ignores (bit sig-1), or every signal when /proc cannot say:
** the field must be there whole, 16 hex digits and the end of its line. (A process in
** hundreds of groups has a status longer than the buffer.) */
static uint64_t ignored_signals(void) {
  char text[4096];
  const char *at = proc_field("/proc/self/status", "\nSigIgn:\t", text, sizeof text);
  uint64_t set = 0;
  for (int i = 0; at && i < 16; i++) {
    int c = at[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return ~(uint64_t)0;
    set = set << 4 | (uint64_t)d;
  }
  return at && at[16] == '\n' ? set : ~(uint64_t)0;
}
#endif

/* Every descriptor the agent holds for the process: once it has ended, none is needed. */
static void close_fds(struct sx_agent *a) {
  if (a->pidfd >= 0 && a->pidfd != a->child_pidfd) close(a->pidfd);
  if (a->child_pidfd >= 0) close(a->child_pidfd);
  if (a->self_pidfd >= 0) close(a->self_pidfd);
  a->pidfd = a->child_pidfd = a->self_pidfd = -1;
  for (size_t i = 0; i < a->nlisteners; i++) if (a->listeners[i] >= 0) close(a->listeners[i]);
  a->nlisteners = 0;
}

/* Wait for the parent's child; then nothing of the process is left here but its status. */
static void reap(struct sx_agent *a) {
  struct sx_report *r = report_of(a);
  int status = 0;
  if (a->state == SX_AGENT_GONE) return;
  while (a->child > 0) {
    pid_t w = waitpid(a->child, &status, __WALL);
    if (w < 0 && errno == EINTR) continue;
    if (w > 0 && WIFSTOPPED(status)) {      /* it asked to be traced (PTRACE_TRACEME) */
      ptrace(PTRACE_DETACH, w, 0, WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status));
      continue;
    }
    break;
  }
  /* the reaper's own end stands in when it never saw the workload's */
  a->status = a->namespace && r && LOAD(r->ended) ? r->workload_status : status;
  a->state = SX_AGENT_GONE;
  a->child = 0;
  if (r && a->pidfd < 0 && a->namespace && LOAD(r->workload_pidfd) >= 0)
    close(r->workload_pidfd);           /* made by the reaper before spawn failed */
  close_fds(a);
  unmap_shared(a);
}

/* Wait until a child moved `stage` off SX_ST_STARTING; the stage, or -1 when the parent's
** child ended first. */
static int wait_stage(struct sx_agent *a) {
  struct sx_report *r = report_of(a);
  for (;;) {
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    uint32_t st = LOAD(r->stage);
    if (st != SX_ST_STARTING) return (int)st;
    syscall(SYS_futex, &r->stage, FUTEX_WAIT, SX_ST_STARTING, &ts, 0, 0);
    if (LOAD(r->stage) == SX_ST_STARTING && child_ended(a)) return -1;
  }
}

/* The clone flags of the reaper (sharing the parent's descriptor table, so that the
** workload's pidfd lands there) or of the workload (with a table of its own). */
static unsigned long child_flags(int reaper) {
  unsigned long f = CLONE_VM | CLONE_PIDFD | SIGCHLD;
  return f | (reaper ? CLONE_FILES | CLONE_NEWPID : CLONE_CHILD_CLEARTID);
}

/* Make the parent's child (the reaper, or the workload itself) with every signal
** blocked, so no handler of the parent ever runs on a child's stack.
**
** The children move to the CPU this thread runs on, and stay there until the workload
** proceeds: the parent, the reaper and the workload hand the spawn back and forth
** (parked, proceed, exec'd, ended), and each hand-over to another CPU wakes it with an
** interrupt, which a virtual machine pays for dearly.
** The reaper stays there; the workload takes back the affinity this thread had, first
** thing when it proceeds (before its filters), and its program runs where the kernel
** puts it. This thread's own affinity is never touched. */
static int start_child(struct sx_agent *a, unsigned long flags) {
  struct inner *in = inner_of(a);
  struct sx_report *r = report_of(a);
  sigset_t all, old;
  char *top = sx_area_upper_top(a);
  int (*fn)(void *) = a->namespace ? sx_reaper_main : sx_workload_main;
  int e, cpu = sched_getcpu();
  long rc;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  in->plan.pin_cpu = -1;
  if (cpu >= 0 && sched_getaffinity(0, sizeof in->plan.affinity, &in->plan.affinity) == 0 &&
      CPU_ISSET(cpu, &in->plan.affinity) && CPU_COUNT(&in->plan.affinity) > 1)
    in->plan.pin_cpu = cpu;
  /* The kernel resets the parent's handlers in the child; the workload, what it ignores
  ** (a signal ignored meanwhile stays so: as if ignored before the spawn). */
#ifdef SX_HAVE_CLONE_CLEARED
  in->plan.reset_signals = ignored_signals();
  rc = sx_clone_cleared(fn, top, SX_AREA_STACK, flags, &in->plan, &a->child_pidfd,
                        &r->workload_tid);
#else
  rc = -ENOSYS;
#endif
  if (rc == -ENOSYS || rc == -EINVAL || rc == -EPERM) {   /* no clone3 here, or not allowed */
    in->plan.reset_signals = ~(uint64_t)0;
    rc = clone(fn, top, (int)flags, &in->plan, &a->child_pidfd, NULL, &r->workload_tid);
    rc = rc < 0 ? -errno : rc;
  }
  a->child = rc > 0 ? (pid_t)rc : -1;
  e = rc < 0 ? (int)-rc : 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = e;
  return a->child > 0 ? 0 : -1;
}

static int spawn_failed(struct sx_agent *a, struct sx_agent_error *err, int stage) {
  struct sx_report *r = report_of(a);
  int e = r->error;
  char cwd[160];                        /* what the message has room for */
  snprintf(cwd, sizeof cwd, "%s", inner_of(a)->plan.cwd ? inner_of(a)->plan.cwd : "");
  sx_agent_release(a);                  /* frees the plan: cwd is a copy */
  switch (stage) {
  case SX_ST_CWD_FAILED: return fail(err, SX_AGENT_E_CWD, e, "cwd %s", cwd);
  case SX_ST_SESSION_FAILED: return fail(err, SX_AGENT_E_SYSTEM, e, "spawn: setsid", NULL);
  case SX_ST_CLONE_FAILED:
    return fail(err, SX_AGENT_E_SYSTEM, e, "spawn: the reaper could not make the workload", NULL);
  case SX_ST_SETUP_FAILED:
    return fail(err, SX_AGENT_E_SYSTEM, e, "spawn: the child could not set itself up", NULL);
  default: return fail(err, SX_AGENT_E_DIED, 0, "the child died before it was parked", NULL);
  }
}

static int write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC), e;
  ssize_t n;
  if (fd < 0) return -1;
  n = write(fd, text, strlen(text));
  e = errno;
  close(fd);
  errno = e;
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

int sx_agent_enter_user_namespace(struct sx_agent_error *err) {
  char map[64];
  uid_t uid = geteuid();
  gid_t gid = getegid();
  int was_dumpable, rc = SX_AGENT_OK;
  if (has_cap_sys_admin()) return SX_AGENT_OK;
  if (unshare(CLONE_NEWUSER) != 0)
    return fail(err, SX_AGENT_E_NAMESPACE, errno, "the kernel refused this process a user "
                "namespace (unshare)", NULL);
  /* The maps are this process's own files only while it is dumpable: for these three
  ** writes and no longer (sxlua makes itself not dumpable at its start). */
  was_dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1;
  if (!was_dumpable && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
    return fail(err, SX_AGENT_E_NAMESPACE, errno, "PR_SET_DUMPABLE", NULL);
  snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
  if (write_text("/proc/self/setgroups", "deny") != 0 || write_text("/proc/self/uid_map", map) != 0)
    rc = fail(err, SX_AGENT_E_NAMESPACE, errno, "writing the user namespace's uid map", NULL);
  snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
  if (rc == SX_AGENT_OK && write_text("/proc/self/gid_map", map) != 0)
    rc = fail(err, SX_AGENT_E_NAMESPACE, errno, "writing the user namespace's gid map", NULL);
  if (!was_dumpable) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  return rc;
}

int sx_agent_spawn(struct sx_agent *a, const struct sx_spawn *o, struct sx_agent_error *err) {
  char path[PATH_MAX];
  char *const *argv, *const *envp;
  struct sx_report *r;
  struct sx_plan *plan;
  int stage, e, sv[2];
  size_t need[GATE_OBJECTS];
  if (a->state != SX_AGENT_EMPTY) return fail(err, SX_AGENT_E_NOT_PARKED, 0, "this process was already spawned", NULL);
  if (!o->argv || !o->argv[0]) return fail(err, SX_AGENT_E_NOT_FOUND, ENOENT, "argv is empty", NULL);
  if (sx_arch_host() < 0) return fail(err, SX_AGENT_E_SYSTEM, ENOSYS, "this architecture is not supported", NULL);
  if (resolve(o->argv[0], env_path(o->envp), o->cwd, path, sizeof path) != 0)
    return fail(err, SX_AGENT_E_NOT_FOUND, ENOENT, "%s: command not found", o->argv[0]);
  for (size_t i = 0; i < o->nfds; i++)
    if (o->fds[i] < 0 || fcntl(o->fds[i], F_GETFD) < 0)
      return fail(err, SX_AGENT_E_SYSTEM, EBADF, "fds: a descriptor to pass is not open", NULL);
  /* Nothing the workload runs may read or write this process: see sx_agent.h. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    return fail(err, SX_AGENT_E_SYSTEM, errno, "spawn: PR_SET_DUMPABLE", NULL);
  a->namespace = !o->share_pid_namespace;
  a->spare = o->spare;
  if (a->namespace && !has_cap_sys_admin())
    return fail(err, SX_AGENT_E_NAMESPACE, EPERM, "cannot make a PID namespace: this process "
                "lacks CAP_SYS_ADMIN (sx_agent_enter_user_namespace gives it that in a user "
                "namespace of its own)", NULL);
  if (!(a->inner = calloc(1, sizeof(struct inner)))) {
    sx_agent_release(a);
    return fail(err, SX_AGENT_E_SYSTEM, ENOMEM, "spawn: no memory for the plan", NULL);
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    e = errno;
    inner_of(a)->socket = inner_of(a)->child_socket = -1;
    sx_agent_release(a);
    return fail(err, SX_AGENT_E_SYSTEM, e, "spawn: socketpair", NULL);
  }
  inner_of(a)->socket = sv[0];
  inner_of(a)->plan.socket = inner_of(a)->child_socket = sv[1];
  if (build_block(a, o, path, &argv, &envp) != 0) {
    sx_agent_release(a);
    return fail(err, SX_AGENT_E_SYSTEM, ENOMEM, "spawn: no memory for the plan", NULL);
  }
  gate_needs(&inner_of(a)->plan, argv, envp, need);
  if (sx_area_take(a, gate_size(need)) != 0) {
    e = errno;
    sx_agent_release(a);
    return fail(err, SX_AGENT_E_SYSTEM, e, "spawn: mmap", NULL);
  }
  if (make_gate(a, argv, envp, need) != 0) {
    e = errno;
    sx_agent_release(a);
    return fail(err, SX_AGENT_E_SYSTEM, e, "spawn: getrandom", NULL);
  }
  r = a->report;
  r->workload_tid = 1;                  /* the kernel clears it when the workload execs or ends */
  r->workload_pidfd = -1;
  plan = &inner_of(a)->plan;
  plan->report = r;
  plan->set_nnp = !o->allow_new_privs;
  plan->guard.filter = (struct sock_filter *)(void *)inner_of(a)->guard;
  if (!(plan->guard.len = (unsigned short)sx_gate_tty_guard(inner_of(a)->guard))) {
    sx_agent_release(a);
    return fail(err, SX_AGENT_E_SYSTEM, ENOMEM, "spawn: cannot build the terminal guard", NULL);
  }
  if (a->namespace) {
    plan->parent_pidfd = a->self_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    plan->workload_flags = child_flags(0);
    plan->workload_stack = sx_area_lower_top(a);
    if (a->self_pidfd < 0) {
      e = errno;
      sx_agent_release(a);
      return fail(err, SX_AGENT_E_SYSTEM, e, "spawn: pidfd_open", NULL);
    }
  } else {
    plan->parent = getpid();
  }
  if (start_child(a, child_flags(a->namespace)) != 0) {
    int refused = a->namespace && (errno == EPERM || errno == EINVAL || errno == ENOSPC);
    e = errno;
    sx_agent_release(a);
    if (refused) return fail(err, SX_AGENT_E_NAMESPACE, e, "cannot make a PID namespace", NULL);
    return fail(err, SX_AGENT_E_SYSTEM, e, "spawn: clone", NULL);
  }
  a->state = SX_AGENT_PARKED;
  if ((stage = wait_stage(a)) != SX_ST_PARKED) return spawn_failed(a, err, stage);
  close(inner_of(a)->child_socket);    /* the workload's end stays in its own table */
  inner_of(a)->child_socket = -1;
  if (a->namespace) {
    a->pidfd = r->workload_pidfd;       /* ours now: closed with the others */
    r->workload_pidfd = -1;
    a->pid = pidfd_pid(a->pidfd);
  } else {
    a->pidfd = a->child_pidfd;
    a->pid = a->child;
  }
  return SX_AGENT_OK;
}

/* ---- the parent: the plan's filters ------------------------------------------- */

static int32_t action_rank(uint32_t action) {
  return (int32_t)(action & SX_RET_ACTION_FULL);
}

static int allows(uint32_t action) {
  uint32_t kind = action & SX_RET_ACTION_FULL;
  return kind == SX_RET_ALLOW || kind == SX_RET_LOG;
}

static uint32_t run(const struct sx_insn *insns, size_t len, const struct sx_data *d) {
  uint32_t act = SX_RET_KILL_PROCESS;
  size_t executed;
  sx_emulate(insns, len, d, &act, &executed);
  return act;
}

/* The kernel's answer of the plan's first k filters, as installed: the most restrictive. */
static uint32_t combined(const struct sx_agent *a, size_t k, const struct sx_data *d) {
  uint32_t best = SX_RET_ALLOW;
  for (size_t i = k; i-- > 0;) {
    uint32_t act = run(a->filters[i].plan, a->filters[i].plan_len, d);
    if (action_rank(act) < action_rank(best)) best = act;
  }
  return best;
}

/* The seccomp_data of a call the workload's agent makes: args[0..5] from `args`, the
** rest zero. */
static struct sx_data call_data(long nr, const uint64_t *args, size_t nargs) {
  struct sx_data d;
  memset(&d, 0, sizeof d);
  d.nr = (int32_t)nr;
  d.arch = sx_arch_audit(sx_arch_host());
  for (size_t i = 0; i < nargs && i < 6; i++) d.args[i] = args[i];
  return d;
}

/* The program's answer to `d`, into *act, where its way there reads only the words of
** seccomp_data in `readable` (bit i: the 4 bytes at offset 4i); then the answer is the
** same for every call that agrees with d on those words. 0 where the way reads another
** word (or the trace fails). Forward jumps only: the way is at most len instructions. */
static int answer_reading(const struct sx_insn *insns, size_t len, const struct sx_data *d,
                          uint32_t readable, uint32_t *act) {
  size_t *path = malloc((len ? len : 1) * sizeof *path), executed = 0;
  int ok = path && sx_trace(insns, len, d, act, path, len, &executed) == SX_OK && executed <= len;
  for (size_t i = 0; ok && i < executed; i++) {
    const struct sx_insn *in = &insns[path[i]];
    if (in->code == (BPF_LD | BPF_W | BPF_ABS) && !(in->k < 64 && (readable >> (in->k / 4) & 1)))
      ok = 0;
  }
  free(path);
  return ok;
}

/* Does the program allow the call `d` wherever it is made from? (The emulator's
** instruction_pointer is 0: a way that reads it, words 2 and 3, might answer the real
** call otherwise.) */
static int allows_anywhere(const struct sx_insn *insns, size_t len, const struct sx_data *d) {
  uint32_t act;
  return answer_reading(insns, len, d, 0xffffu & ~0xcu, &act) && allows(act);
}

/* A copy of `insns` as the workload installs it: the actions of `kinds` turned into
** notifications (gate.h), with the gate in front when it does not allow the agent's own
** execve or, when `handover` says a listener may be handed over under it, its sendmsg.
** NULL when out of memory, or with *out_len 0 when the gate makes it too big. */
static struct sx_insn *plan_copy(const struct sx_agent *a, const struct sx_insn *insns,
                                 size_t len, unsigned kinds, int handover, size_t *out_len,
                                 int *door) {
  const struct sock_fprog *guard = &inner_of(a)->plan.guard;
  size_t room = SX_NOTIFY_ROOM(len, guard->len);
  struct sx_insn *out = malloc((room + SX_GATE_MAX) * sizeof *out), *body;
  struct sx_gate g = gate_calls(a);
  struct sx_data exec = call_data(SYS_execve, g.exec, 6);
  struct sx_data send = call_data(SYS_sendmsg, g.send, 6);
  size_t n = 0;
  *out_len = 1;                          /* not 0: out of memory is not "too big" */
  if (!out) return NULL;
  body = out + SX_GATE_MAX;
  /* Kills the supervisor stands for keep the calls the guard refuses (gate.h); not when
  ** the notifications are required: those modes let denied calls go on, and the guard's
  ** EPERM is what such a call gets. */
  len = sx_program_notify(body, insns, len, kinds,
                          (const struct sx_insn *)(const void *)guard->filter,
                          kinds & SX_AGENT_NOTIFY_REQUIRED ? 0 : guard->len);
  if (!len) { free(out); return NULL; }
  g.handover = handover && !allows_anywhere(body, len, &send);
  g.exec_allowed = allows_anywhere(body, len, &exec);
  if (door) *door = g.handover;
  n = sx_gate_prologue(out, sx_arch_host(), &g);
  if (len + n > SX_MAX_INSNS) {
    free(out);
    *out_len = 0;
    return NULL;
  }
  memmove(out + n, body, len * sizeof *out);
  *out_len = len + n;
  return out;
}

/* Does the plan's first filter, as the workload installs it, answer every call the
** terminal guard refuses with an action at least as strong as the guard's EPERM (a
** kill, a trap or an errno), whatever the call's other arguments and wherever it is made
** from? Then the guard changes no answer: the kernel takes the strongest, and of two
** errnos the later filter's. Each refused call (gate.h) is traced: the way to the answer
** may read nr, arch and args[1]'s low word, as the guard does, and nothing else. */
static int guard_redundant(const struct sx_agent *a) {
  struct sx_data calls[SX_GUARDED_CALLS];
  const struct sx_agent_filter *f = &a->filters[0];
  size_t n = a->nfilters > 0 ? sx_gate_guarded_calls(calls) : 0;
  uint32_t cmd_low = sx_arch_big_endian(sx_arch_host()) ? 7 : 6;   /* args[1]'s low word */
  uint32_t readable = 1u << 0 | 1u << 1 | 1u << cmd_low, act;
  int ok = n > 0;
  for (size_t c = 0; ok && c < n; c++)
    ok = answer_reading(f->plan, f->plan_len, &calls[c], readable, &act) &&
         action_rank(act) <= action_rank(SX_RET_ERRNO);
  return ok;
}

/* Does a filter before k open its gate for a handover? Then k has no plain fallback: with
** no listener to hand over, that door would stay open for nothing. */
static int doors_before(const struct sx_agent *a, size_t k) {
  for (size_t i = 0; i < k; i++)
    if (a->filters[i].door) return 1;
  return 0;
}

/* Why a plan is too long, with notifications of `notify` or without. */
static const char *too_long_why(unsigned notify) {
  return notify & ~SX_AGENT_NOTIFY_REQUIRED
    ? "the filter is too long to supervise: with the gate in front of it and its "
      "notifications' tails it needs more than the kernel's 4096 instructions"
    : "the filter is too long for the gate in front of it, which lets the agent's own "
      "execve (and a listener's handover) through: with it the filter needs more than the "
      "kernel's 4096 instructions";
}

/* Filter k of the plan as the workload will install it, with the actions of `notify`
** turned into notifications (and, when `handover`, room for a later listener's sendmsg),
** checked against the filters before it: the gate must fit, they must let the workload
** install it, and all must fit the kernel's budget. */
static int plan_filter(struct sx_agent *a, size_t k, unsigned notify, int handover,
                       struct sx_agent_error *err) {
  struct inner *in = inner_of(a);
  struct sx_agent_filter *f = &a->filters[k];
  struct sx_plan_filter *pf = &in->plan.filters[k];
  struct sx_data install;
  uint32_t act, kind;
  size_t budget = 0;
  free(f->plan);
  free(f->plain);
  f->plain = NULL;
  f->plain_len = 0;
  if (!(f->plan = plan_copy(a, f->insns, f->len, notify, handover, &f->plan_len, &f->door)))
    return f->plan_len == 0 ? fail(err, SX_AGENT_E_BAD_PROGRAM, E2BIG, too_long_why(notify), NULL)
                            : fail(err, SX_AGENT_E_SYSTEM, ENOMEM, "install", NULL);
  pf->prog.len = (unsigned short)f->plan_len;
  pf->prog.filter = (struct sock_filter *)(void *)f->plan;
  /* Once the supervisor has received a call, only a fatal signal ends the wait for its
  ** answer: a caller cannot withdraw a call the supervisor is about to kill it for. */
  pf->flags = sx_program_notifies(f->plan, f->plan_len)
              ? SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV : 0;
  pf->plain.len = 0;
  if (pf->flags && !(notify & SX_AGENT_NOTIFY_REQUIRED) && !doors_before(a, k) &&
      !sx_program_notifies(f->insns, f->len)) {          /* notifies to report only */
    if (!(f->plain = plan_copy(a, f->insns, f->len, 0, 0, &f->plain_len, NULL)))  /* no listener */
      return fail(err, SX_AGENT_E_SYSTEM, ENOMEM, "install", NULL);
    pf->plain.len = (unsigned short)f->plain_len;
    pf->plain.filter = (struct sock_filter *)(void *)f->plain;
  }
  /* The kernel gives a process one listener. */
  for (size_t i = 0; pf->flags && i < k; i++)
    if (in->plan.filters[i].flags)
      return fail(err, SX_AGENT_E_BAD_PROGRAM, EBUSY, "two filters of the plan notify, and the "
                  "kernel gives a process one listener: put the notify rules in one filter", NULL);
  /* Would the filters before it let the workload call seccomp(2) for this one? (One they
  ** notify, the parent lets go on: the workload has not exec'd yet.) */
  install = call_data(SYS_seccomp, (const uint64_t[]){ SECCOMP_SET_MODE_FILTER, pf->flags,
                                                       (uintptr_t)&pf->prog }, 3);
  act = combined(a, k, &install);
  kind = act & SX_RET_ACTION_FULL;
  if (kind == SX_RET_ERRNO)
    return fail(err, SX_AGENT_E_INSTALL, (int)(act & SX_RET_DATA),
                "a filter installed before denies seccomp(2)", NULL);
  if (kind != SX_RET_ALLOW && kind != SX_RET_LOG && kind != SX_RET_USER_NOTIF)
    return fail(err, SX_AGENT_E_BLOCKED, 0,
                "a filter installed before forbids seccomp(2), so no other filter can follow", NULL);
  for (size_t i = 0; i <= k; i++) budget += a->filters[i].plan_len + 4;
  if (budget - 4 > KERNEL_INSNS)
    return fail(err, SX_AGENT_E_BAD_PROGRAM, E2BIG, "the filters together need more than the "
                "kernel's 32768 instructions for one process (each costs its length + 4)", NULL);
  return SX_AGENT_OK;
}

/* Did planning filter k fail because the plan would be too long for the kernel? */
static int too_long(const struct sx_agent *a, size_t k) {
  return !a->filters[k].plan && !a->filters[k].plan_len;
}

/* Filter k with the actions of `notify` turned into notifications, and a door for a
** listener's handover where one fits; inner's doorless says where it did not (proceed
** knows whether a listener will be handed over under it). */
static int plan_door_if_fits(struct sx_agent *a, size_t k, unsigned notify,
                             struct sx_agent_error *err) {
  int rc = plan_filter(a, k, notify, 1, err), *doorless = &inner_of(a)->doorless[k];
  *doorless = rc != SX_AGENT_OK && too_long(a, k);
  return *doorless ? plan_filter(a, k, notify, 0, err) : rc;
}

int sx_agent_install(struct sx_agent *a, const struct sx_insn *insns, size_t len,
                     struct sx_agent_error *err) {
  struct sx_agent_filter *f = &a->filters[a->nfilters];
  struct sx_error check;
  int rc;
  if (a->state != SX_AGENT_PARKED)
    return a->state == SX_AGENT_RUNNING
      ? fail(err, SX_AGENT_E_NOT_PARKED, 0, "the process already proceeded to execve", NULL)
      : fail(err, SX_AGENT_E_NO_PROCESS, 0, "the process is gone", NULL);
  if (child_ended(a)) return fail(err, SX_AGENT_E_NO_PROCESS, 0, "the process is gone", NULL);
  if (len == 0 || len > SX_MAX_INSNS || sx_check(insns, len, &check) != SX_OK)
    return fail(err, SX_AGENT_E_BAD_PROGRAM, EINVAL, "the filter is not a valid program", NULL);
  if (a->nfilters == SX_AGENT_MAX_FILTERS)
    return fail(err, SX_AGENT_E_BAD_PROGRAM, E2BIG, "too many filters", NULL);
  memset(f, 0, sizeof *f);
  if (!(f->insns = malloc(len * sizeof *insns)))
    return fail(err, SX_AGENT_E_SYSTEM, ENOMEM, "install", NULL);
  memcpy(f->insns, insns, len * sizeof *insns);
  f->len = len;
  rc = plan_door_if_fits(a, a->nfilters, 0, err);   /* proceed knows more */
  scrub_stack();                     /* (another process of the caller's may be sampling) */
  if (rc != SX_AGENT_OK) {
    free(f->insns);
    free(f->plan);
    free(f->plain);
    memset(f, 0, sizeof *f);
    return rc;
  }
  inner_of(a)->plan.nfilters = ++a->nfilters;
  return SX_AGENT_OK;
}

/* ---- the parent: proceed ------------------------------------------------------ */

/* A listener handed over by the workload: it joins the parent's list with its filter.
** 0 when there was none to take (the workload's end is closed, or the message is bad). */
static int take_listener(struct sx_agent *a) {
  _Alignas(struct cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int))];
  uint8_t index;
  struct iovec iov = { &index, 1 };
  struct msghdr msg;
  struct cmsghdr *c;
  int fd;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(inner_of(a)->socket, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) != 1) return 0;
  c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
      c->cmsg_len != CMSG_LEN(sizeof fd))
    return 0;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  if (a->nlisteners == SX_AGENT_MAX_FILTERS || index >= a->nfilters) { close(fd); return 0; }
  a->listener_filter[a->nlisteners] = index;
  a->listeners[a->nlisteners++] = fd;
  return 1;
}

/* A notification received while the workload prepares: its own syscalls before the
** exec (it is blocked in the one notified, so its stage is still below EXECING) go on;
** one from after the exec is kept for the supervisor. */
static void answer_early(struct sx_agent *a, size_t i) {
  struct inner *in = inner_of(a);
  struct sx_report *r = report_of(a);
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  memset(&req, 0, sizeof req);
  if (ioctl(a->listeners[i], SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) return;
  if ((pid_t)req.pid != a->pid || LOAD(r->stage) >= SX_ST_EXECING) {
    in->stash[i] = req;
    in->stashed[i] = 1;
    return;
  }
  memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  ioctl(a->listeners[i], SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

/* Wait for the workload to exec or end, taking the listeners it hands over and answering
** its own notified syscalls meanwhile. Its end of the handover socket is the only other
** one, and closes on exec (or exit) after the kernel cleared workload_tid: the socket's
** hangup wakes this poll. */
static void await_exec(struct sx_agent *a) {
  struct inner *in = inner_of(a);
  struct sx_report *r = report_of(a);
  while (LOAD(r->workload_tid) != 0) {
    struct pollfd p[SX_AGENT_MAX_FILTERS + 1];
    size_t n = 0, which[SX_AGENT_MAX_FILTERS + 1];
    if (in->notifying == 0) {
      struct timespec ts = { 1, 0 };
      syscall(SYS_futex, &r->workload_tid, FUTEX_WAIT, 1, &ts, 0, 0);
      continue;
    }
    p[n] = (struct pollfd){ in->socket, POLLIN, 0 };
    which[n++] = SX_AGENT_MAX_FILTERS;
    for (size_t i = 0; i < a->nlisteners; i++)
      if (!in->stashed[i]) {
        p[n] = (struct pollfd){ a->listeners[i], POLLIN, 0 };
        which[n++] = i;
      }
    if (poll(p, n, 1000) <= 0) continue;
    for (size_t k = 0; k < n; k++) {
      if (!(p[k].revents & POLLIN)) continue;
      if (which[k] == SX_AGENT_MAX_FILTERS) take_listener(a);
      else answer_early(a, which[k]);
    }
    if ((p[0].revents & POLLHUP) && !(p[0].revents & POLLIN)) {   /* exec'd, or gone */
      struct timespec ts = { 0, 1000 * 1000 };
      syscall(SYS_futex, &r->workload_tid, FUTEX_WAIT, 1, &ts, 0, 0);
    }
  }
  while (a->nlisteners < in->notifying && poll_one(in->socket, 0) && take_listener(a)) {}
}

static int proceed_failed(struct sx_agent *a, struct sx_agent_error *err, int stage) {
  struct sx_report *r = report_of(a);
  int e = r->error, index = r->index, code;
  char what[200], path[200];           /* the path lives in the gate's pages: reap unmaps them */
  snprintf(path, sizeof path, "%s", inner_of(a)->plan.path);
  reap(a);
  switch (stage) {
  case SX_ST_NNP_FAILED: code = fail(err, SX_AGENT_E_SETUP, e, "setting no_new_privs failed", NULL); break;
  case SX_ST_CAPS_FAILED:
    code = fail(err, SX_AGENT_E_SETUP, e, "dropping CAP_SYS_PTRACE failed (without "
                "no_new_privs it needs CAP_SETPCAP)", NULL); break;
  case SX_ST_GUARD_FAILED:
    code = fail(err, SX_AGENT_E_SETUP, e, "installing the terminal guard failed", NULL); break;
  case SX_ST_INSTALL_FAILED: case SX_ST_HANDOVER_FAILED:
    snprintf(what, sizeof what, "the kernel refused filter %d%s", index + 1,
             stage == SX_ST_HANDOVER_FAILED ? " (handing its listener over)"
             : e == EBUSY ? " a listener: the process runs under a filter with one already "
                            "(an outer supervisor), and a process gets one"
             : e == EINVAL && index >= 0 && (size_t)index < SX_AGENT_MAX_FILTERS &&
               (inner_of(a)->plan.filters[index].flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
               ? " a listener whose calls a signal cannot withdraw (Linux 5.19 and later), "
                 "which this plan needs" : "");
    code = fail(err, SX_AGENT_E_INSTALL, e, "%s", what);
    if (err) err->index = index;
    break;
  case SX_ST_EXEC_FAILED: code = fail(err, SX_AGENT_E_EXEC, e, "%s", path); break;
  case SX_ST_AFFINITY_FAILED:
    code = fail(err, SX_AGENT_E_SETUP, e, "taking back the caller's CPU affinity failed", NULL);
    break;
  default: code = fail(err, SX_AGENT_E_DIED, 0, "the process died before execve", NULL);
  }
  return code;
}

/* Nothing runs: the plan cannot be kept (filter k, from 0). */
static int proceed_refused(struct sx_agent *a, struct sx_agent_error *err, size_t k, int rc) {
  sx_agent_release(a);
  if (err) err->index = (int)k;
  return rc;
}

/* Plan every filter as the workload will install it, with the actions of `notify` turned
** into notifications; on failure *at is the filter that failed. `replan`: the filters
** were planned otherwise since sx_agent_install; plan them as it does first. */
static int plan_all(struct sx_agent *a, unsigned notify, int replan, struct sx_agent_error *err,
                    size_t *at) {
  struct inner *in = inner_of(a);
  int rc;
  size_t last = 0, first;              /* last: the notifying filter + 1; 0: none */
  for (*at = 0; (notify || replan) && *at < a->nfilters; (*at)++)
    if ((rc = plan_door_if_fits(a, *at, notify, err)) != SX_AGENT_OK) return rc;
  in->notifying = 0;
  for (size_t k = 0; k < a->nfilters; k++)
    if (in->plan.filters[k].flags) {
      in->notifying++;
      last = k + 1;
    }
  /* The one filter that notifies hands its listener over under itself and the filters
  ** before it: they need the door. From the first of them planned without it, they are
  ** planned again with it, in order (a filter's plain fallback depends on the doors
  ** before it), and fail if it does not fit. The filters after it need no door. */
  for (first = 0; first < last && !in->doorless[first]; first++) {}
  for (*at = first; *at < last; (*at)++) {
    if ((rc = plan_filter(a, *at, notify, 1, err)) != SX_AGENT_OK) return rc;
    in->doorless[*at] = 0;
  }
  for (*at = last; *at < a->nfilters; (*at)++) {
    if ((rc = plan_filter(a, *at, notify, 0, err)) != SX_AGENT_OK) return rc;
    in->doorless[*at] = 1;
  }
  return SX_AGENT_OK;
}

int sx_agent_proceed(struct sx_agent *a, unsigned notify, struct sx_agent_error *err) {
  struct inner *in = inner_of(a);
  struct sx_report *r = report_of(a);
  size_t at;
  int stage, rc, plain = 0;
  if (a->state != SX_AGENT_PARKED)
    return a->state == SX_AGENT_RUNNING
      ? fail(err, SX_AGENT_E_NOT_PARKED, 0, "the process already proceeded to execve", NULL)
      : fail(err, SX_AGENT_E_NO_PROCESS, 0, "the process is gone", NULL);
  if (child_ended(a) || LOAD(r->workload_tid) == 0) {
    reap(a);
    return fail(err, SX_AGENT_E_NO_PROCESS, 0, "the process is gone", NULL);
  }
  rc = plan_all(a, notify, 0, err, &at);
  /* A filter too long for the kernel once its notifications' tails are added: where they
  ** only report, the workload installs the plan's plain filters, as without a listener,
  ** and a->unsupervised says why. */
  if (rc != SX_AGENT_OK && too_long(a, at) && !(notify & SX_AGENT_NOTIFY_REQUIRED)) {
    plain = 1;
    rc = plan_all(a, 0, 1, err, &at);
  }
  if (rc != SX_AGENT_OK) return proceed_refused(a, err, at, rc);
  in->plan.guard_redundant = guard_redundant(a);
  STORE(r->cmd, SX_CMD_PROCEED);
  syscall(SYS_futex, &r->cmd, FUTEX_WAKE, 1, 0, 0, 0);
  await_exec(a);
  stage = (int)LOAD(r->stage);
  if (stage != SX_ST_EXECING) return proceed_failed(a, err, stage);
  a->state = SX_AGENT_RUNNING;
  a->unsupervised = plain ? E2BIG : LOAD(r->unsupervised);
  close(in->socket);
  in->socket = -1;
  forget_keys(a);
  return SX_AGENT_OK;
}

/* ---- the parent: waiting, signals, the end -------------------------------------- */

/* Forward what signalfd `sfd` has read to the workload, unless the kernel sent it (a
** terminal's signals already reach the workload's process group). */
static void forward_signals(struct sx_agent *a, int sfd) {
  struct signalfd_siginfo si;
  while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
    if (si.ssi_code != SI_KERNEL && a->pidfd >= 0)
      syscall(SYS_pidfd_send_signal, a->pidfd, (int)si.ssi_signo, NULL, 0);
}

static void fail_closed(void *ctx, int listener, int filter, const struct seccomp_notif *req) {
  struct seccomp_notif_resp resp;
  (void)ctx;
  (void)filter;
  memset(&resp, 0, sizeof resp);
  resp.id = req->id;
  resp.error = -ENOSYS;
  ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

static void dispatch(struct sx_agent *a, size_t i, sx_agent_answer answer, void *ctx) {
  struct inner *in = inner_of(a);
  struct seccomp_notif req;
  if (in->stashed[i]) {
    in->stashed[i] = 0;
    answer(ctx, a->listeners[i], a->listener_filter[i], &in->stash[i]);
    return;
  }
  memset(&req, 0, sizeof req);
  if (ioctl(a->listeners[i], SECCOMP_IOCTL_NOTIF_RECV, &req) == 0)
    answer(ctx, a->listeners[i], a->listener_filter[i], &req);
}

/* Without a namespace the workload is our own child: one that asked to be traced
** (PTRACE_TRACEME) made us its tracer, and would wait in its stops for ever. Let it go
** as if untraced (the exec's SIGTRAP dropped). */
static void release_tracee(struct sx_agent *a) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (waitid(P_PID, (id_t)a->child, &info, WSTOPPED | WNOHANG | WNOWAIT | __WALL) == 0 &&
      info.si_pid == a->child && info.si_code == CLD_TRAPPED)
    ptrace(PTRACE_DETACH, a->child, 0, info.si_status == SIGTRAP ? 0 : info.si_status);
}

/* Poll the parent's child, the listeners and signalfd `sfd` (when >= 0) until the child
** ends, answering and forwarding meanwhile. */
static int supervise(struct sx_agent *a, int sfd, sx_agent_answer answer, void *ctx) {
  struct pollfd p[SX_AGENT_MAX_FILTERS + 2];
  struct timespec now, checked = { 0, 0 };
  for (size_t i = 0; i < a->nlisteners; i++)
    if (inner_of(a)->stashed[i]) dispatch(a, i, answer, ctx);
  for (;;) {
    size_t n = 0;
    int ready;
    p[n++] = (struct pollfd){ a->child_pidfd, POLLIN, 0 };
    p[n++] = (struct pollfd){ sfd, POLLIN, 0 };
    for (size_t i = 0; i < a->nlisteners; i++) p[n++] = (struct pollfd){ a->listeners[i], POLLIN, 0 };
    ready = poll(p, n, a->namespace ? -1 : 100);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (!a->namespace) {          /* a stopped tracee, every 100 ms however busy we are */
      clock_gettime(CLOCK_MONOTONIC, &now);
      if ((now.tv_sec - checked.tv_sec) * 1000 + (now.tv_nsec - checked.tv_nsec) / 1000000 >= 100) {
        release_tracee(a);
        checked = now;
      }
    }
    if (ready == 0) continue;
    for (size_t i = 0; i < a->nlisteners; i++) {
      if (p[2 + i].revents & POLLIN) dispatch(a, i, answer, ctx);
      else if (p[2 + i].revents & (POLLHUP | POLLERR | POLLNVAL)) {
        close(a->listeners[i]);       /* nobody is left under that filter */
        a->listeners[i] = -1;
      }
    }
    if (sfd >= 0 && (p[1].revents & POLLIN)) forward_signals(a, sfd);
    if (p[0].revents) return 0;
  }
}

int sx_agent_wait(struct sx_agent *a, const int *signals, size_t nsignals,
                  sx_agent_answer answer, void *ctx, int *status, struct sx_agent_error *err) {
  sigset_t set, old;
  int sfd = -1, rc = 0, e = 0;
  if (a->state == SX_AGENT_EMPTY)
    return fail(err, SX_AGENT_E_NO_PROCESS, 0, "no process was spawned", NULL);
  if (a->state == SX_AGENT_PARKED && !child_ended(a))
    return fail(err, SX_AGENT_E_PARKED, 0, "the process is parked: proceed first (or close "
                "it); waiting would never end", NULL);
  if (a->state != SX_AGENT_GONE) {
    if (nsignals) {
      sigemptyset(&set);
      for (size_t i = 0; i < nsignals; i++) sigaddset(&set, signals[i]);
      pthread_sigmask(SIG_BLOCK, &set, &old);
      sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
      if (sfd < 0) {
        e = errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return fail(err, SX_AGENT_E_SYSTEM, e, "wait: signalfd", NULL);
      }
    }
    rc = supervise(a, sfd, answer ? answer : fail_closed, ctx);
    e = errno;
    if (sfd >= 0) {
      forward_signals(a, sfd);   /* drain: what came too late is not left pending */
      close(sfd);
      pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (rc != 0) return fail(err, SX_AGENT_E_SYSTEM, e, "wait: poll", NULL);
    reap(a);
  }
  *status = a->status;
  return SX_AGENT_OK;
}

int sx_agent_ended(const struct sx_agent *a) {
  return a->state == SX_AGENT_GONE || (a->state != SX_AGENT_EMPTY && child_ended(a));
}

int sx_agent_kill(struct sx_agent *a, int sig, struct sx_agent_error *err) {
  if (a->state == SX_AGENT_EMPTY || a->state == SX_AGENT_GONE)
    return fail(err, SX_AGENT_E_NO_PROCESS, 0, "the process is gone", NULL);
  if (syscall(SYS_pidfd_send_signal, a->pidfd, sig, NULL, 0) != 0) {
    int e = errno;
    return fail(err, e == ESRCH ? SX_AGENT_E_NO_PROCESS : SX_AGENT_E_SYSTEM, e, "kill", NULL);
  }
  return SX_AGENT_OK;
}

const int *sx_agent_listeners(const struct sx_agent *a, size_t *n) {
  *n = a->nlisteners;
  return a->listeners;
}

void sx_agent_release(struct sx_agent *a) {
  int was = a->state, status = a->status;
  /* The children share this memory: they are gone before any of it is given back. */
  if (a->child > 0) {
    if (a->child_pidfd >= 0) syscall(SYS_pidfd_send_signal, a->child_pidfd, SIGKILL, NULL, 0);
    else kill(a->child, SIGKILL);
    reap(a);
    status = a->status;
  }
  close_fds(a);
  if (a->inner && inner_of(a)->socket >= 0) close(inner_of(a)->socket);
  if (a->inner && inner_of(a)->child_socket >= 0) close(inner_of(a)->child_socket);
  unmap_shared(a);
  for (size_t i = 0; i < a->nfilters; i++) {
    free(a->filters[i].insns);
    free(a->filters[i].plan);
    free(a->filters[i].plain);
  }
  free(a->inner);
  free(a->block);
  sx_agent_init(a);
  if (was != SX_AGENT_EMPTY) {   /* remember the end, so later calls say no_process */
    a->state = SX_AGENT_GONE;
    a->status = status;
  }
}

/*
** agent.c: the checkpointed spawn agent (see sx_agent.h for the contract).
**
** Everything the child needs (argv, envp, the resolved path, the sorted list of
** descriptors to keep) is built in the parent before fork; the child only makes raw
** syscalls and touches the shared page. The parent and the child talk through that
** MAP_SHARED page: the parent writes a command and bumps cmd_seq, the child does it
** and sets ack_seq. Either side sleeps in futex(2) on those words. After a filter is
** installed the child may be forbidden futex, so before each command the parent runs
** the installed programs through sx_emulate with the exact futex call the child will
** make, and tells the child whether to block in it or spin on the page.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sx_agent.h"

extern char **environ;

enum { CMD_NONE, CMD_INSTALL, CMD_PROCEED };

enum {
  STAGE_NONE, STAGE_PARKED, STAGE_CWD_FAILED, STAGE_INSTALLED, STAGE_INSTALL_FAILED,
  STAGE_NNP_FAILED, STAGE_EXECING, STAGE_EXEC_FAILED, STAGE_SETUP_FAILED
};

/* The shared page. The program to install is copied into `insns`, so the child reads
** it with no syscall. */
struct shared {
  uint32_t cmd_seq, ack_seq;
  int cmd, flags, set_nnp, futex_ok, wake_ok;
  int stage, error, listener;
  struct sock_fprog prog;
  struct sx_insn insns[SX_MAX_INSNS];
};

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

static const char *const code_names[] = {
  "ok", "not_ready", "running", "no_process", "system", "not_found", "cwd_failed",
  "install_failed", "blocked", "exec_failed", "bad_program", "died"
};

const char *sx_agent_code_name(int code) {
  if (code < 0 || code >= (int)(sizeof code_names / sizeof *code_names)) return "unknown";
  return code_names[code];
}

static int fail(struct sx_agent_error *err, int code, int e, const char *fmt, const char *arg) {
  if (err) {
    err->code = code;
    err->error = e;
    snprintf(err->message, sizeof err->message, fmt, arg ? arg : "");
  }
  return code;
}

void sx_agent_init(struct sx_agent *a) {
  memset(a, 0, sizeof *a);
  a->state = SX_AGENT_EMPTY;
  a->pidfd = a->exec_fd = a->listener = -1;
  a->filter_kill_nr = -1;
}

/* ---- the child ---------------------------------------------------------- */

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield");
#else
  __asm__ __volatile__("" ::: "memory");
#endif
}

static __attribute__((noreturn)) void child_exit(int code) {
  syscall(SYS_exit_group, code);
  __builtin_trap();          /* exit_group itself was denied: end without a syscall */
}

static __attribute__((noreturn)) void child_fail(struct shared *s, int stage, int e) {
  s->error = e;
  STORE(s->stage, stage);
  child_exit(127);
}

/* Close every descriptor but the sorted `keep` list (close_range over the gaps). */
static void close_others(const int *keep, size_t nkeep) {
  unsigned lo = 0;
  for (size_t i = 0; i <= nkeep; i++) {
    unsigned hi = i < nkeep ? (unsigned)keep[i] : ~0u;
    if (hi > lo) {
      if (syscall(SYS_close_range, lo, i < nkeep ? hi - 1 : ~0u, 0) != 0)
        for (unsigned fd = lo; fd < hi && fd < 65536; fd++) close((int)fd);
    }
    lo = hi + 1;
    if (i == nkeep || hi == ~0u) break;
  }
}

static __attribute__((noreturn)) void child_main(const struct sx_agent *a, struct shared *s,
                                                 const char *cwd, const int *keep,
                                                 size_t nkeep, const int *pass,
                                                 size_t npass) {
  /* A kernel sigaction of all zeros is SIG_DFL with no flags and an empty mask on every
  ** architecture; raw syscalls reach the signals glibc keeps for itself (32, 33) too. */
  static const unsigned long zeros[8];
  uint32_t done;
  /* The parent-death signal first, then check the parent did not die before it. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) child_fail(s, STAGE_SETUP_FAILED, errno);
  if (getppid() != a->parent) child_exit(127);
  for (int sig = 1; sig <= 64; sig++)   /* KILL and STOP refuse: fine */
    syscall(SYS_rt_sigaction, sig, zeros, NULL, sizeof(uint64_t));
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, zeros, NULL, sizeof(uint64_t));
  if (cwd && chdir(cwd) != 0) child_fail(s, STAGE_CWD_FAILED, errno);
  close_others(keep, nkeep);
  for (size_t i = 0; i < npass; i++) fcntl(pass[i], F_SETFD, 0);   /* survive execve */
  if (a->nnp_asked && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    child_fail(s, STAGE_NNP_FAILED, errno);
  done = 1;
  STORE(s->stage, STAGE_PARKED);
  STORE(s->ack_seq, done);
  syscall(SYS_futex, &s->ack_seq, FUTEX_WAKE, 1, 0, 0, 0);
  for (;;) {
    while (LOAD(s->cmd_seq) == done) {
      if (LOAD(s->futex_ok)) syscall(SYS_futex, &s->cmd_seq, FUTEX_WAIT, done, 0, 0, 0);
      else cpu_relax();
    }
    done = LOAD(s->cmd_seq);
    if (s->cmd == CMD_INSTALL) {
      long fd;
      if (s->set_nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        s->error = errno;
        STORE(s->stage, STAGE_NNP_FAILED);
      } else if ((fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->flags, &s->prog)) < 0) {
        s->error = errno;
        STORE(s->stage, STAGE_INSTALL_FAILED);
      } else {
        s->listener = (int)fd;
        STORE(s->stage, STAGE_INSTALLED);
      }
      STORE(s->ack_seq, done);
      if (LOAD(s->wake_ok)) syscall(SYS_futex, &s->ack_seq, FUTEX_WAKE, 1, 0, 0, 0);
    } else if (s->cmd == CMD_PROCEED) {
      STORE(s->stage, STAGE_EXECING);
      syscall(SYS_execve, a->path, a->argv, a->envp);
      child_fail(s, STAGE_EXEC_FAILED, errno);
    }
  }
}

/* ---- the parent: preparing ------------------------------------------------ */

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

/* Copy argv, envp and path into one block; a->argv etc. point into it. */
static int build_block(struct sx_agent *a, const char *const *argv, const char *const *envp,
                       const char *path) {
  size_t argc = count(argv), envc = count(envp), size, i;
  char **vec, *p;
  size = (argc + envc + 2) * sizeof(char *) + strlen(path) + 1;
  for (i = 0; i < argc; i++) size += strlen(argv[i]) + 1;
  for (i = 0; i < envc; i++) size += strlen(envp[i]) + 1;
  if (!(a->block = malloc(size))) return -1;
  vec = (char **)(void *)a->block;
  p = (char *)(vec + argc + envc + 2);
  for (i = 0; i < argc; i++) { vec[i] = p; p = stpcpy(p, argv[i]) + 1; }
  vec[argc] = NULL;
  for (i = 0; i < envc; i++) { vec[argc + 1 + i] = p; p = stpcpy(p, envp[i]) + 1; }
  vec[argc + 1 + envc] = NULL;
  a->argv = vec;
  a->envp = vec + argc + 1;
  a->path = p;
  strcpy(p, path);
  return 0;
}

/* ---- the parent: talking to the child --------------------------------------- */

static int child_exited(const struct sx_agent *a) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  return waitid(P_PID, (id_t)a->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == a->pid;
}

static void reap(struct sx_agent *a) {
  int status;
  while (waitpid(a->pid, &status, 0) < 0 && errno == EINTR) {}
  a->status = status;
  a->state = SX_AGENT_GONE;
}

/* Wait until the child acknowledged `seq`; -1 when it died first. When the filter keeps
** the child from waking us, poll every 50 microseconds instead of every 20 ms. */
static int wait_ack(struct sx_agent *a, uint32_t seq) {
  struct shared *s = a->page;
  for (;;) {
    uint32_t v = LOAD(s->ack_seq);
    struct timespec ts = { 0, LOAD(s->wake_ok) ? 20 * 1000 * 1000 : 50 * 1000 };
    if (v == seq) return 0;
    syscall(SYS_futex, &s->ack_seq, FUTEX_WAIT, v, &ts, 0, 0);
    if (LOAD(s->ack_seq) != seq && child_exited(a)) return LOAD(s->ack_seq) == seq ? 0 : -1;
  }
}

static int32_t action_rank(uint32_t action) {
  return (int32_t)(action & SX_RET_ACTION_FULL);
}

/* The kernel's answer of a stack of programs: the most restrictive, newest first on ties. */
static uint32_t combined(const struct sx_agent_filter *f, size_t n, const struct sx_insn *extra,
                         size_t elen, const struct sx_data *d) {
  uint32_t best = SX_RET_ALLOW, act;
  size_t executed;
  if (extra && sx_emulate(extra, elen, d, &act, &executed) == SX_OK) best = act;
  for (size_t i = n; i-- > 0;)
    if (sx_emulate(f[i].insns, f[i].len, d, &act, &executed) == SX_OK &&
        action_rank(act) < action_rank(best))
      best = act;
  return best;
}

static int allows(uint32_t action) {
  uint32_t kind = action & SX_RET_ACTION_FULL;
  return kind == SX_RET_ALLOW || kind == SX_RET_LOG;
}

static struct sx_data call_data(long nr, uint64_t a0, uint64_t a1, uint64_t a2) {
  struct sx_data d;
  memset(&d, 0, sizeof d);
  d.nr = (int32_t)nr;
  d.arch = sx_arch_audit(sx_arch_host());
  d.args[0] = a0; d.args[1] = a1; d.args[2] = a2;
  return d;
}

/* ---- the parent: the API ---------------------------------------------------- */

int sx_agent_spawn(struct sx_agent *a, const struct sx_spawn *o, struct sx_agent_error *err) {
  char path[PATH_MAX];
  int pipefd[2], *keep, saved, st;
  size_t nkeep = 0;
  struct shared *s;
  if (a->state != SX_AGENT_EMPTY) return fail(err, SX_AGENT_E_RUNNING, 0, "this process was already spawned", NULL);
  if (!o->argv || !o->argv[0]) return fail(err, SX_AGENT_E_NOT_FOUND, ENOENT, "argv is empty", NULL);
  if (sx_arch_host() < 0) return fail(err, SX_AGENT_E_SYSTEM, ENOSYS, "this architecture is not supported", NULL);
  if (resolve(o->argv[0], env_path(o->envp), o->cwd, path, sizeof path) != 0)
    return fail(err, SX_AGENT_E_NOT_FOUND, ENOENT, "%s: command not found", o->argv[0]);
  for (size_t i = 0; i < o->nfds; i++)
    if (o->fds[i] < 0 || fcntl(o->fds[i], F_GETFD) < 0)
      return fail(err, SX_AGENT_E_SYSTEM, EBADF, "fds: a descriptor to pass is not open", NULL);
  if (build_block(a, o->argv, o->envp ? o->envp : (const char *const *)environ, path) != 0)
    return fail(err, SX_AGENT_E_SYSTEM, ENOMEM, "spawn", NULL);
  keep = calloc(o->nfds + 4, sizeof *keep);
  if (!keep) { sx_agent_release(a); return fail(err, SX_AGENT_E_SYSTEM, ENOMEM, "spawn", NULL); }
  a->page_size = (sizeof *s + 4095) & ~(size_t)4095;
  a->page = mmap(NULL, a->page_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (a->page == MAP_FAILED) {
    saved = errno; a->page = NULL; free(keep); sx_agent_release(a);
    return fail(err, SX_AGENT_E_SYSTEM, saved, "spawn: mmap", NULL);
  }
  s = a->page;
  s->cmd_seq = 1;
  s->futex_ok = s->wake_ok = 1;
  s->prog.filter = (struct sock_filter *)(void *)s->insns;
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    saved = errno; free(keep); sx_agent_release(a);
    return fail(err, SX_AGENT_E_SYSTEM, saved, "spawn: pipe", NULL);
  }
  keep[nkeep++] = 0; keep[nkeep++] = 1; keep[nkeep++] = 2; keep[nkeep++] = pipefd[1];
  for (size_t i = 0; i < o->nfds; i++) keep[nkeep++] = o->fds[i];
  qsort(keep, nkeep, sizeof *keep, cmp_int);
  {   /* drop repeats */
    size_t j = 0;
    for (size_t i = 0; i < nkeep; i++) if (j == 0 || keep[j - 1] != keep[i]) keep[j++] = keep[i];
    nkeep = j;
  }
  a->nnp_asked = o->no_new_privs;
  a->nnp_needed = !o->no_new_privs && !has_cap_sys_admin();
  a->nnp_done = o->no_new_privs;
  a->parent = getpid();
  a->pid = fork();
  if (a->pid == 0) child_main(a, s, o->cwd, keep, nkeep, o->fds, o->nfds);
  saved = errno;
  free(keep);
  close(pipefd[1]);
  if (a->pid < 0) {
    close(pipefd[0]); a->pid = 0; sx_agent_release(a);
    return fail(err, SX_AGENT_E_SYSTEM, saved, "spawn: fork", NULL);
  }
  a->exec_fd = pipefd[0];
  a->state = SX_AGENT_PARKED;
  a->seq = 1;
  a->pidfd = (int)syscall(SYS_pidfd_open, a->pid, 0);
  if (a->pidfd < 0) {
    saved = errno; sx_agent_release(a);
    return fail(err, SX_AGENT_E_SYSTEM, saved, "spawn: pidfd_open", NULL);
  }
  if (wait_ack(a, 1) != 0) {
    st = LOAD(s->stage);
    saved = s->error;
    reap(a);
    if (st == STAGE_CWD_FAILED) return fail(err, SX_AGENT_E_CWD, saved, "cwd %s", o->cwd);
    if (st == STAGE_NNP_FAILED) return fail(err, SX_AGENT_E_INSTALL, saved, "no_new_privs", NULL);
    return fail(err, SX_AGENT_E_DIED, saved, "the child died before it was parked", NULL);
  }
  return SX_AGENT_OK;
}

static int state_error(const struct sx_agent *a, struct sx_agent_error *err) {
  switch (a->state) {
  case SX_AGENT_EMPTY: return fail(err, SX_AGENT_E_NOT_READY, 0, "no process is parked yet", NULL);
  case SX_AGENT_RUNNING: return fail(err, SX_AGENT_E_RUNNING, 0, "the process already proceeded to execve", NULL);
  default: return fail(err, SX_AGENT_E_NO_PROCESS, 0, "the process is gone", NULL);
  }
}

static int copy_filter(struct sx_agent_filter *f, const struct sx_insn *insns, size_t len) {
  if (!(f->insns = malloc(len * sizeof *insns))) return -1;
  memcpy(f->insns, insns, len * sizeof *insns);
  f->len = len;
  return 0;
}

int sx_agent_exec_action(const struct sx_agent *a, const struct sx_insn *insns, size_t len,
                         uint32_t *action) {
  struct sx_data d;
  size_t executed;
  struct sx_error e;
  if (a->state != SX_AGENT_PARKED) return SX_AGENT_E_NOT_READY;
  if (sx_check(insns, len, &e) != SX_OK) return SX_AGENT_E_BAD_PROGRAM;
  d = call_data(SYS_execve, (uintptr_t)a->path, (uintptr_t)a->argv, (uintptr_t)a->envp);
  return sx_emulate(insns, len, &d, action, &executed) == SX_OK ? SX_AGENT_OK
                                                                : SX_AGENT_E_BAD_PROGRAM;
}

int sx_agent_install(struct sx_agent *a, const struct sx_insn *insns, size_t len,
                     unsigned flags, const struct sx_insn *decide, size_t dlen,
                     struct sx_agent_error *err) {
  struct shared *s = a->page;
  struct sx_error check;
  struct sx_data d;
  uint32_t act, seq;
  int stage, e;
  if (a->state != SX_AGENT_PARKED) return state_error(a, err);
  if (child_exited(a)) return fail(err, SX_AGENT_E_NO_PROCESS, 0, "the process is gone", NULL);
  if (len == 0 || len > SX_MAX_INSNS || sx_check(insns, len, &check) != SX_OK ||
      (decide && sx_check(decide, dlen, &check) != SX_OK))
    return fail(err, SX_AGENT_E_BAD_PROGRAM, EINVAL, "the filter is not a valid program", NULL);
  if (a->ninstalled == SX_AGENT_MAX_FILTERS)
    return fail(err, SX_AGENT_E_BAD_PROGRAM, E2BIG, "too many filters", NULL);
  if ((flags & SX_AGENT_GUARD) && a->guarded)
    return fail(err, SX_AGENT_E_BAD_PROGRAM, EBUSY, "an exec guard is already installed", NULL);
  /* Would the filters already there let the child call seccomp(2)? */
  d = call_data(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                (flags & SX_AGENT_GUARD) ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0,
                (uintptr_t)&s->prog);
  act = combined(a->installed, a->ninstalled, NULL, 0, &d);
  if ((act & SX_RET_ACTION_FULL) == SX_RET_ERRNO)
    return fail(err, SX_AGENT_E_INSTALL, (int)(act & SX_RET_DATA),
                "a filter installed before denies seccomp(2)", NULL);
  if (!allows(act))
    return fail(err, SX_AGENT_E_BLOCKED, 0,
                "a filter installed before forbids seccomp(2), so no other filter can follow", NULL);
  seq = a->seq + 1;
  memcpy(s->insns, insns, len * sizeof *insns);
  s->prog.len = (unsigned short)len;
  s->flags = (flags & SX_AGENT_GUARD) ? (int)SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  s->set_nnp = a->nnp_needed && !a->nnp_done;
  s->cmd = CMD_INSTALL;
  s->listener = -1;
  /* the exact futex calls the child will make with this filter in place */
  d = call_data(SYS_futex, (uintptr_t)&s->cmd_seq, FUTEX_WAIT, seq);
  STORE(s->futex_ok, allows(combined(a->installed, a->ninstalled, insns, len, &d)));
  d = call_data(SYS_futex, (uintptr_t)&s->ack_seq, FUTEX_WAKE, 1);
  STORE(s->wake_ok, allows(combined(a->installed, a->ninstalled, insns, len, &d)));
  STORE(s->cmd_seq, seq);
  syscall(SYS_futex, &s->cmd_seq, FUTEX_WAKE, 1, 0, 0, 0);
  if (wait_ack(a, seq) != 0) {
    reap(a);
    return fail(err, SX_AGENT_E_NO_PROCESS, 0, "the process died while installing the filter", NULL);
  }
  a->seq = seq;
  stage = LOAD(s->stage);
  e = s->error;
  if (stage == STAGE_NNP_FAILED)
    return fail(err, SX_AGENT_E_INSTALL, e, "no_new_privs", NULL);
  if (stage == STAGE_INSTALL_FAILED)
    return fail(err, SX_AGENT_E_INSTALL, e, "the kernel refused the filter", NULL);
  if (s->set_nnp) a->nnp_done = 1;
  if (copy_filter(&a->installed[a->ninstalled], insns, len) != 0) {
    sx_agent_release(a);
    return fail(err, SX_AGENT_E_SYSTEM, ENOMEM, "install", NULL);
  }
  a->ninstalled++;
  if (decide) {
    if (copy_filter(&a->decide[a->ndecide], decide, dlen) != 0) {
      sx_agent_release(a);
      return fail(err, SX_AGENT_E_SYSTEM, ENOMEM, "install", NULL);
    }
    a->ndecide++;
  }
  if (flags & SX_AGENT_GUARD) {
    a->guarded = 1;
    a->listener = (int)syscall(SYS_pidfd_getfd, a->pidfd, s->listener, 0);
    if (a->listener < 0) {
      /* without the listener the child could never exec: do not leave it behind */
      e = errno;
      sx_agent_release(a);
      return fail(err, SX_AGENT_E_SYSTEM, e, "pidfd_getfd", NULL);
    }
  }
  return SX_AGENT_OK;
}

/* ---- the supervisor: answering execve notifications -------------------------- */

/* Kill the thread group that `tid` belongs to; 1 when that is the workload itself. */
static int kill_caller(const struct sx_agent *a, pid_t tid) {
  char file[64], line[128];
  FILE *f;
  pid_t tgid = tid;
  snprintf(file, sizeof file, "/proc/%d/status", (int)tid);
  if ((f = fopen(file, "re"))) {
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "Tgid: %d", &tgid) == 1) break;
    fclose(f);
  }
  kill(tid, SIGKILL);
  return tgid == a->pid;
}

static void handle_notification(struct sx_agent *a) {
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  struct sx_data d;
  uint32_t act, kind;
  memset(&req, 0, sizeof req);
  if (ioctl(a->listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) return;   /* caller gone */
  memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  if (a->state == SX_AGENT_PARKED && !a->own_exec_done && (pid_t)req.pid == a->pid &&
      req.data.nr == SYS_execve && req.data.arch == sx_arch_audit(sx_arch_host()) &&
      req.data.args[0] == (uintptr_t)a->path && req.data.args[1] == (uintptr_t)a->argv &&
      req.data.args[2] == (uintptr_t)a->envp) {
    /* The agent's own execve: nothing but our code runs in the child before it. */
    a->own_exec_done = 1;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  } else {
    memset(&d, 0, sizeof d);
    d.nr = req.data.nr;
    d.arch = req.data.arch;
    d.instruction_pointer = req.data.instruction_pointer;
    memcpy(d.args, req.data.args, sizeof d.args);
    act = combined(a->decide, a->ndecide, NULL, 0, &d);
    kind = act & SX_RET_ACTION_FULL;
    if (kind == SX_RET_ALLOW || kind == SX_RET_LOG) {
      resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    } else if (kind == SX_RET_ERRNO) {
      resp.error = -(int32_t)(act & SX_RET_DATA);
    } else if (kind == SX_RET_TRACE || kind == SX_RET_USER_NOTIF) {
      resp.error = -ENOSYS;     /* what the kernel says when there is no tracer/listener */
    } else {
      /* kill_process, kill_thread, trap: the exec must never run. The notification is
      ** still pending, so the caller cannot have exited and its pid is not reused. */
      if (ioctl(a->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id) == 0 &&
          kill_caller(a, (pid_t)req.pid))
      {
        a->filter_kill_nr = req.data.nr;
        a->filter_kill_arch = req.data.arch;
      }
      resp.error = -EPERM;
    }
  }
  ioctl(a->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

/* Forward what signalfd `sfd` has read to the child, unless the kernel sent it (a
** terminal's signals already reach the child's process group). */
static void forward_signals(struct sx_agent *a, int sfd) {
  struct signalfd_siginfo si;
  while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
    if (si.ssi_code != SI_KERNEL && a->pidfd >= 0)
      syscall(SYS_pidfd_send_signal, a->pidfd, (int)si.ssi_signo, NULL, 0);
}

/* Poll `fd` (and the listener, and signalfd `sfd` when >= 0) until fd is readable or
** hung up, answering notifications and forwarding signals meanwhile. */
static int supervise_until(struct sx_agent *a, int fd, int sfd) {
  for (;;) {
    struct pollfd p[3] = { { fd, POLLIN, 0 }, { a->listener, POLLIN, 0 }, { sfd, POLLIN, 0 } };
    int n = poll(p, 3, -1);   /* negative fds are skipped */
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (a->listener >= 0 && (p[1].revents & POLLIN)) handle_notification(a);
    else if (a->listener >= 0 && (p[1].revents & (POLLHUP | POLLERR | POLLNVAL))) {
      close(a->listener);       /* nobody is left under the filter */
      a->listener = -1;
    }
    if (sfd >= 0 && (p[2].revents & POLLIN)) forward_signals(a, sfd);
    if (p[0].revents) return 0;
  }
}

int sx_agent_proceed(struct sx_agent *a, struct sx_agent_error *err) {
  struct shared *s = a->page;
  int stage, e;
  uint32_t seq;
  if (a->state != SX_AGENT_PARKED) return state_error(a, err);
  if (child_exited(a)) return fail(err, SX_AGENT_E_NO_PROCESS, 0, "the process is gone", NULL);
  seq = a->seq + 1;
  s->cmd = CMD_PROCEED;
  STORE(s->cmd_seq, seq);
  syscall(SYS_futex, &s->cmd_seq, FUTEX_WAKE, 1, 0, 0, 0);
  a->seq = seq;
  if (supervise_until(a, a->exec_fd, -1) != 0) {
    e = errno;
    return fail(err, SX_AGENT_E_SYSTEM, e, "proceed: poll", NULL);
  }
  close(a->exec_fd);
  a->exec_fd = -1;
  stage = LOAD(s->stage);
  e = s->error;
  a->state = SX_AGENT_RUNNING;
  if (stage == STAGE_EXEC_FAILED) {
    reap(a);
    return fail(err, SX_AGENT_E_EXEC, e, "%s", a->path);
  }
  if (stage != STAGE_EXECING) {
    reap(a);
    return fail(err, SX_AGENT_E_NO_PROCESS, 0, "the process died before execve", NULL);
  }
  return SX_AGENT_OK;
}

int sx_agent_wait_forward(struct sx_agent *a, const int *signals, size_t nsignals, int *status,
                          struct sx_agent_error *err) {
  sigset_t set, old;
  int sfd = -1, rc = 0, e = 0;
  if (a->state == SX_AGENT_EMPTY) return state_error(a, err);
  if (a->state != SX_AGENT_GONE) {
    if (nsignals) {
      sigemptyset(&set);
      for (size_t i = 0; i < nsignals; i++) sigaddset(&set, signals[i]);
      sigprocmask(SIG_BLOCK, &set, &old);
      sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
      if (sfd < 0) {
        e = errno;
        sigprocmask(SIG_SETMASK, &old, NULL);
        return fail(err, SX_AGENT_E_SYSTEM, e, "wait: signalfd", NULL);
      }
    }
    rc = supervise_until(a, a->pidfd, sfd);
    e = errno;
    if (sfd >= 0) {
      forward_signals(a, sfd);   /* drain: what came too late is not left pending */
      close(sfd);
      sigprocmask(SIG_SETMASK, &old, NULL);
    }
    if (rc != 0) return fail(err, SX_AGENT_E_SYSTEM, e, "wait: poll", NULL);
    reap(a);
  }
  *status = a->status;
  return SX_AGENT_OK;
}

int sx_agent_wait(struct sx_agent *a, int *status, struct sx_agent_error *err) {
  return sx_agent_wait_forward(a, NULL, 0, status, err);
}

int sx_agent_kill(struct sx_agent *a, int sig, struct sx_agent_error *err) {
  if (a->state == SX_AGENT_EMPTY || a->state == SX_AGENT_GONE) return state_error(a, err);
  if (syscall(SYS_pidfd_send_signal, a->pidfd, sig, NULL, 0) != 0) {
    int e = errno;
    return fail(err, e == ESRCH ? SX_AGENT_E_NO_PROCESS : SX_AGENT_E_SYSTEM, e, "kill", NULL);
  }
  return SX_AGENT_OK;
}

void sx_agent_unsupervise(struct sx_agent *a) {
  if (a->listener >= 0) close(a->listener);
  a->listener = -1;
}

void sx_agent_release(struct sx_agent *a) {
  if (a->pid > 0 && (a->state == SX_AGENT_PARKED || a->state == SX_AGENT_RUNNING)) {
    if (a->pidfd >= 0) syscall(SYS_pidfd_send_signal, a->pidfd, SIGKILL, NULL, 0);
    else kill(a->pid, SIGKILL);
    reap(a);
  }
  if (a->pidfd >= 0) close(a->pidfd);
  if (a->exec_fd >= 0) close(a->exec_fd);
  if (a->listener >= 0) close(a->listener);
  if (a->page) munmap(a->page, a->page_size);
  free(a->block);
  for (size_t i = 0; i < a->ninstalled; i++) free(a->installed[i].insns);
  for (size_t i = 0; i < a->ndecide; i++) free(a->decide[i].insns);
  {
    int was = a->state, status = a->status, fk = a->filter_kill_nr;
    uint32_t fka = a->filter_kill_arch;
    sx_agent_init(a);
    if (was != SX_AGENT_EMPTY) {   /* remember the end, so later calls say no_process */
      a->state = SX_AGENT_GONE;
      a->status = status;
      a->filter_kill_nr = fk;
      a->filter_kill_arch = fka;
    }
  }
}

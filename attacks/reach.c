/* reach: a hostile workload that tries every way it knows to reach the process that
** supervises it (sxlua, "agent") and its reaper (pid 1 of the workload's PID namespace).
** Prints one line per attempt: "NAME RESULT" where RESULT is "ok ..." (a break, unless
** the line says it is expected) or an errno name. Targets are found through /proc, which
** is the host's: our PPid is the reaper (or sxlua without a namespace), its PPid is sxlua.
**
**   reach            run everything once
**   reach --userns   the same again inside a fresh user namespace of our own (a child)
*/
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(int e) {
  static char buf[32];
  const char *s = strerrorname_np(e);
  if (e == 0) return "ok";
  if (s) return s;
  snprintf(buf, sizeof buf, "E%d", e);
  return buf;
}

static void say(const char *who, const char *what, int e, const char *extra) {
  printf("%-8s %-28s %s%s%s\n", who, what, en(e), extra ? " " : "", extra ? extra : "");
}

static long field(long pid, const char *name) {
  char path[64], line[256];
  long v = -1;
  size_t n = strlen(name);
  FILE *f;
  snprintf(path, sizeof path, pid ? "/proc/%ld/status" : "/proc/self/status", pid);
  if (!(f = fopen(path, "r"))) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, name, n) == 0 && line[n] == ':') { v = strtol(line + n + 1, NULL, 10); break; }
  fclose(f);
  return v;
}

static void show_status_line(const char *name) {
  char line[256];
  size_t n = strlen(name);
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, name, n) == 0) printf("self     %s", line);
  fclose(f);
}

static void try_open(const char *who, long pid, const char *file, int flags) {
  char path[128], what[64], extra[96] = "";
  int fd;
  snprintf(path, sizeof path, "/proc/%ld/%s", pid, file);
  snprintf(what, sizeof what, "open %s%s", file, (flags & O_ACCMODE) == O_RDWR ? " rw" :
           (flags & O_ACCMODE) == O_WRONLY ? " w" : "");
  fd = open(path, flags);
  if (fd < 0) { say(who, what, errno, NULL); return; }
  if ((flags & O_ACCMODE) != O_WRONLY && !(flags & O_DIRECTORY) && !(flags & O_PATH)) {
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf);
    snprintf(extra, sizeof extra, "(opened; read: %s %zd)", n < 0 ? en(errno) : "ok", n);
  } else {
    snprintf(extra, sizeof extra, "(opened)");
  }
  say(who, what, 0, extra);
  close(fd);
}

static void try_readlink(const char *who, long pid, const char *file) {
  char path[128], what[64], target[256];
  ssize_t n;
  snprintf(path, sizeof path, "/proc/%ld/%s", pid, file);
  snprintf(what, sizeof what, "readlink %s", file);
  n = readlink(path, target, sizeof target - 1);
  if (n < 0) { say(who, what, errno, NULL); return; }
  target[n] = 0;
  say(who, what, 0, target);
}

static void try_dir(const char *who, long pid, const char *file) {
  char path[128], what[64], extra[64];
  DIR *d;
  int count = 0;
  snprintf(path, sizeof path, "/proc/%ld/%s", pid, file);
  snprintf(what, sizeof what, "list %s", file);
  if (!(d = opendir(path))) { say(who, what, errno, NULL); return; }
  errno = 0;
  while (readdir(d)) count++;
  snprintf(extra, sizeof extra, "(%d entries, errno %s)", count, en(errno));
  say(who, what, 0, extra);
  closedir(d);
}

static void try_fds(const char *who, long pid) {
  int opened = 0, linked = 0, first = 0;
  for (int fd = 0; fd < 64; fd++) {
    char path[128], target[256];
    int f;
    snprintf(path, sizeof path, "/proc/%ld/fd/%d", pid, fd);
    if (readlink(path, target, sizeof target) >= 0) linked++;
    else if (!first && errno != ENOENT) first = errno;
    f = open(path, O_RDONLY | O_NONBLOCK);
    if (f >= 0) { opened++; close(f); }
  }
  if (linked || opened) {
    char extra[64];
    snprintf(extra, sizeof extra, "(readlink %d, open %d of fds 0..63)", linked, opened);
    say(who, "fd/N readlink+open", 0, extra);
  } else {
    say(who, "fd/N readlink+open", first ? first : ENOENT, NULL);
  }
}

static void try_tasks(const char *who, long pid) {
  char path[128];
  DIR *d;
  struct dirent *e;
  int mem_ok = 0, n = 0, first = 0;
  snprintf(path, sizeof path, "/proc/%ld/task", pid);
  if (!(d = opendir(path))) { say(who, "task/*/mem", errno, NULL); return; }
  while ((e = readdir(d))) {
    char p2[256];
    int fd;
    if (e->d_name[0] == '.') continue;
    n++;
    snprintf(p2, sizeof p2, "/proc/%ld/task/%s/mem", pid, e->d_name);
    fd = open(p2, O_RDWR);
    if (fd >= 0) { mem_ok++; close(fd); } else if (!first) first = errno;
    snprintf(p2, sizeof p2, "/proc/%ld/task/%s/fd/0", pid, e->d_name);
    fd = open(p2, O_RDONLY);
    if (fd >= 0) { mem_ok++; close(fd); }
  }
  closedir(d);
  if (mem_ok) say(who, "task/*/{mem,fd/0}", 0, "(opened)");
  else say(who, "task/*/{mem,fd/0}", first, NULL);
}

static void try_pidfd(const char *who, pid_t pid) {
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), got = 0, first = 0;
  char extra[64];
  if (pidfd < 0) { say(who, "pidfd_open", errno, NULL); return; }
  say(who, "pidfd_open", 0, "(a pidfd: harmless by itself)");
  for (int fd = 0; fd < 256; fd++) {
    int g = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    if (g >= 0) { got++; close(g); } else if (!first && errno != EBADF) first = errno;
  }
  snprintf(extra, sizeof extra, "(%d descriptors taken)", got);
  if (got) say(who, "pidfd_getfd", 0, extra); else say(who, "pidfd_getfd", first ? first : EBADF, NULL);
  say(who, "pidfd_send_signal 0", syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0 ? errno : 0, NULL);
  close(pidfd);
}

static void try_mem_syscalls(const char *who, pid_t pid) {
  char buf[16];
  static char target[16];
  struct iovec l = { buf, sizeof buf }, r = { target, sizeof target };
  say(who, "process_vm_readv", process_vm_readv(pid, &l, 1, &r, 1, 0) < 0 ? errno : 0, NULL);
  say(who, "process_vm_writev", process_vm_writev(pid, &l, 1, &r, 1, 0) < 0 ? errno : 0, NULL);
  say(who, "kcmp KCMP_VM", syscall(SYS_kcmp, getpid(), pid, KCMP_VM, 0, 0) < 0 ? errno : 0, NULL);
  say(who, "kcmp KCMP_FILE 0 0", syscall(SYS_kcmp, getpid(), pid, KCMP_FILE, 0, 0) < 0 ? errno : 0, NULL);
}

static void try_ptrace(const char *who, pid_t pid) {
  static const struct { long req; const char *name; } reqs[] = {
    { PTRACE_ATTACH, "ptrace ATTACH" }, { PTRACE_SEIZE, "ptrace SEIZE" } };
  for (size_t i = 0; i < 2; i++) {
    if (ptrace(reqs[i].req, pid, 0, 0) == 0) {
      say(who, reqs[i].name, 0, "(ATTACHED)");
      ptrace(PTRACE_DETACH, pid, 0, 0);
    } else {
      say(who, reqs[i].name, errno, NULL);
    }
  }
  {
    char buf[4096];
    long rc = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, buf);
    say(who, "PTRACE_SECCOMP_GET_FILTER", rc < 0 ? errno : 0, NULL);
  }
}

static void try_perf(const char *who, pid_t pid) {
  struct perf_event_attr a;
  long fd;
  memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.type = PERF_TYPE_SOFTWARE;
  a.config = PERF_COUNT_SW_TASK_CLOCK;
  a.sample_type = PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
  a.sample_regs_user = 0xff;
  a.sample_stack_user = 4096;
  a.sample_period = 100000;
  a.exclude_kernel = 1;
  fd = syscall(SYS_perf_event_open, &a, pid, -1, -1, 0);
  say(who, "perf_event_open(pid)", fd < 0 ? errno : 0, fd >= 0 ? "(sampling its registers/stack)" : NULL);
  if (fd >= 0) close((int)fd);
  /* system-wide on cpu 0: samples every process there, sxlua included */
  fd = syscall(SYS_perf_event_open, &a, -1, 0, -1, 0);
  say(who, "perf_event_open(-1, cpu0)", fd < 0 ? errno : 0, fd >= 0 ? "(SYSTEM-WIDE sampling)" : NULL);
  if (fd >= 0) close((int)fd);
}

static void target(const char *who, long hostpid, pid_t nspid) {
  static const char *reads[] = { "mem", "environ", "auxv", "maps", "smaps", "pagemap",
    "syscall", "stack", "cmdline", "io", "personality", "timerslack_ns", "fdinfo/0",
    "mountinfo", "stat", "wchan", "sched", "numa_maps", "ksm_stat", "arch_status", NULL };
  static const char *writes[] = { "mem", "clear_refs", "coredump_filter", "timerslack_ns",
    "oom_score_adj", "attr/current", "comm", NULL };
  char extra[64];
  snprintf(extra, sizeof extra, "(host pid %ld, our namespace calls it %d)", hostpid, (int)nspid);
  say(who, "target", 0, extra);
  for (int i = 0; reads[i]; i++) try_open(who, hostpid, reads[i], O_RDONLY);
  for (int i = 0; writes[i]; i++) try_open(who, hostpid, writes[i], i == 0 ? O_RDWR : O_WRONLY);
  try_open(who, hostpid, "ns/pid", O_RDONLY);
  try_open(who, hostpid, "ns/mnt", O_RDONLY);
  try_open(who, hostpid, "root", O_PATH);
  try_open(who, hostpid, "cwd", O_PATH);
  try_open(who, hostpid, "exe", O_RDONLY);
  try_readlink(who, hostpid, "cwd");
  try_readlink(who, hostpid, "root");
  try_readlink(who, hostpid, "exe");
  try_dir(who, hostpid, "fd");
  try_dir(who, hostpid, "map_files");
  try_dir(who, hostpid, "root/");
  try_fds(who, hostpid);
  try_tasks(who, hostpid);
  if (nspid > 0) {
    try_pidfd(who, nspid);
    try_mem_syscalls(who, nspid);
    try_ptrace(who, nspid);
    try_perf(who, nspid);
    say(who, "kill 0", kill(nspid, 0) < 0 ? errno : 0, NULL);
  } else {
    say(who, "kill(host pid, 0)", kill((pid_t)hostpid, 0) < 0 ? errno : 0,
        "(ESRCH: the host pid names nothing here)");
  }
  {   /* a pidfd from the /proc directory */
    char path[64];
    int d;
    snprintf(path, sizeof path, "/proc/%ld", hostpid);
    d = open(path, O_RDONLY | O_DIRECTORY);
    say(who, "pidfd_send_signal(/proc dir)", d < 0 ? errno :
        syscall(SYS_pidfd_send_signal, d, 0, NULL, 0) < 0 ? errno : 0, NULL);
    if (d >= 0) close(d);
  }
}

static void self_checks(void) {
  show_status_line("NoNewPrivs");
  show_status_line("Seccomp");
  show_status_line("Cap");
  show_status_line("NSpid");
  printf("self     uid %d euid %d pid %d ppid %d\n", getuid(), geteuid(), getpid(), getppid());
  {
    long fd = syscall(SYS_userfaultfd, O_CLOEXEC);
    say("self", "userfaultfd(full)", fd < 0 ? errno : 0, fd >= 0 ? "(can stall the supervisor's reads)" : NULL);
    if (fd >= 0) close((int)fd);
    fd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
    say("self", "userfaultfd(user only)", fd < 0 ? errno : 0, NULL);
    if (fd >= 0) close((int)fd);
    fd = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
      long u = ioctl((int)fd, USERFAULTFD_IOC_NEW, O_CLOEXEC);
      say("self", "/dev/userfaultfd NEW", u < 0 ? errno : 0, u >= 0 ? "(full uffd without CAP_SYS_PTRACE)" : NULL);
      close((int)fd);
    } else {
      say("self", "/dev/userfaultfd", errno, NULL);
    }
  }
}

static int run_all(const char *label) {
  long reaper = field(0, "PPid"), agent = reaper > 0 ? field(reaper, "PPid") : -1;
  int ns = getpid() != (pid_t)field(0, "Pid");    /* our pid differs from the host's */
  printf("== %s: %s\n", label, ns ? "in a PID namespace" : "in the host PID namespace");
  self_checks();
  if (ns) {
    target("reaper", reaper, 1);
    target("agent", agent, 0);
    say("reaper", "kill(1, SIGKILL)", kill(1, SIGKILL) < 0 ? errno : 0, "(ignored: ns init)");
    usleep(100000);
    say("reaper", "still there", kill(1, 0) < 0 ? errno : 0, NULL);
  } else {
    target("agent", reaper, getppid());
  }
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  run_all("as started");
  if (argc > 1 && strcmp(argv[1], "--userns") == 0) {
    pid_t c = fork();
    if (c == 0) {
      if (unshare(CLONE_NEWUSER) != 0) { say("self", "unshare(CLONE_NEWUSER)", errno, NULL); _exit(0); }
      say("self", "unshare(CLONE_NEWUSER)", 0, "(all capabilities in a new user ns)");
      run_all("in a new user namespace");
      _exit(0);
    }
    waitpid(c, NULL, 0);
  }
  return 0;
}

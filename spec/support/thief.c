/* thief: a workload that tries every way it knows to reach the process supervising it.
** Usage: thief [--exec]. Prints one line per attempt, "NAME ok" or "NAME ERRNAME":
**   ppid            what getppid() says (a number, not an attempt)
**   pidfd_getfd     pidfd_open(getppid()) and pidfd_getfd of its descriptors 0..255:
**                   "ok N" when N were taken; "listener" is printed when one of them is a
**                   seccomp listener
**   ptrace          PTRACE_ATTACH to getppid()
**   vm_read         process_vm_readv from getppid()
**   mem_parent, mem_agent      open /proc/PID/mem read-write, for the parent and for its
**                   parent (the pids read from /proc, which shows them whatever the
**                   namespace)
**   fd_agent        readlink /proc/AGENT/fd/0
**   kill_agent      kill(AGENT, 0): the agent's pid as the host names it
**   signal_agent    pidfd_send_signal(0) through an open /proc/AGENT
**   get_filter      PTRACE_SECCOMP_GET_FILTER on a stopped child of its own
** With --exec it then calls execve("/bin/true") and, when that returns, exits 100+errno. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *name(int e) {
  switch (e) {
  case 0: return "ok";
  case EPERM: return "EPERM";
  case EACCES: return "EACCES";
  case ESRCH: return "ESRCH";
  case EINVAL: return "EINVAL";
  case EBADF: return "EBADF";
  case EFAULT: return "EFAULT";
  case ENOENT: return "ENOENT";
  case ENOSYS: return "ENOSYS";
  default: return "other";
  }
}

static void say(const char *what, int e) {
  printf("%s %s\n", what, name(e));
}

/* The PPid: field of /proc/PID/status (the host's pids: /proc is the host's). */
static long ppid_of(long pid) {
  char path[64], line[256];
  long ppid = -1;
  FILE *f;
  snprintf(path, sizeof path, pid ? "/proc/%ld/status" : "/proc/self/status", pid);
  if (!(f = fopen(path, "r"))) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "PPid: %ld", &ppid) == 1) break;
  fclose(f);
  return ppid;
}

static void steal_descriptors(pid_t ppid) {
  int pidfd = (int)syscall(SYS_pidfd_open, ppid, 0), taken = 0, first = 0, listener = 0;
  if (pidfd < 0) { say("pidfd_getfd", errno); return; }
  for (int fd = 0; fd < 256; fd++) {
    int got = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    char link[64], target[128];
    ssize_t n;
    if (got < 0) {
      if (!first && errno != EBADF) first = errno;
      continue;
    }
    taken++;
    snprintf(link, sizeof link, "/proc/self/fd/%d", got);
    n = readlink(link, target, sizeof target - 1);
    if (n > 0) {
      target[n] = '\0';
      if (strstr(target, "seccomp")) listener = 1;
    }
    close(got);
  }
  if (taken) printf("pidfd_getfd ok %d\n", taken);
  else say("pidfd_getfd", first ? first : EBADF);
  if (listener) printf("listener\n");
  close(pidfd);
}

static void try_mem(const char *what, long pid) {
  char path[64];
  int fd;
  snprintf(path, sizeof path, "/proc/%ld/mem", pid);
  fd = open(path, O_RDWR);
  say(what, fd < 0 ? errno : 0);
  if (fd >= 0) close(fd);
}

static void get_filter(void) {
  pid_t child = fork();
  int status;
  long rc;
  char buf[8 * 4096];
  if (child == 0) {
    raise(SIGSTOP);
    _exit(0);
  }
  waitpid(child, &status, WUNTRACED);
  if (ptrace(PTRACE_SEIZE, child, 0, 0) != 0) {
    say("get_filter", errno);
  } else {
    rc = ptrace(PTRACE_SECCOMP_GET_FILTER, child, 0, buf);
    say("get_filter", rc < 0 ? errno : 0);
  }
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
}

int main(int argc, char **argv) {
  pid_t ppid = getppid();
  long host_parent = ppid_of(0), agent = host_parent > 0 ? ppid_of(host_parent) : -1;
  char buf[16], path[64];
  struct iovec local = { buf, sizeof buf }, remote = { (void *)&ppid, sizeof buf };
  int fd;
  printf("ppid %d\n", (int)ppid);
  steal_descriptors(ppid);
  if (ptrace(PTRACE_ATTACH, ppid, 0, 0) == 0) {
    say("ptrace", 0);
    ptrace(PTRACE_DETACH, ppid, 0, 0);
  } else {
    say("ptrace", errno);
  }
  say("vm_read", process_vm_readv(ppid, &local, 1, &remote, 1, 0) < 0 ? errno : 0);
  try_mem("mem_parent", host_parent);
  try_mem("mem_agent", agent);
  snprintf(path, sizeof path, "/proc/%ld/fd/0", agent);
  say("fd_agent", readlink(path, buf, sizeof buf) < 0 ? errno : 0);
  say("kill_agent", kill((pid_t)agent, 0) < 0 ? errno : 0);
  snprintf(path, sizeof path, "/proc/%ld", agent);
  fd = open(path, O_RDONLY | O_DIRECTORY);
  say("signal_agent", fd < 0 ? errno
                     : syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) < 0 ? errno : 0);
  get_filter();
  fflush(stdout);
  if (argc > 1 && strcmp(argv[1], "--exec") == 0) {
    execl("/bin/true", "true", (char *)NULL);
    return 100 + (errno < 100 ? errno : 99);
  }
  return 0;
}

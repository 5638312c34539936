/*
** probe.c: ask the real kernel what a filter does to one syscall.
**
** The child installs the filter and then may be forbidden every syscall, so it reports
** through a shared anonymous page, and ends with exit_group or, if that too is denied,
** with a trap instruction, which needs no syscall at all.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sx.h"

struct report {
  volatile int stage;          /* 0 nothing yet, 1 install failed, 2 the syscall returned */
  volatile long value;
  volatile int error;
};

static __attribute__((noreturn)) void child(const struct sx_insn *insns, size_t len, long nr,
                                            const uint64_t args[6], struct report *r) {
  struct sock_fprog prog = { (unsigned short)len, (struct sock_filter *)(void *)insns };
  long rv;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    r->error = errno;
    r->stage = 1;
    _exit(0);
  }
  rv = syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
  r->error = rv == -1 ? errno : 0;
  r->value = rv;
  r->stage = 2;
  syscall(SYS_exit_group, 0);
  __builtin_trap();
}

int sx_probe(const struct sx_insn *insns, size_t len, long nr, const uint64_t args[6],
             struct sx_probe_result *result) {
  struct report *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                          -1, 0);
  int status, saved;
  pid_t pid;
  if (r == MAP_FAILED) return -1;
  pid = fork();
  if (pid < 0) { saved = errno; munmap(r, sizeof *r); errno = saved; return -1; }
  if (pid == 0) child(insns, len, nr, args, r);
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) { saved = errno; munmap(r, sizeof *r); errno = saved; return -1; }
  if (r->stage == 1) *result = (struct sx_probe_result){ SX_PROBE_INSTALL_FAILED, r->error };
  else if (r->stage == 2 && r->error) *result = (struct sx_probe_result){ SX_PROBE_ERRNO, r->error };
  else if (r->stage == 2) *result = (struct sx_probe_result){ SX_PROBE_RETURNED, r->value };
  else *result = (struct sx_probe_result){ SX_PROBE_SIGNALED,
                                           WIFSIGNALED(status) ? WTERMSIG(status) : 0 };
  munmap(r, sizeof *r);
  return 0;
}

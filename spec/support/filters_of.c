/*
** filters_of PID: print the seccomp filters process PID runs under, as the kernel holds
** them (PTRACE_SECCOMP_GET_FILTER; needs CAP_SYS_ADMIN), one line a filter, oldest first:
** "code,jt,jf,k" per instruction in hex, space-separated. The process is seized, stopped
** for the reads and let go. Exit 0, or 1 with a message.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>

enum { MAX_INSNS = 4096 };

static int die(const char *what) {
  fprintf(stderr, "filters_of: %s: %s\n", what, strerror(errno));
  return 1;
}

/* Filter `index` of `pid` (0: the first installed) on stdout; 0 when there is no such. */
static int print_filter(pid_t pid, long index) {
  static struct sock_filter insns[MAX_INSNS];
  long n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)index, insns);
  if (n < 0) return errno == ENOENT ? 0 : -1;
  for (long i = 0; i < n; i++)
    printf("%s%x,%x,%x,%x", i ? " " : "", insns[i].code, insns[i].jt, insns[i].jf, insns[i].k);
  printf("\n");
  return 1;
}

int main(int argc, char **argv) {
  pid_t pid;
  int status, rc = 0;
  if (argc != 2) {
    fprintf(stderr, "usage: filters_of PID\n");
    return 2;
  }
  pid = (pid_t)atoi(argv[1]);
  if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0) return die("PTRACE_SEIZE");
  if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) != 0) return die("PTRACE_INTERRUPT");
  if (waitpid(pid, &status, __WALL) != pid) return die("waitpid");
  for (long index = 0; (rc = print_filter(pid, index)) == 1; index++) {}
  if (rc < 0) rc = die("PTRACE_SECCOMP_GET_FILTER");
  ptrace(PTRACE_DETACH, pid, 0, 0);
  return rc;
}

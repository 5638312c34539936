/*
** lsc_launch.c: the libseccomp launcher of the spawn benchmark.
**
**   lsc_launch RULEFILE -- program [args...]
**
** What a small C tool built on libseccomp does, to set against `sxlua policy.lua --
** program`: reads the rule file and builds the filter with libseccomp 2.5, forks; the
** child loads it (libseccomp sets no_new_privs) and execs the program; the parent waits
** and exits with the program's status (128+N for signal N), as sxlua does. With no
** program to run (an exec that fails) it exits 126 or 127 after the load.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lsc_build.h"

int main(int argc, char **argv) {
  struct rf_policy p;
  char why[300];
  void *ctx;
  pid_t pid;
  int rc, status;
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    fprintf(stderr, "usage: lsc_launch RULEFILE -- program [args...]\n");
    return 125;
  }
  if (rf_read_path(argv[1], &p, why, sizeof why) || !(ctx = lsc_context(&p, 1, why, sizeof why))) {
    fprintf(stderr, "lsc_launch: %s\n", why);
    return 125;
  }
  pid = fork();
  if (pid < 0) {
    perror("lsc_launch: fork");
    return 125;
  }
  if (pid == 0) {
    if ((rc = seccomp_load(ctx)) != 0) {
      fprintf(stderr, "lsc_launch: seccomp_load: %s\n", strerror(-rc));
      _exit(125);
    }
    execvp(argv[3], argv + 3);
    _exit(errno == ENOENT ? 127 : 126);
  }
  seccomp_release(ctx);
  rf_free(&p);
  if (waitpid(pid, &status, 0) != pid) {
    perror("lsc_launch: waitpid");
    return 125;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

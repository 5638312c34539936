/*
** lsc_launch.c: the libseccomp launcher of the spawn benchmark.
**
**   lsc_launch RULEFILE -- program [args...]
**
** Reads the rule file, builds the filter with libseccomp 2.5, loads it (libseccomp sets
** no_new_privs) and execs the program: what a small C tool built on libseccomp does, to
** set against `sxlua policy.lua -- program`.
*/
#define _GNU_SOURCE
#include <seccomp.h>
#include <string.h>
#include <unistd.h>

#include "lsc_build.h"

int main(int argc, char **argv) {
  struct rf_policy p;
  char why[300];
  void *ctx;
  int rc;
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    fprintf(stderr, "usage: lsc_launch RULEFILE -- program [args...]\n");
    return 125;
  }
  if (rf_read_path(argv[1], &p, why, sizeof why) || !(ctx = lsc_context(&p, 1, why, sizeof why))) {
    fprintf(stderr, "lsc_launch: %s\n", why);
    return 125;
  }
  if ((rc = seccomp_load(ctx)) != 0) {
    fprintf(stderr, "lsc_launch: seccomp_load: %s\n", strerror(-rc));
    return 125;
  }
  seccomp_release(ctx);
  rf_free(&p);
  execvp(argv[3], argv + 3);
  perror("lsc_launch: exec");
  return 126;
}

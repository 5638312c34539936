/* execer: a workload that calls execve after it started.
** Usage: execer [--after FILE] PATH [ARGS...]: wait until FILE exists (when given), then
** execve PATH; if execve returns, exit with 100 + its errno. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int i = 1;
  struct stat st;
  if (argc > 3 && strcmp(argv[1], "--after") == 0) {
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    while (stat(argv[2], &st) != 0) nanosleep(&ts, NULL);
    i = 3;
  }
  if (i >= argc) return 2;
  execv(argv[i], argv + i);
  return 100 + (errno < 100 ? errno : 99);
}

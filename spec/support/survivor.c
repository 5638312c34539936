/* survivor: a workload that tries to outlive its supervisor.
** Usage: survivor DIR. It clears its parent-death signal and forks; each of the two writes
** its pid as the host sees it (the name /proc/self points at) to DIR/parent or DIR/child,
** then waits. On SIGUSR1 each execs "sh -c 'echo ran >> DIR/ran'". */
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig) {
  (void)sig;
  go = 1;
}

int main(int argc, char **argv) {
  char path[PATH_MAX], self[32], cmd[PATH_MAX + 32];
  ssize_t n;
  FILE *f;
  pid_t child;
  if (argc != 2) return 2;
  signal(SIGUSR1, on_usr1);
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  child = fork();
  n = readlink("/proc/self", self, sizeof self - 1);
  if (n <= 0) return 3;
  self[n] = '\0';
  snprintf(path, sizeof path, "%s/%s", argv[1], child == 0 ? "child" : "parent");
  if (!(f = fopen(path, "w"))) return 4;
  fprintf(f, "%s\n", self);
  fclose(f);
  while (!go) pause();
  snprintf(cmd, sizeof cmd, "echo ran >> %s/ran", argv[1]);
  execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
  return 5;
}

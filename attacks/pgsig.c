/* pgsig: signal our process group, kill(0, SIG). The workload keeps sxlua's process group
** (and session): inside its PID namespace, where sxlua's pid means nothing, kill(0, ...)
** still reaches sxlua and every other process of the group outside the sandbox, such as
** the shell script that started sxlua. Usage: pgsig SIGNUM (default 9). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int sig = argc > 1 ? atoi(argv[1]) : SIGKILL;
  printf("pgsig: pid %d (pgid as we see it: %d), kill(0, %d)\n", getpid(), getpgrp(), sig);
  fflush(stdout);
  if (kill(0, sig) != 0) perror("kill");
  pause();
  return 0;
}

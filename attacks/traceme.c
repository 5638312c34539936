/* traceme: make the reaper (our parent, pid 1 of the namespace) our tracer with
** PTRACE_TRACEME, then stop. The reaper's wait4(__WALL) reports the stop as if we ended. */
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <unistd.h>
int main(void) {
  long rc = ptrace(PTRACE_TRACEME, 0, 0, 0);
  printf("traceme: PTRACE_TRACEME -> %ld\n", rc);
  fflush(stdout);
  raise(SIGUSR2);
  printf("traceme: still running\n");
  return 0;
}

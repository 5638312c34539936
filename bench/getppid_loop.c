/*
** getppid_loop.c: a workload for the supervisor's notification round trip (issue 13).
**
**   getppid_loop N [EXPECT]
**
** Calls getppid N times (glibc makes the syscall each time: nothing is cached). With
** EXPECT, exits 1 unless every call returned it: under a policy whose `on.getppid`
** handler answers call:ret(EXPECT), that shows each call went through the supervisor.
*/
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n, expect = -1, wrong = 0;
  if (argc < 2 || (n = atol(argv[1])) < 0) {
    fprintf(stderr, "usage: getppid_loop N [EXPECT]\n");
    return 2;
  }
  if (argc > 2) expect = atol(argv[2]);
  for (long i = 0; i < n; i++)
    if ((long)getppid() != expect) wrong++;
  return expect >= 0 && wrong > 0;
}

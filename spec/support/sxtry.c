/* sxtry: make one raw syscall and say what the kernel answered.
** Usage: sxtry NR [ARG0..ARG5]; exits 0 when the call returned, with its errno when it
** failed, so a spec reads the answer from the exit status. Prints nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long a[6] = { 0 }, nr, rv;
  if (argc < 2) return 2;
  nr = strtol(argv[1], NULL, 0);
  for (int i = 2; i < argc && i < 8; i++) a[i - 2] = strtol(argv[i], NULL, 0);
  rv = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  return rv == -1 ? errno : 0;
}

/* sti32: TIOCSTI through i386 int $0x80 (and native, as a control) on a pty this process
** opens; a root workload passes the kernel's own check (CAP_SYS_ADMIN). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
static long i386(long nr, long a, long b, long c) {
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return r;
}
int main(void) {
  int m = posix_openpt(O_RDWR | O_NOCTTY), s;
  char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (m < 0 || grantpt(m) || unlockpt(m) || (s = open(ptsname(m), O_RDWR | O_NOCTTY)) < 0) { perror("pty"); return 1; }
  low[0] = 'x'; low[1] = 'y';
  printf("i386 ioctl TIOCSTI -> %ld\n", i386(54, s, TIOCSTI, (long)low));     /* i386 ioctl = 54 */
  long r64 = syscall(SYS_ioctl, s, TIOCSTI, low + 1);
  printf("x86_64 ioctl TIOCSTI -> %ld (%s)\n", r64, r64 < 0 ? strerror(errno) : "ok");
  return 0;
}

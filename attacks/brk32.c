/* brk32: the broker's denials on the i386 ABI (int $0x80), and AF_UNIX bind/connect by
** path outside the tenant. Usage: brk32 OUTSIDE_FILE|- SOCKET_PATH BIND_PATH */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
static long i386(long nr, long a, long b, long c) {
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return r;
}
int main(int argc, char **argv) {
  char *low = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  char *p1 = low, *p2 = low + 4096, buf[128];
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int s;
  if (argc < 4) return 2;
  strcpy(p1, argv[1]);
  if (argv[1][0] == '-') goto sockets;       /* "-": the AF_UNIX part only */
  long fd = i386(5, (long)p1, O_RDONLY, 0);                 /* i386 open */
  printf("i386 open(%s) -> %ld", argv[1], fd);
  if (fd >= 0) { long n = read((int)fd, buf, sizeof buf - 1); if (n > 0) { buf[n] = 0; printf(" READ: %s", buf); } }
  printf("\n");
  snprintf(p2, 4096, "%s.linked", argv[1]);
  printf("i386 link -> %ld\n", i386(9, (long)p1, (long)p2, 0));
  printf("i386 chmod 0777 -> %ld\n", i386(15, (long)p1, 0777, 0));
  printf("i386 truncate -> %ld\n", i386(92, (long)p1, 0, 0));
sockets:
  s = socket(AF_UNIX, SOCK_STREAM, 0);
  strncpy(sa.sun_path, argv[2], sizeof sa.sun_path - 1);
  if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0) {
    long n = read(s, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("connect(%s) -> 0, the server said: %s", argv[2], buf);
  } else printf("connect(%s) -> %s\n", argv[2], strerror(errno));
  s = socket(AF_UNIX, SOCK_STREAM, 0);
  strncpy(sa.sun_path, argv[3], sizeof sa.sun_path - 1);
  printf("bind(%s) -> %s\n", argv[3], bind(s, (struct sockaddr *)&sa, sizeof sa) == 0 ? "0 (a file made outside the tenant)" : strerror(errno));
  return 0;
}

/* own_filter: stack a filter of our own that answers socket(2) with an errno, then call
** socket. In the kernel a kill from any filter of the stack beats an errno; but sxlua's
** filter returns SECCOMP_RET_USER_NOTIF for its kills (to report them), and an errno
** (or trap) from our own filter beats a notification: the kill never happens. Works under
** any policy that lets the workload call seccomp(2) or prctl(PR_SET_SECCOMP) (the
** @default group, hence @system-service, includes seccomp).
** Usage: own_filter [NR]   (default socket) */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long nr = argc > 1 ? strtol(argv[1], NULL, 0) : SYS_socket;
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog p = { 4, f };
  long rc;
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) != 0) { perror("seccomp"); return 2; }
  for (int i = 0; i < 100; i++) rc = syscall(nr, 1, 1, 0);
  printf("own_filter: syscall %ld made 100 times, last: %ld (%s); still alive\n", nr, rc,
         rc < 0 ? strerror(errno) : "ok");
  return 0;
}

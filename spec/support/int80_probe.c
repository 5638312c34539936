/*
** int80_probe.c: make one i386 system call (int $0x80) from an x86_64 process under a
** seccomp filter, so the kernel spec can watch what a filter does to a non-native ABI.
**
**   int80_probe FILTER.bpf NR [ARG0..ARG4]
**
** Forks; the child installs the filter (raw 8-byte instructions from the file), makes
** the call with the i386 numbering (seccomp sees AUDIT_ARCH_I386) and reports through a
** shared page. Prints one line: "returned V", "errno E", "signaled S" or
** "install_failed E". Only the five argument registers that do not need %ebp are used.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct report {
  volatile int stage;          /* 0 nothing, 1 install failed, 2 the call returned */
  volatile long value;
};

static long int80(long nr, const long a[5]) {
  long ret;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "a"(nr), "b"(a[0]), "c"(a[1]), "d"(a[2]), "S"(a[3]), "D"(a[4])
                   : "memory", "cc", "r8", "r9", "r10", "r11");
  return ret;
}

int main(int argc, char **argv) {
  static struct sock_filter insns[4096];
  struct sock_fprog prog;
  struct report *r;
  long nr, args[5] = { 0, 0, 0, 0, 0 };
  size_t len;
  int status;
  pid_t pid;
  FILE *f;
  if (argc < 3 || argc > 8) {
    fprintf(stderr, "usage: %s FILTER.bpf NR [ARG0..ARG4]\n", argv[0]);
    return 2;
  }
  if ((f = fopen(argv[1], "rb")) == NULL) { perror(argv[1]); return 2; }
  len = fread(insns, sizeof *insns, 4096, f);
  fclose(f);
  nr = strtol(argv[2], NULL, 0);
  for (int i = 3; i < argc; i++) args[i - 3] = (long)strtoul(argv[i], NULL, 0);
  r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (r == MAP_FAILED) { perror("mmap"); return 2; }
  prog.len = (unsigned short)len;
  prog.filter = insns;
  pid = fork();
  if (pid < 0) { perror("fork"); return 2; }
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
      r->value = errno;
      r->stage = 1;
      _exit(0);
    }
    r->value = int80(nr, args);
    r->stage = 2;
    syscall(SYS_exit_group, 0);
    __builtin_trap();
  }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) { perror("waitpid"); return 2; }
  if (r->stage == 1) printf("install_failed %ld\n", r->value);
  else if (r->stage == 2 && (int)r->value < 0 && (int)r->value > -4096)
    printf("errno %d\n", -(int)r->value);
  else if (r->stage == 2) printf("returned %d\n", (int)r->value);
  else printf("signaled %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return 0;
}

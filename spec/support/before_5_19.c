/*
** before_5_19 PROGRAM [ARG...]: run PROGRAM as on a kernel before Linux 5.19, as far as
** seccomp(2) tells: SECCOMP_SET_MODE_FILTER with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
** fails with EINVAL, as the kernels that lack the flag answer. Everything else is allowed.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#endif

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define DATA(field) offsetof(struct seccomp_data, field)
#define LOW(i) (DATA(args) + 8 * (i) + (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? 4 : 0))

#ifndef ARCH
int main(void) {
  fprintf(stderr, "before_5_19: not made for this architecture (add its AUDIT_ARCH)\n");
  return 77;
}
#else
int main(int argc, char **argv) {
  struct sock_filter insns[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, DATA(arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 0, 7),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, DATA(nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 0, 5),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LOW(0)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_SET_MODE_FILTER, 0, 3),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, LOW(1)),
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { sizeof insns / sizeof *insns, insns };
  if (argc < 2) {
    fprintf(stderr, "usage: before_5_19 PROGRAM [ARG...]\n");
    return 2;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    fprintf(stderr, "before_5_19: seccomp: %s\n", strerror(errno));
    return 2;
  }
  execvp(argv[1], argv + 1);
  fprintf(stderr, "before_5_19: %s: %s\n", argv[1], strerror(errno));
  return 127;
}
#endif

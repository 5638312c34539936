/*
** raw_syscall.h: syscalls that touch no thread-local state.
**
** The spawn agent's children share the parent's memory (CLONE_VM) and so its thread
** pointer: glibc's wrappers would write errno into the parent thread's TLS while that
** thread runs on. sx_sys returns -errno in the kernel's own way instead. Where no
** instruction sequence is written here, glibc's syscall() stands in (the one place the
** parent's errno can then change is a failed call in the child).
*/
#ifndef SX_RAW_SYSCALL_H
#define SX_RAW_SYSCALL_H

#include <errno.h>
#include <unistd.h>

#if defined(__x86_64__) && !defined(__ILP32__)
static inline long sx_sys(long n, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ __volatile__("syscall"
                       : "=a"(ret)
                       : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                       : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
static inline long sx_sys(long n, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ __volatile__("svc 0"
                       : "+r"(x0)
                       : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                       : "memory");
  return x0;
}
#elif defined(__riscv) && __riscv_xlen == 64
static inline long sx_sys(long n, long a, long b, long c, long d, long e, long f) {
  register long a7 __asm__("a7") = n;
  register long a0 __asm__("a0") = a;
  register long a1 __asm__("a1") = b;
  register long a2 __asm__("a2") = c;
  register long a3 __asm__("a3") = d;
  register long a4 __asm__("a4") = e;
  register long a5 __asm__("a5") = f;
  __asm__ __volatile__("ecall"
                       : "+r"(a0)
                       : "r"(a7), "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5)
                       : "memory");
  return a0;
}
#else
#include <sys/syscall.h>
static inline long sx_sys(long n, long a, long b, long c, long d, long e, long f) {
  long r = syscall(n, a, b, c, d, e, f);
  return r == -1 ? -errno : r;
}
#endif

#define SX_SYS0(n) sx_sys((n), 0, 0, 0, 0, 0, 0)
#define SX_SYS1(n, a) sx_sys((n), (long)(a), 0, 0, 0, 0, 0)
#define SX_SYS2(n, a, b) sx_sys((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define SX_SYS3(n, a, b, c) sx_sys((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SX_SYS4(n, a, b, c, d) sx_sys((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SX_SYS5(n, a, b, c, d, e) \
  sx_sys((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define SX_SYS6(n, a, b, c, d, e, f) \
  sx_sys((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

#endif

/* compat_exec: execve("/bin/true") through a non-native ABI of x86_64, to check that
** exec-once never lets one slip past. Usage: compat_exec i386|x32. The i386 call is
** int 0x80 (execve is 11 there), with its strings in the low 4 GiB; the x32 one is the
** syscall instruction with the x32 bit (execve is 520 there). Exits 100 + errno when the
** exec returns, 2 on misuse or on other architectures. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
#if defined(__x86_64__)
  char *low;
  uint32_t *vec;
  long rv;
  if (argc != 2) return 2;
  low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (low == MAP_FAILED) return 2;
  strcpy(low, "/bin/true");
  vec = (uint32_t *)(void *)(low + 64);   /* argv = { path, NULL }, envp = { NULL } */
  vec[0] = (uint32_t)(uintptr_t)low;
  vec[1] = 0;
  if (strcmp(argv[1], "i386") == 0) {
    __asm__ __volatile__("int $0x80" : "=a"(rv) : "a"(11L), "b"(low), "c"(vec), "d"(vec + 1)
                         : "r8", "r9", "r10", "r11", "memory");
  } else if (strcmp(argv[1], "x32") == 0) {
    __asm__ __volatile__("syscall" : "=a"(rv) : "a"(0x40000000L | 520), "D"(low), "S"(vec),
                         "d"(vec + 1) : "rcx", "r11", "memory");
  } else {
    return 2;
  }
  return 100 + (rv < 0 && -rv < 100 ? (int)-rv : 99);
#else
  (void)argc; (void)argv;
  return 2;
#endif
}

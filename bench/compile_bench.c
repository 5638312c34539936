/*
** compile_bench.c: compile time, rules -> BPF bytes, for sx and for libseccomp 2.5 on
** the same rule file (bench/rulefile.h).
**
**   compile_bench time sx|lsc|lsc2 FILE    median CPU ns per compile, over batches
**   compile_bench once sx|lsc|lsc2 FILE N  N compiles, for callgrind: only the functions
**                                          bench_sx_compile / bench_lsc_compile count
**                                          (--toggle-collect), so parsing is left out
**   compile_bench emit sx|lsc|lsc2 FILE    write the program to stdout
**   compile_bench api                      libseccomp's API level on this kernel
**
** sx compiles from syscall names (its own name lookup is inside the timing); libseccomp
** gets the names resolved by its own lookup inside the timing too, then its context is
** built, exported as BPF bytes through a reused memfd, and released, which is what a
** caller pays to get the bytes. lsc2 is libseccomp's binary tree (CTL_OPTIMIZE = 2).
** Times are CPU time (CLOCK_PROCESS_CPUTIME_ID): this is a shared, noisy 2-core VM.
*/
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <seccomp.h>
#include <unistd.h>

#include "lsc_build.h"

enum { BATCHES = 31 };

struct job {
  struct rf_policy rf;
  struct sx_policy sx;
  int arches[RF_MAX_ARCHES];
  int optimize;          /* 0: sx, 1 or 2: libseccomp */
  int memfd;
  size_t bytes;          /* size of the last program */
};

__attribute__((noinline)) int bench_sx_compile(struct job *j);
__attribute__((noinline)) int bench_lsc_compile(struct job *j);

int bench_sx_compile(struct job *j) {
  struct sx_program prog;
  struct sx_error err;
  int st = sx_compile(&j->sx, &prog, &err);
  if (st) {
    fprintf(stderr, "compile_bench: sx: %s: %s\n", sx_status_name(st), err.message);
    return -1;
  }
  j->bytes = prog.len * sizeof *prog.insns;
  sx_program_free(&prog);
  return 0;
}

int bench_lsc_compile(struct job *j) {
  unsigned char *bpf;
  size_t len;
  char why[300];
  if (lsc_compile(&j->rf, j->optimize, j->memfd, &bpf, &len, why, sizeof why)) {
    fprintf(stderr, "compile_bench: libseccomp: %s\n", why);
    return -1;
  }
  j->bytes = len;
  free(bpf);
  return 0;
}

static int compile_once(struct job *j) {
  return j->optimize ? bench_lsc_compile(j) : bench_sx_compile(j);
}

static double cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Batches of n compiles, n chosen so a batch takes about 20 ms; the median per compile. */
static int time_it(struct job *j) {
  double per[BATCHES], t0, spent;
  long n = 1;
  if (compile_once(j)) return 1;
  for (;;) {
    t0 = cpu_ns();
    for (long i = 0; i < n; i++) compile_once(j);
    spent = cpu_ns() - t0;
    if (spent > 20e6 || n > (1L << 24)) break;
    n *= 2;
  }
  for (int b = 0; b < BATCHES; b++) {
    t0 = cpu_ns();
    for (long i = 0; i < n; i++) compile_once(j);
    per[b] = (cpu_ns() - t0) / (double)n;
  }
  qsort(per, BATCHES, sizeof *per, cmp_double);
  printf("%.1f %ld %zu\n", per[BATCHES / 2], n * BATCHES, j->bytes);
  return 0;
}

static int emit(struct job *j) {
  if (j->optimize) {
    unsigned char *bpf;
    size_t len;
    char why[300];
    if (lsc_compile(&j->rf, j->optimize, j->memfd, &bpf, &len, why, sizeof why)) {
      fprintf(stderr, "compile_bench: libseccomp: %s\n", why);
      return 1;
    }
    fwrite(bpf, 1, len, stdout);
    free(bpf);
  } else {
    struct sx_program prog;
    struct sx_error err;
    if (sx_compile(&j->sx, &prog, &err)) {
      fprintf(stderr, "compile_bench: sx: %s\n", err.message);
      return 1;
    }
    fwrite(prog.insns, sizeof *prog.insns, prog.len, stdout);
    sx_program_free(&prog);
  }
  return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv) {
  struct job j;
  char why[300];
  int st = 1;
  if (argc == 2 && strcmp(argv[1], "api") == 0) {
    printf("%u\n", seccomp_api_get());
    return 0;
  }
  if (argc < 4) {
    fprintf(stderr, "usage: compile_bench time|once|emit sx|lsc|lsc2 FILE [N]\n");
    return 1;
  }
  memset(&j, 0, sizeof j);
  j.optimize = strcmp(argv[2], "lsc") == 0 ? 1 : strcmp(argv[2], "lsc2") == 0 ? 2 : 0;
  if (rf_read_path(argv[3], &j.rf, why, sizeof why)) {
    fprintf(stderr, "compile_bench: %s: %s\n", argv[3], why);
    return 1;
  }
  for (size_t a = 0; a < j.rf.narches; a++) {
    j.arches[a] = sx_arch_from_name(j.rf.arches[a]);
    if (j.arches[a] < 0) {
      fprintf(stderr, "compile_bench: unknown arch %s\n", j.rf.arches[a]);
      return 1;
    }
  }
  j.sx = (struct sx_policy){ j.rf.rules, j.rf.nrules, j.rf.default_action,
                             j.rf.bad_arch_action, j.arches, j.rf.narches };
  /* Under valgrind libseccomp's probe of seccomp(2) fails and it would drop to API level
  ** 1; SX_BENCH_LSC_API passes the level it detects natively (`compile_bench api`). */
  if (getenv("SX_BENCH_LSC_API") && seccomp_api_set((unsigned)atoi(getenv("SX_BENCH_LSC_API")))) {
    fprintf(stderr, "compile_bench: seccomp_api_set refused\n");
    return 1;
  }
  if ((j.memfd = memfd_create("compile_bench", 0)) < 0) { perror("memfd_create"); return 1; }
  if (strcmp(argv[1], "time") == 0) st = time_it(&j);
  else if (strcmp(argv[1], "emit") == 0) st = emit(&j);
  else if (strcmp(argv[1], "once") == 0 && argc >= 5) {
    long n = atol(argv[4]);
    st = 0;
    for (long i = 0; i < n && st == 0; i++) st = compile_once(&j);
    if (st == 0) printf("%zu\n", j.bytes);
  }
  close(j.memfd);
  rf_free(&j.rf);
  return st ? 1 : 0;
}

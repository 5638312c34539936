/*
** compile_bench.c: compile time, rules -> BPF bytes, for sx and for libseccomp 2.5 on
** the same rule file (bench/rulefile.h).
**
**   compile_bench time sx|lsc|lsc2 FILE    median CPU ns per compile, over batches
**   compile_bench pair FILE                sx and libseccomp in alternating batches:
**                                          median ns per compile of each, and the
**                                          median of the batch pairs' ratios
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

/* How many compiles take about `ns` of CPU time. */
static long batch_size(struct job *j, double ns) {
  long n = 1;
  for (;;) {
    double t0 = cpu_ns();
    for (long i = 0; i < n; i++) compile_once(j);
    if (cpu_ns() - t0 > ns || n > (1L << 24)) return n;
    n *= 2;
  }
}

/* CPU ns per compile over a batch of n. */
static double batch(struct job *j, long n) {
  double t0 = cpu_ns();
  for (long i = 0; i < n; i++) compile_once(j);
  return (cpu_ns() - t0) / (double)n;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return v[n / 2];
}

/* Batches of n compiles, n chosen so a batch takes about 20 ms; the median per compile. */
static int time_it(struct job *j) {
  double per[BATCHES];
  long n;
  if (compile_once(j)) return 1;
  n = batch_size(j, 20e6);
  for (int b = 0; b < BATCHES; b++) per[b] = batch(j, n);
  printf("%.1f %ld %zu\n", median(per, BATCHES), n * BATCHES, j->bytes);
  return 0;
}

/* sx (j) and libseccomp (peer) in alternating batches of about 10 ms each, so both see the
** same machine: this VM's speed drifts between runs far more than within a pair. */
static int time_pair(struct job *j, struct job *peer) {
  double sx[BATCHES], lsc[BATCHES], ratio[BATCHES];
  long n, m;
  if (compile_once(j) || compile_once(peer)) return 1;
  n = batch_size(j, 10e6);
  m = batch_size(peer, 10e6);
  for (int b = 0; b < BATCHES; b++) {
    sx[b] = batch(j, n);
    lsc[b] = batch(peer, m);
    ratio[b] = lsc[b] / sx[b];
  }
  printf("%.1f %.1f %.2f\n", median(sx, BATCHES), median(lsc, BATCHES), median(ratio, BATCHES));
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
  int pair = argc == 3 && strcmp(argv[1], "pair") == 0;
  const char *which = pair ? "sx" : argv[2], *file = pair ? argv[2] : argv[3];
  if (!pair && argc < 4) {
    fprintf(stderr, "usage: compile_bench time|once|emit sx|lsc|lsc2 FILE [N]\n"
                    "       compile_bench pair FILE\n");
    return 1;
  }
  memset(&j, 0, sizeof j);
  j.optimize = strcmp(which, "lsc") == 0 ? 1 : strcmp(which, "lsc2") == 0 ? 2 : 0;
  if (rf_read_path(file, &j.rf, why, sizeof why)) {
    fprintf(stderr, "compile_bench: %s: %s\n", file, why);
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
  else if (pair) {
    struct job peer = j;
    peer.optimize = 1;
    st = time_pair(&j, &peer);
  }
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

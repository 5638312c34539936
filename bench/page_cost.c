/*
** page_cost.c: what a page of fresh anonymous memory costs on this machine, touched one
** at a time (a fault each) and populated in one call (MADV_POPULATE_WRITE), as sxlua
** does with its heap (src/sxlua.c). For bench/spawn.lua.
**
**   page_cost PAGES ROUNDS   -> "FAULT_US POPULATE_US": CPU µs a page, the median of the
**                               rounds, each round the two ways in turn on fresh mappings;
**                               POPULATE_US is "-" where the kernel (before 5.14) has no
**                               MADV_POPULATE_WRITE
*/
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double cpu_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* CPU µs a page to map `pages` fresh pages, touch (or populate, then touch) each, unmap;
** -1 where populating is refused. */
static double round_of(size_t pages, int populate) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), len = pages * page;
  char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  double t;
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  t = cpu_us();
  if (populate && madvise(p, len, MADV_POPULATE_WRITE) != 0) {
    munmap(p, len);
    return -1;
  }
  for (size_t i = 0; i < len; i += page) ((volatile char *)p)[i] = 1;
  t = cpu_us() - t;
  munmap(p, len);
  return t / (double)pages;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  long pages = argc > 1 ? atol(argv[1]) : 0, rounds = argc > 2 ? atol(argv[2]) : 0;
  double *fault, *populate;
  if (pages < 1 || rounds < 1) {
    fprintf(stderr, "usage: page_cost PAGES ROUNDS\n");
    return 2;
  }
  fault = calloc((size_t)rounds, sizeof *fault);
  populate = calloc((size_t)rounds, sizeof *populate);
  if (!fault || !populate) return 1;
  for (long r = 0; r < rounds; r++) {
    fault[r] = round_of((size_t)pages, 0);
    populate[r] = round_of((size_t)pages, 1);
  }
  qsort(fault, (size_t)rounds, sizeof *fault, by_value);
  qsort(populate, (size_t)rounds, sizeof *populate, by_value);
  if (populate[0] < 0) printf("%.2f -\n", fault[rounds / 2]);   /* sorted: any refusal is first */
  else printf("%.2f %.2f\n", fault[rounds / 2], populate[rounds / 2]);
  return 0;
}

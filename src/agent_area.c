/*
** agent_area.c: the memory the spawn agent's children use, mapped once and kept (see
** agent_area.h).
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent_area.h"
#include "agent_child.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23                  /* Linux 5.14: older kernels say EINVAL */
#endif

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

/* the guards and the stacks: everything under the gate's pages */
static size_t stacks_size(void) { return 3 * page_size() + 2 * SX_AREA_STACK; }

char *sx_area_lower_top(const struct sx_agent *a) {
  return (char *)a->stacks + page_size() + SX_AREA_STACK;
}

char *sx_area_upper_top(const struct sx_agent *a) {
  return (char *)a->stacks + a->stacks_size - page_size();
}

void sx_agent_spare_init(struct sx_agent_spare *s) {
  memset(s, 0, sizeof *s);
}

static void unmap(void *report, void *stacks, size_t size) {
  if (report) munmap(report, page_size());
  if (stacks) munmap(stacks, size);
}

void sx_agent_spare_free(struct sx_agent_spare *s) {
  unmap(s->report, s->stacks, s->size);
  s->report = s->stacks = NULL;
  s->closed = 1;
}

/* A new area: the report page, then the stacks and the gate's pages in one mapping, which
** the kernel places (a random address, far from every other mapping, needs page tables
** of its own: that made the gate cost a spawn 3x as much). */
static int map_new(struct sx_agent *a, size_t gate_size) {
  size_t page = page_size();
  char *stacks;
  int e;
  a->stacks_size = stacks_size();
  a->gate_size = gate_size;
  /* private, as the stacks: the children share it all the same (CLONE_VM), and a fork of
  ** the caller gets copies, never a page a spawn of the other process writes */
  a->report = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                   -1, 0);
  a->stacks = mmap(NULL, a->stacks_size + gate_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (a->report == MAP_FAILED) a->report = NULL;
  if (a->stacks == MAP_FAILED) a->stacks = NULL;
  stacks = a->stacks;
  if (!a->report || !stacks || mprotect(stacks, page, PROT_NONE) != 0 ||
      mprotect(sx_area_lower_top(a), page, PROT_NONE) != 0 ||
      mprotect(sx_area_upper_top(a), page, PROT_NONE) != 0) {
    e = errno;
    unmap(a->report, a->stacks, a->stacks_size + gate_size);
    a->report = a->stacks = NULL;
    errno = e;
    return -1;
  }
  a->gate = stacks + a->stacks_size;
  /* Pages are populated where they will be written at once (the page each child starts
  ** its stack on, the gate's): a fault a page costs more (bench/page_cost). Before Linux
  ** 5.14 the madvise says EINVAL, and the pages fault in as they are met. */
  madvise(sx_area_lower_top(a) - page, page, MADV_POPULATE_WRITE);
  madvise(sx_area_upper_top(a) - page, page, MADV_POPULATE_WRITE);
  madvise(a->gate, gate_size, MADV_POPULATE_WRITE);
  return 0;
}

int sx_area_take(struct sx_agent *a, size_t gate_size) {
  struct sx_agent_spare *s = a->spare;
  if (s && s->report && s->size - stacks_size() >= gate_size) {
    a->report = s->report;
    a->stacks = s->stacks;
    a->stacks_size = stacks_size();
    a->gate_size = s->size - a->stacks_size;
    a->gate = (char *)a->stacks + a->stacks_size;
    s->report = s->stacks = NULL;
    memset(a->report, 0, sizeof(struct sx_report));   /* (scrub zeroed it: the spawn relies on it) */
    return 0;
  }
  if (s && s->report) {                 /* too small for this spawn's gate */
    unmap(s->report, s->stacks, s->size);
    s->report = s->stacks = NULL;
  }
  return map_new(a, gate_size);
}

/* Zero every page of the area that was written: what the children left on their stacks
** (registers they saved) and the gate's copies must not outlive the spawn that made them.
** /proc/self/pagemap says which pages are present: one never written is not, and reads as
** zeros already (the guard pages among them). A page swapped out is not present either,
** and would come back as it was: then the area is not kept (-1). */
static int scrub(struct sx_agent *a) {
  enum { MAX_PAGES = 512 };
  size_t page = page_size(), size = a->stacks_size + a->gate_size, n = (size + page - 1) / page;
  uint64_t entries[MAX_PAGES];
  int fd, ok = n <= MAX_PAGES;
  if (!ok || (fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)) < 0) return -1;
  ok = pread(fd, entries, n * sizeof *entries, (off_t)((uintptr_t)a->stacks / page * sizeof *entries)) ==
       (ssize_t)(n * sizeof *entries);
  close(fd);
  for (size_t i = 0; ok && i < n; i++) {
    if (entries[i] >> 62 & 1) ok = 0;                               /* swapped */
    else if (entries[i] >> 63 & 1) explicit_bzero((char *)a->stacks + i * page, page);
  }
  if (!ok) return -1;
  explicit_bzero(a->report, sizeof(struct sx_report));
  return 0;
}

void sx_area_give_back(struct sx_agent *a) {
  struct sx_agent_spare *s = a->spare;
  if (s && !s->closed && !s->report && a->report && a->stacks && scrub(a) == 0) {
    s->report = a->report;
    s->stacks = a->stacks;
    s->size = a->stacks_size + a->gate_size;
  } else {
    unmap(a->report, a->stacks, a->stacks_size + a->gate_size);
  }
  a->report = a->stacks = a->gate = NULL;
}

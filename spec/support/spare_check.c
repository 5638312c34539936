/*
** spare_check: spawns /bin/true a few times through one struct sx_agent_spare (sx_agent.h),
** each under a filter that forbids execve (so the exec gate and its keys are used), with
** and without a PID namespace, and checks what the spare promises: after each spawn it
** holds the area, every page of it the children wrote reads zero (their stacks, the
** gate's pages, the report), the next spawn takes that same area, and /proc/self/maps
** does not grow. Then, with the spare holding an area, it forks: the copy spawns and
** proceeds while a workload of the original waits parked, which must still be parked
** (not woken by the copy's proceed through memory they share) and run under the filter
** installed after. Prints "ok" and exits 0, or says what failed and exits 1.
*/
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_child.h"
#include "sx_agent.h"

static int failed(const char *what, const char *detail) {
  printf("spare_check: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  return 1;
}

static int maps_lines(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  int n = 0, c;
  if (!f) return -1;
  while ((c = fgetc(f)) != EOF) n += c == '\n';
  fclose(f);
  return n;
}

/* Does every resident page of [p, p + size) read zero (the pages it touches, whole)? */
static int all_zero(const void *p, size_t size) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), n = (size + page - 1) / page;
  unsigned char resident[1024];
  if (n > sizeof resident || mincore((void *)p, size, resident) != 0) return 0;
  for (size_t i = 0; i < n; i++) {
    const unsigned char *b = (const unsigned char *)p + i * page;
    if (!(resident[i] & 1)) continue;
    for (size_t j = 0; j < page; j++) if (b[j]) return 0;
  }
  return 1;
}

/* execve fails with EPERM, everything else is allowed: the agent's own execve goes
** through the gate, with its keys in the workload's registers. */
static const struct sx_insn NO_EXEC[] = {
  { BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, nr) },
  { BPF_JMP | BPF_JEQ | BPF_K, 0, 1, SYS_execve },
  { BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | 1 },
  { BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW },
};

/* Install `n` instructions of `filter` in parked `a`, proceed, wait and release: 0 when
** the program exited with `want`. */
static int to_the_end(struct sx_agent *a, const struct sx_insn *filter, size_t n, int want) {
  struct sx_agent_error e;
  int status = -1;
  if (sx_agent_install(a, filter, n, &e) != SX_AGENT_OK)
    return failed("install (was the workload still parked?)", e.message);
  if (sx_agent_proceed(a, 0, &e) != SX_AGENT_OK) return failed("proceed", e.message);
  if (sx_agent_wait(a, NULL, 0, NULL, NULL, &status, &e) != SX_AGENT_OK) return failed("wait", e.message);
  sx_agent_release(a);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != want)
    return failed("the program did not end as its filter makes it", NULL);
  return 0;
}

static int one(struct sx_agent_spare *spare, int share_pid_namespace, void **stacks) {
  static const char *const argv[] = { "/bin/true", NULL };
  struct sx_spawn o;
  struct sx_agent a;
  struct sx_agent_error e;
  memset(&o, 0, sizeof o);
  o.argv = argv;
  o.share_pid_namespace = share_pid_namespace;
  o.spare = spare;
  sx_agent_init(&a);
  if (sx_agent_spawn(&a, &o, &e) != SX_AGENT_OK) return failed("spawn", e.message);
  if (*stacks && a.stacks != *stacks) return failed("the next spawn did not take the spare's area", NULL);
  if (to_the_end(&a, NO_EXEC, sizeof NO_EXEC / sizeof *NO_EXEC, 0) != 0) return 1;
  if (!spare->report || !spare->stacks) return failed("the spare holds no area after the spawn", NULL);
  if (!all_zero(spare->stacks, spare->size)) return failed("a page of the stacks or the gate is not zero", NULL);
  if (!all_zero(spare->report, sizeof(struct sx_report))) return failed("the report page is not zero", NULL);
  *stacks = spare->stacks;
  return 0;
}

/* write(2) fails with EBADF, everything else is allowed: /bin/echo exits 1. */
static const struct sx_insn NO_WRITE[] = {
  { BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)offsetof(struct seccomp_data, nr) },
  { BPF_JMP | BPF_JEQ | BPF_K, 0, 1, SYS_write },
  { BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | 9 },
  { BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW },
};

/* The spare holds an area when the caller forks; then each copy spawns from its own. */
static int after_fork(struct sx_agent_spare *spare) {
  static const char *const echo[] = { "/bin/echo", "a parked workload ran", NULL };
  struct sx_spawn o;
  struct sx_agent a;
  struct sx_agent_error e;
  int status = -1, go[2];
  char byte = 0;
  pid_t copy;
  void *none = NULL;
  if (!spare->report) return failed("the spare holds no area before the fork", NULL);
  if (pipe(go) != 0) return failed("pipe", NULL);
  fflush(stdout);
  if ((copy = fork()) == 0) {          /* once the original's workload is parked: spawn, proceed */
    close(go[1]);
    _exit(read(go[0], &byte, 1) == 1 && one(spare, 1, &none) == 0 ? 0 : 1);
  }
  close(go[0]);
  memset(&o, 0, sizeof o);
  o.argv = echo;
  o.spare = spare;
  sx_agent_init(&a);
  if (copy < 0 || sx_agent_spawn(&a, &o, &e) != SX_AGENT_OK) return failed("spawn after the fork", e.message);
  if (write(go[1], &byte, 1) != 1 || waitpid(copy, &status, 0) != copy || !WIFEXITED(status) ||
      WEXITSTATUS(status))
    return failed("the fork's spawn failed", NULL);
  close(go[1]);
  return to_the_end(&a, NO_WRITE, sizeof NO_WRITE / sizeof *NO_WRITE, 1);
}

int main(void) {
  struct sx_agent_spare spare;
  void *stacks = NULL;
  int lines = -1;
  sx_agent_spare_init(&spare);
  for (int round = 0; round < 6; round++) {
    if (one(&spare, round % 2, &stacks) != 0) return 1;
    if (round == 1) lines = maps_lines();
    if (round > 1 && maps_lines() != lines) return failed("/proc/self/maps grew", NULL);
  }
  if (after_fork(&spare) != 0) return 1;
  sx_agent_spare_free(&spare);
  if (spare.report || spare.stacks) return failed("the freed spare still holds an area", NULL);
  puts("ok");
  return 0;
}

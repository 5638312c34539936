/*
** spawn_bench.c: what starting one program costs, alone or against another in pairs.
**
**   spawn_bench RUNS [--fd N=PATH] -- program [args...]
**   spawn_bench RUNS [--fd N=PATH] -- A [args...] --vs [--fd N=PATH] -- B [args...]
**
** Runs the program RUNS times (fork, exec, wait) and prints the median wall time, the
** median CPU time (user + system of every process the run started), in microseconds, the
** median of their minor page faults, then the number of runs that exited non-zero.
** spawn_bench is a child subreaper: a process its child leaves behind comes back to it,
** and a run ends when the last of them is reaped. So a command that exits before its
** descendants (bwrap --unshare-pid does: its PID 1 and the program are never waited for
** by bwrap) is charged for them too, as wait4's rusage of the child alone would not be.
** The counts are getrusage(RUSAGE_CHILDREN)'s, before and after the run.
** With --vs, runs A and B alternately, RUNS times each (A first in
** even pairs, B first in odd ones, so neither always follows the other), and prints A's
** three medians, B's, the median of the pairs' CPU ratios A/B and of their wall ratios,
** then A's and B's failed runs. The ratio of each pair is taken on the same moment of a
** shared, noisy machine, which a ratio of two medians would not be.
** --fd opens PATH read-only as descriptor N in the child (bwrap --seccomp N takes it).
**
**   spawn_bench RUNS -- A ... --vs -- B ... --vs -- C ... [--vs ...]
**
** With three commands or more (up to 8), RUNS rounds, each running every command once in
** an order of its own: rotated by the round's number, and reversed in every other block
** of rounds, so that with three commands each of the six orders comes as often (no
** command always first, none always after another). Prints a line per command (wall, CPU
** and fault medians, failed runs), then a line per pair i < j (0-based): i, j, the median
** of the rounds' CPU ratios i/j and of their wall ratios.
*/
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct command {
  char **argv;
  int fd;                  /* -1: none */
  const char *fd_path;
};

struct sample {
  double wall, cpu, faults;
  int failed;
};

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* [--fd N=PATH] -- program [args...], up to `stop` (or the end); 0 on a usage error. */
static int parse(char **argv, int *i, int argc, const char *stop, struct command *c) {
  c->fd = -1;
  c->fd_path = NULL;
  if (*i < argc && strcmp(argv[*i], "--fd") == 0 && *i + 1 < argc) {
    char *eq = strchr(argv[*i + 1], '=');
    if (!eq) return 0;
    c->fd = atoi(argv[*i + 1]);
    c->fd_path = eq + 1;
    *i += 2;
  }
  if (*i >= argc || strcmp(argv[*i], "--") != 0 || *i + 1 >= argc) return 0;
  c->argv = argv + ++*i;
  while (*i < argc && !(stop && strcmp(argv[*i], stop) == 0)) (*i)++;
  if (*i < argc) argv[(*i)++] = NULL;      /* ends A's argv where "--vs" was */
  return 1;
}

static double cpu_us(const struct rusage *ru) {
  return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e6 +
         (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec);
}

/* Reaps every child left (orphans come to us: we are a subreaper); 0 when none is left. */
static int reap_all(void) {
  for (;;) {
    if (waitpid(-1, NULL, 0) > 0) continue;
    if (errno == EINTR) continue;
    if (errno == ECHILD) return 0;
    perror("waitpid");
    return -1;
  }
}

static int run(const struct command *c, struct sample *s) {
  struct rusage before, after;
  int status;
  if (getrusage(RUSAGE_CHILDREN, &before)) { perror("getrusage"); return -1; }
  double t0 = now_us();
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); return -1; }
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) { dup2(devnull, 1); close(devnull); }
    if (c->fd_path) {
      int f = open(c->fd_path, O_RDONLY);
      if (f < 0 || (f != c->fd && (dup2(f, c->fd) < 0 || close(f) < 0))) _exit(124);
    }
    execvp(c->argv[0], c->argv);
    _exit(127);
  }
  if (waitpid(pid, &status, 0) != pid) { perror("waitpid"); return -1; }
  if (reap_all()) return -1;
  s->wall = now_us() - t0;
  if (getrusage(RUSAGE_CHILDREN, &after)) { perror("getrusage"); return -1; }
  s->cpu = cpu_us(&after) - cpu_us(&before);
  s->faults = (double)(after.ru_minflt - before.ru_minflt);
  s->failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  return 0;
}

#define MAX_COMMANDS 8

/* Three commands or more: rounds in rotating, alternating orders (see the header). */
static int rounds(struct command *c, int n, int runs) {
  double *wall[MAX_COMMANDS], *cpu[MAX_COMMANDS], *faults[MAX_COMMANDS], *ratio, *wratio;
  struct sample (*s)[MAX_COMMANDS];
  int failed[MAX_COMMANDS] = { 0 };
  if (!(s = calloc((size_t)runs, sizeof *s)) || !(ratio = calloc((size_t)runs, sizeof(double))) ||
      !(wratio = calloc((size_t)runs, sizeof(double))))
    return 1;
  for (int k = 0; k < n; k++)
    if (!(wall[k] = calloc((size_t)runs, sizeof(double))) ||
        !(cpu[k] = calloc((size_t)runs, sizeof(double))) ||
        !(faults[k] = calloc((size_t)runs, sizeof(double))))
      return 1;
  for (int r = 0; r < runs; r++) {
    int reverse = (r / n) % 2;
    for (int step = 0; step < n; step++) {
      int k = (r + (reverse ? n - 1 - step : step)) % n;
      if (run(&c[k], &s[r][k])) return 1;
    }
    for (int k = 0; k < n; k++) {
      wall[k][r] = s[r][k].wall, cpu[k][r] = s[r][k].cpu, faults[k][r] = s[r][k].faults;
      failed[k] += s[r][k].failed;
    }
  }
  for (int k = 0; k < n; k++)
    printf("%.1f %.1f %.0f %d\n", median(wall[k], runs), median(cpu[k], runs),
           median(faults[k], runs), failed[k]);
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++) {
      for (int r = 0; r < runs; r++) {
        ratio[r] = s[r][j].cpu > 0 ? s[r][i].cpu / s[r][j].cpu : 0;
        wratio[r] = s[r][j].wall > 0 ? s[r][i].wall / s[r][j].wall : 0;
      }
      printf("%d %d %.4f %.4f\n", i, j, median(ratio, runs), median(wratio, runs));
    }
  return 0;
}

int main(int argc, char **argv) {
  struct command c[MAX_COMMANDS];
  int runs, i = 2, n = 0, pairs, failed[2] = { 0, 0 };
  double *v[8];
  if (argc < 4 || (runs = atoi(argv[1])) < 1) goto usage;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1)) { perror("prctl(PR_SET_CHILD_SUBREAPER)"); return 1; }
  for (int k = 0; k < 8; k++)
    if (!(v[k] = calloc((size_t)runs, sizeof(double)))) return 1;
  while (i < argc && n < MAX_COMMANDS)
    if (!parse(argv, &i, argc, "--vs", &c[n++])) goto usage;
  if (i < argc) goto usage;
  if (n > 2) return rounds(c, n, runs);
  pairs = n == 2;
  struct command a = c[0], b = c[pairs];
  for (int r = 0; r < runs; r++) {
    struct sample sa, sb;
    if (pairs && r % 2) {
      if (run(&b, &sb) || run(&a, &sa)) return 1;
    } else {
      if (run(&a, &sa)) return 1;
      if (pairs && run(&b, &sb)) return 1;
    }
    v[0][r] = sa.wall, v[1][r] = sa.cpu, v[2][r] = sa.faults, failed[0] += sa.failed;
    if (pairs) {
      v[3][r] = sb.wall, v[4][r] = sb.cpu, v[5][r] = sb.faults, failed[1] += sb.failed;
      v[6][r] = sb.cpu > 0 ? sa.cpu / sb.cpu : 0;
      v[7][r] = sb.wall > 0 ? sa.wall / sb.wall : 0;
    }
  }
  if (!pairs) {
    printf("%.1f %.1f %.0f %d\n", median(v[0], runs), median(v[1], runs), median(v[2], runs),
           failed[0]);
    return 0;
  }
  printf("%.1f %.1f %.0f %.1f %.1f %.0f %.4f %.4f %d %d\n", median(v[0], runs),
         median(v[1], runs), median(v[2], runs), median(v[3], runs), median(v[4], runs),
         median(v[5], runs), median(v[6], runs), median(v[7], runs), failed[0], failed[1]);
  return 0;
usage:
  fprintf(stderr, "usage: spawn_bench RUNS [--fd N=PATH] -- program [args...] "
                  "[--vs [--fd N=PATH] -- program [args...]]... (up to %d)\n", MAX_COMMANDS);
  return 1;
}

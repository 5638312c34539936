/*
** spawn_bench.c: what starting one program costs.
**
**   spawn_bench RUNS [--fd N=PATH] -- program [args...]
**
** Runs the program RUNS times (fork, exec, wait4) and prints the median wall time and
** the median CPU time (user + system of the child and everything it waited for, from
** wait4's rusage), in microseconds, then the number of runs that exited non-zero.
** --fd opens PATH read-only as descriptor N in the child (bwrap --seccomp N takes it).
*/
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int runs, fd = -1, failed = 0, argi = 2;
  const char *fd_path = NULL;
  double *wall, *cpu;
  if (argc < 4) goto usage;
  runs = atoi(argv[1]);
  if (runs < 1) goto usage;
  if (strcmp(argv[argi], "--fd") == 0 && argi + 1 < argc) {
    char *eq = strchr(argv[argi + 1], '=');
    if (!eq) goto usage;
    fd = atoi(argv[argi + 1]);
    fd_path = eq + 1;
    argi += 2;
  }
  if (argi >= argc || strcmp(argv[argi], "--") != 0 || argi + 1 >= argc) goto usage;
  argi++;
  wall = calloc((size_t)runs, sizeof *wall);
  cpu = calloc((size_t)runs, sizeof *cpu);
  if (!wall || !cpu) return 1;
  for (int r = 0; r < runs; r++) {
    struct rusage ru;
    int status;
    double t0 = now_us();
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      if (devnull >= 0) { dup2(devnull, 1); close(devnull); }
      if (fd_path) {
        int f = open(fd_path, O_RDONLY);
        if (f < 0 || (f != fd && (dup2(f, fd) < 0 || close(f) < 0))) _exit(124);
      }
      execvp(argv[argi], argv + argi);
      _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) != pid) { perror("wait4"); return 1; }
    wall[r] = now_us() - t0;
    cpu[r] = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
             (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
  }
  qsort(wall, (size_t)runs, sizeof *wall, cmp_double);
  qsort(cpu, (size_t)runs, sizeof *cpu, cmp_double);
  printf("%.1f %.1f %d\n", wall[runs / 2], cpu[runs / 2], failed);
  return 0;
usage:
  fprintf(stderr, "usage: spawn_bench RUNS [--fd N=PATH] -- program [args...]\n");
  return 1;
}

/*
** tsync_threads.c: a threaded process that installs a filter on itself with sx_install.
**
** usage: tsync_threads ok        -> every thread is filtered (Seccomp: 2 in its status,
**                                   and getppid fails with EPERM on every thread)
**        tsync_threads conflict  -> one thread already has its own filter, so TSYNC must
**                                   fail naming that thread, and nothing is installed
** Prints one line per finding; exits 0 when everything is as it should be.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sx.h"

enum { THREADS = 4 };

static pthread_barrier_t installed, checked;
static pthread_barrier_t started;

struct finding {
  pid_t tid;
  int seccomp_mode;          /* from /proc/self/task/TID/status */
  int getppid_errno;
};

static int seccomp_mode(pid_t tid) {
  char path[64], line[256];
  int mode = -1;
  FILE *f;
  snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
  if (!(f = fopen(path, "r"))) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Seccomp: %d", &mode) == 1) break;
  fclose(f);
  return mode;
}

static void observe(struct finding *out) {
  long rv;
  out->tid = (pid_t)syscall(SYS_gettid);
  out->seccomp_mode = seccomp_mode(out->tid);
  errno = 0;
  rv = syscall(SYS_getppid);
  out->getppid_errno = rv < 0 ? errno : 0;
}

static void *worker(void *arg) {
  struct finding *out = arg;
  out->tid = (pid_t)syscall(SYS_gettid);
  pthread_barrier_wait(&started);
  pthread_barrier_wait(&installed);
  observe(out);
  pthread_barrier_wait(&checked);
  return NULL;
}

/* A thread that puts a filter of its own on itself first: TSYNC cannot pass it. */
static void *loner(void *arg) {
  struct finding *out = arg;
  struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = { 1, &allow };
  out->tid = (pid_t)syscall(SYS_gettid);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) perror("loner seccomp");
  pthread_barrier_wait(&started);
  pthread_barrier_wait(&installed);
  pthread_barrier_wait(&checked);
  return NULL;
}

static int compile(struct sx_program *prog) {
  int host = sx_arch_host();
  struct sx_rule rule = { SX_RET_ERRNO | EPERM, "getppid", -1, 0, NULL };
  struct sx_policy policy = { &rule, 1, SX_RET_ALLOW, SX_RET_KILL_PROCESS, &host, 1 };
  struct sx_error err;
  if (host < 0 || sx_compile(&policy, prog, &err) != SX_OK) {
    fprintf(stderr, "compile: %s\n", host < 0 ? "unsupported host" : err.message);
    return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  int conflict = argc > 1 && strcmp(argv[1], "conflict") == 0;
  pthread_t threads[THREADS];
  struct finding found[THREADS + 1];
  struct sx_program prog;
  struct sx_install_error err;
  int st, ok = 1;
  if (!compile(&prog)) return 2;
  pthread_barrier_init(&started, NULL, THREADS + 1);
  pthread_barrier_init(&installed, NULL, THREADS + 1);
  pthread_barrier_init(&checked, NULL, THREADS + 1);
  for (int i = 0; i < THREADS; i++)
    pthread_create(&threads[i], NULL, conflict && i == 2 ? loner : worker, &found[i]);
  pthread_barrier_wait(&started);
  st = sx_install(prog.insns, prog.len, SX_INSTALL_TSYNC, &err);
  pthread_barrier_wait(&installed);
  observe(&found[THREADS]);
  pthread_barrier_wait(&checked);
  for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
  if (conflict) {
    printf("install %s tid=%ld expected=%d main_mode=%d main_getppid_errno=%d\n",
           sx_status_name(st), err.tid, (int)found[2].tid, found[THREADS].seccomp_mode,
           found[THREADS].getppid_errno);
    printf("message: %s\n", st ? err.message : "");
    ok = st == SX_E_TSYNC && err.tid == found[2].tid && found[THREADS].seccomp_mode == 0 &&
         found[THREADS].getppid_errno == 0;
  } else {
    printf("install %s\n", sx_status_name(st));
    ok = st == SX_OK;
    for (int i = 0; i <= THREADS; i++) {
      printf("thread %d mode=%d getppid_errno=%d\n", (int)found[i].tid, found[i].seccomp_mode,
             found[i].getppid_errno);
      ok = ok && found[i].seccomp_mode == 2 && found[i].getppid_errno == EPERM;
    }
  }
  sx_program_free(&prog);
  return ok ? 0 : 1;
}

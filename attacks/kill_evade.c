/* kill_evade: survive calls the policy kills, by interrupting them while the supervisor
** decides. Under sxlua's default supervision a kill_process rule is a notification: the
** calling thread waits until sxlua answers. A signal to the waiting thread ends the wait
** (-ERESTARTSYS, EINTR to a handler without SA_RESTART) and withdraws the notification;
** sxlua then finds it invalid and kills no one. The call never runs, but the process that
** made it lives on, and can try again (probe every syscall the policy kills, for instance).
** Usage: kill_evade [NR [TRIES]] (default: socket(AF_UNIX, SOCK_STREAM, 0), 200 tries). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/prctl.h>
#include <unistd.h>

static volatile pid_t victim;
static volatile int done;

static void on_usr1(int sig) { (void)sig; }

static void *pester(void *arg) {
  (void)arg;
  while (!done) {
    if (victim) syscall(SYS_tgkill, getpid(), victim, SIGUSR1);
    for (volatile int i = 0; i < 2000; i++) {}
  }
  return NULL;
}

int main(int argc, char **argv) {
  long nr = argc > 1 ? strtol(argv[1], NULL, 0) : SYS_socket;
  int tries = argc > 2 ? atoi(argv[2]) : 200, eintr = 0, other = 0, ran = 0;
  struct sigaction sa;
  pthread_t t;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;           /* no SA_RESTART: the interrupted call returns EINTR */
  sigaction(SIGUSR1, &sa, NULL);
  prctl(PR_SET_TIMERSLACK, 1);     /* fire as asked, not 50 us late */
  victim = (pid_t)syscall(SYS_gettid);
  pthread_create(&t, NULL, pester, NULL);
  {   /* and a kernel timer that interrupts this thread every 10 us, whoever runs */
    struct sigevent ev;
    struct itimerspec its = { { 0, 10000 }, { 0, 10000 } };
    timer_t tm;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGUSR1;
    ev._sigev_un._tid = victim;
    if (timer_create(CLOCK_MONOTONIC, &ev, &tm) == 0) timer_settime(tm, 0, &its, NULL);
  }
  for (int i = 0; i < tries; i++) {
    long rc = syscall(nr, 1, 1, 0, 0, 0, 0);
    if (rc >= 0) { ran++; close((int)rc); }
    else if (errno == EINTR) { eintr++; fprintf(stderr, "\rkill_evade: %d forbidden calls survived (EINTR)", eintr); }
    else other++;
  }
  done = 1;
  pthread_join(t, NULL);
  printf("kill_evade: syscall %ld made %d times and still alive: %d EINTR, %d other errors, %d ran\n",
         nr, tries, eintr, other, ran);
  return 0;
}

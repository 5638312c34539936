/*
** outlet.c: lines to a descriptor the workload shares, written by a thread of their own
** (outlet.h).
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "outlet.h"

enum kind { OWN, SOCKET, FILE_, TTY };

struct sx_outlet {
  int fd;
  enum kind kind;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t more, drained;
  char *buf;                  /* a ring: len bytes from head */
  size_t cap, head, len, lost;
  int closing, started;            /* the thread starts with the first line */
};

/* A descriptor of the outlet's own for fd's file (the open file itself is shared: a
** reopen through /proc would make a new pty of a ptmx, and needs the file's owner). */
static int take(int fd, enum kind *kind) {
  struct stat st;
  int out;
  if (fstat(fd, &st) != 0 || (out = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) return -1;
  *kind = S_ISSOCK(st.st_mode) ? SOCKET : isatty(out) ? TTY : FILE_;
  return out;
}

/* Writes some of buf, waiting for the descriptor as long as it takes: the bytes written,
** or -1 (it failed: the rest is lost). */
static ssize_t write_some(struct sx_outlet *o, const char *buf, size_t len) {
  for (;;) {
    ssize_t n = o->kind == SOCKET ? send(o->fd, buf, len, MSG_NOSIGNAL) : write(o->fd, buf, len);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EINVAL && (fcntl(o->fd, F_GETFL) & O_DIRECT)) {   /* the workload set it */
      fcntl(o->fd, F_SETFL, fcntl(o->fd, F_GETFL) & ~O_DIRECT);
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    struct pollfd p = { o->fd, POLLOUT, 0 };                      /* the workload set O_NONBLOCK */
    poll(&p, 1, -1);
  }
}

static void *writer(void *arg) {
  struct sx_outlet *o = arg;
  sigset_t all;
  sigfillset(&all);               /* no signal for this thread: SIGTTOU blocked is ignored */
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  pthread_mutex_lock(&o->lock);
  for (;;) {
    while (o->len == 0 && !o->closing) pthread_cond_wait(&o->more, &o->lock);
    if (o->len == 0) break;
    size_t n = o->len < o->cap - o->head ? o->len : o->cap - o->head;
    const char *from = o->buf + o->head;     /* the caller appends after it, never over it */
    pthread_mutex_unlock(&o->lock);
    ssize_t w = write_some(o, from, n);
    pthread_mutex_lock(&o->lock);
    if (w < 0) {                              /* gone (EPIPE, EBADF): the rest is lost */
      o->lost += 1;
      o->head = o->len = 0;
    } else {
      o->head = (o->head + (size_t)w) % o->cap;
      o->len -= (size_t)w;
    }
    if (o->len == 0) pthread_cond_broadcast(&o->drained);
  }
  pthread_mutex_unlock(&o->lock);
  return NULL;
}

struct sx_outlet *sx_outlet_new(int fd, size_t limit) {
  struct sx_outlet *o = calloc(1, sizeof *o);
  int e;
  if (!o) return NULL;
  o->cap = limit ? limit : 1;
  if (!(o->buf = malloc(o->cap))) { free(o); return NULL; }
  if ((o->fd = take(fd, &o->kind)) < 0) { e = errno; free(o->buf); free(o); errno = e; return NULL; }
  pthread_mutex_init(&o->lock, NULL);
  pthread_cond_init(&o->more, NULL);
  pthread_cond_init(&o->drained, NULL);
  return o;
}

int sx_outlet_put(struct sx_outlet *o, const void *buf, size_t len) {
  int ok = 0;
  pthread_mutex_lock(&o->lock);
  if (!o->started && !o->closing)         /* (a run that says nothing starts no thread) */
    o->started = pthread_create(&o->thread, NULL, writer, o) == 0;
  if (o->started && !o->closing && len <= o->cap - o->len) {
    size_t tail = (o->head + o->len) % o->cap, first = o->cap - tail < len ? o->cap - tail : len;
    memcpy(o->buf + tail, buf, first);
    memcpy(o->buf, (const char *)buf + first, len - first);
    o->len += len;
    ok = 1;
    pthread_cond_signal(&o->more);
  } else {
    o->lost++;
  }
  pthread_mutex_unlock(&o->lock);
  return ok;
}

/* Restarts the terminal's output (TCXONC TCOON), with SIGTTOU blocked: from a background
** job it would stop the caller. */
static void restart(int fd) {
  sigset_t ttou, old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  pthread_sigmask(SIG_BLOCK, &ttou, &old);
  ioctl(fd, TCXONC, TCOON);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

size_t sx_outlet_drain(struct sx_outlet *o) {
  size_t lost, before;
  int restarted = 0;
  pthread_mutex_lock(&o->lock);
  while (o->len > 0) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    before = o->len;
    if (pthread_cond_timedwait(&o->drained, &o->lock, &until) == ETIMEDOUT &&
        o->len == before && o->kind == TTY && !restarted) {
      restart(o->fd);                  /* nothing taken for a second: stopped by the workload? */
      restarted = 1;
    }
  }
  lost = o->lost;
  pthread_mutex_unlock(&o->lock);
  return lost;
}

size_t sx_outlet_finish(struct sx_outlet *o) {
  size_t lost;
  pthread_mutex_lock(&o->lock);
  o->closing = 1;
  pthread_cond_signal(&o->more);
  pthread_mutex_unlock(&o->lock);
  if (o->started) pthread_join(o->thread, NULL);
  lost = o->lost;
  close(o->fd);
  pthread_mutex_destroy(&o->lock);
  pthread_cond_destroy(&o->more);
  pthread_cond_destroy(&o->drained);
  free(o->buf);
  free(o);
  return lost;
}

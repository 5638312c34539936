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
#include <unistd.h>

#include "outlet.h"

enum kind { OWN, SOCKET, FILE_, TTY };

struct sx_outlet {
  int fd;
  enum kind kind;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t more;
  char *buf;                  /* a ring: len bytes from head */
  size_t cap, head, len, lost;
  int closing;
};

/* A descriptor for writing to fd's file: its own where it can reopen it. */
static int reopen(int fd, enum kind *kind) {
  char path[32];
  struct stat st;
  int out;
  if (fstat(fd, &st) != 0) return -1;
  *kind = S_ISSOCK(st.st_mode) ? SOCKET : FILE_;
  if (!S_ISSOCK(st.st_mode) && !S_ISREG(st.st_mode)) {
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    out = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (out >= 0) {
      int moved = out < 3 ? fcntl(out, F_DUPFD_CLOEXEC, 3) : out;   /* clear of 0..2 */
      if (moved != out) close(out);
      if (moved >= 0) *kind = isatty(moved) ? TTY : OWN;
      return moved;
    }
  }
  return fcntl(fd, F_DUPFD_CLOEXEC, 3);     /* no /proc, a socket, a file: the shared one */
}

/* Writes some of buf, waiting for the descriptor as long as it takes: the bytes written,
** or -1 (it failed: the rest is lost). */
static ssize_t write_some(struct sx_outlet *o, const char *buf, size_t len, int *restarted) {
  for (;;) {
    ssize_t n = o->kind == SOCKET ? send(o->fd, buf, len, MSG_NOSIGNAL) : write(o->fd, buf, len);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    struct pollfd p = { o->fd, POLLOUT, 0 };
    if (poll(&p, 1, *restarted ? -1 : 1000) == 0) {       /* nothing for a second */
      if (o->kind == TTY) ioctl(o->fd, TCXONC, TCOON);   /* stopped by the workload? */
      *restarted = 1;
    }
  }
}

static void *writer(void *arg) {
  struct sx_outlet *o = arg;
  sigset_t all;
  int restarted = 0;
  sigfillset(&all);               /* no signal for this thread: SIGTTOU blocked is ignored */
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  pthread_mutex_lock(&o->lock);
  for (;;) {
    while (o->len == 0 && !o->closing) pthread_cond_wait(&o->more, &o->lock);
    if (o->len == 0) break;
    size_t n = o->len < o->cap - o->head ? o->len : o->cap - o->head;
    const char *from = o->buf + o->head;     /* the caller appends after it, never over it */
    pthread_mutex_unlock(&o->lock);
    ssize_t w = write_some(o, from, n, &restarted);
    pthread_mutex_lock(&o->lock);
    if (w < 0) {                              /* gone (EPIPE, EBADF): the rest is lost */
      o->lost += 1;
      o->head = o->len = 0;
    } else {
      o->head = (o->head + (size_t)w) % o->cap;
      o->len -= (size_t)w;
    }
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
  if ((o->fd = reopen(fd, &o->kind)) < 0) { e = errno; free(o->buf); free(o); errno = e; return NULL; }
  pthread_mutex_init(&o->lock, NULL);
  pthread_cond_init(&o->more, NULL);
  if ((e = pthread_create(&o->thread, NULL, writer, o)) != 0) {
    close(o->fd);
    free(o->buf);
    free(o);
    errno = e;
    return NULL;
  }
  return o;
}

int sx_outlet_put(struct sx_outlet *o, const void *buf, size_t len) {
  int ok = 0;
  pthread_mutex_lock(&o->lock);
  if (!o->closing && len <= o->cap - o->len) {
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

size_t sx_outlet_finish(struct sx_outlet *o) {
  size_t lost;
  pthread_mutex_lock(&o->lock);
  o->closing = 1;
  pthread_cond_signal(&o->more);
  pthread_mutex_unlock(&o->lock);
  pthread_join(o->thread, NULL);
  lost = o->lost;
  close(o->fd);
  pthread_mutex_destroy(&o->lock);
  pthread_cond_destroy(&o->more);
  free(o->buf);
  free(o);
  return lost;
}

/*
** outlet.c: writing to a descriptor the workload shares without waiting on it (outlet.h).
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "outlet.h"

static int shared(int fd, enum sx_outlet_kind *kind, enum sx_outlet_kind as) {
  int out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (out < 0) return -errno;
  *kind = as;
  return out;
}

int sx_outlet_open(int fd, enum sx_outlet_kind *kind) {
  char path[32];
  struct stat st;
  int out;
  if (fstat(fd, &st) != 0) return -errno;
  if (S_ISSOCK(st.st_mode)) return shared(fd, kind, SX_OUTLET_SOCKET);
  if (S_ISREG(st.st_mode)) return shared(fd, kind, SX_OUTLET_FILE);
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  out = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (out < 0) return shared(fd, kind, SX_OUTLET_FILE);   /* no /proc: the shared one */
  if (out < 3) {                       /* (0..2 were closed: keep clear of them) */
    int moved = fcntl(out, F_DUPFD_CLOEXEC, 3);
    close(out);
    if (moved < 0) return -errno;
    out = moved;
  }
  *kind = isatty(out) ? SX_OUTLET_TTY : SX_OUTLET_OWN;
  return out;
}

long sx_outlet_write(int out, enum sx_outlet_kind kind, const void *buf, size_t len) {
  ssize_t n;
  if (kind == SX_OUTLET_SOCKET) {
    n = send(out, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  } else if (kind == SX_OUTLET_TTY) {
    sigset_t ttou, old;
    int e;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);       /* (a blocked SIGTTOU counts as ignored: no stop) */
    sigprocmask(SIG_BLOCK, &ttou, &old);
    n = write(out, buf, len);
    e = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = e;
  } else {
    if (kind == SX_OUTLET_FILE) {
      struct stat st;
      if (fstat(out, &st) == 0 && !S_ISREG(st.st_mode)) {
        int ready = sx_outlet_wait(out, 0);
        if (ready <= 0) return ready < 0 ? ready : -EAGAIN;
      }
    }
    n = write(out, buf, len);
  }
  if (n < 0) return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  return (long)n;
}

int sx_outlet_wait(int out, int ms) {
  struct pollfd p = { out, POLLOUT, 0 };
  int rc;
  do rc = poll(&p, 1, ms); while (rc < 0 && errno == EINTR && ms < 0);
  if (rc < 0) return -errno;
  return rc > 0;
}

int sx_outlet_restart(int out) {
  sigset_t ttou, old;
  int rc;
  if (!isatty(out)) return 0;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);        /* from a background job: no stop for it */
  sigprocmask(SIG_BLOCK, &ttou, &old);
  rc = ioctl(out, TCXONC, TCOON);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return rc == 0 ? 1 : -errno;
}

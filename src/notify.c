/*
** notify.c: answering seccomp user notifications (see sx_notify.h).
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sx_notify.h"

enum { PAGE = 4096 };

long sx_notify_read(pid_t pid, uint64_t addr, void *buf, size_t size) {
  size_t done = 0;
  /* page by page: process_vm_readv stops at the first page it cannot read */
  while (done < size) {
    size_t chunk = PAGE - (size_t)((addr + done) % PAGE);
    struct iovec local, remote;
    ssize_t n;
    if (chunk > size - done) chunk = size - done;
    local.iov_base = (char *)buf + done;
    local.iov_len = chunk;
    remote.iov_base = (void *)(uintptr_t)(addr + done);
    remote.iov_len = chunk;
    n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n < 0) return done ? (long)done : -errno;
    done += (size_t)n;
    if ((size_t)n < chunk) break;
  }
  return (long)done;
}

long sx_notify_string(pid_t pid, uint64_t addr, char *buf, size_t size) {
  size_t have = 0;
  if (size == 0) return -ENAMETOOLONG;
  while (have < size - 1) {
    size_t want = PAGE - (size_t)((addr + have) % PAGE);
    long n;
    char *nul;
    if (want > size - 1 - have) want = size - 1 - have;
    n = sx_notify_read(pid, addr + have, buf + have, want);
    if (n <= 0) return n < 0 ? n : -EFAULT;
    if ((nul = memchr(buf + have, '\0', (size_t)n)) != NULL) return (long)(nul - buf);
    have += (size_t)n;
    if ((size_t)n < want) return -EFAULT;
  }
  buf[size - 1] = '\0';
  return -ENAMETOOLONG;
}

/* One read on its own thread; whoever finishes last (reader or a caller that gave up)
** frees it. */
struct timed_read {
  pthread_mutex_t lock;
  pthread_cond_t done_cond;
  pid_t pid;
  uint64_t addr;
  size_t size;
  long result;
  int done, abandoned;
  char buf[];
};

static void *timed_reader(void *arg) {
  struct timed_read *t = arg;
  long n = sx_notify_string(t->pid, t->addr, t->buf, t->size);
  int abandoned;
  pthread_mutex_lock(&t->lock);
  t->result = n;
  t->done = 1;
  abandoned = t->abandoned;
  pthread_cond_signal(&t->done_cond);
  pthread_mutex_unlock(&t->lock);
  if (abandoned) free(t);
  return NULL;
}

long sx_notify_string_within(pid_t pid, uint64_t addr, char *buf, size_t size, int ms) {
  struct timed_read *t = malloc(sizeof *t + size);
  struct timespec until;
  pthread_t thread;
  pthread_attr_t attr;
  pthread_condattr_t ca;
  long result;
  if (!t) return -ENOMEM;
  memset(t, 0, sizeof *t);
  pthread_mutex_init(&t->lock, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&t->done_cond, &ca);
  pthread_condattr_destroy(&ca);
  t->pid = pid;
  t->addr = addr;
  t->size = size;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  if (pthread_create(&thread, &attr, timed_reader, t) != 0) {
    pthread_attr_destroy(&attr);
    free(t);
    return -EAGAIN;
  }
  pthread_attr_destroy(&attr);
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
  pthread_mutex_lock(&t->lock);
  while (!t->done)
    if (pthread_cond_timedwait(&t->done_cond, &t->lock, &until) == ETIMEDOUT) break;
  if (!t->done) {                         /* the reader frees it when it ends */
    t->abandoned = 1;
    pthread_mutex_unlock(&t->lock);
    return -ETIMEDOUT;
  }
  pthread_mutex_unlock(&t->lock);
  result = t->result;
  if (result >= 0) memcpy(buf, t->buf, (size_t)result + 1);
  else if (result == -ENAMETOOLONG) memcpy(buf, t->buf, size);
  free(t);
  return result;
}

int sx_notify_valid(int listener, uint64_t id) {
  return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 ? 0 : -errno;
}

int sx_notify_send(int listener, uint64_t id, int error, int64_t value, int cont) {
  struct seccomp_notif_resp resp;
  memset(&resp, 0, sizeof resp);
  resp.id = id;
  if (cont) resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  else if (error) resp.error = -error;
  else resp.val = value;
  return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0 ? 0 : -errno;
}

int sx_notify_addfd(int listener, uint64_t id, int fd, int cloexec) {
  struct seccomp_notif_addfd add;
  int rc;
  memset(&add, 0, sizeof add);
  add.id = id;
  add.flags = SECCOMP_ADDFD_FLAG_SEND;
  add.srcfd = (uint32_t)fd;
  add.newfd_flags = cloexec ? O_CLOEXEC : 0;
  rc = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
  return rc >= 0 ? rc : -errno;
}

pid_t sx_notify_tgid(pid_t tid) {
  char path[64], line[128];
  FILE *f;
  int tgid = -ESRCH;
  snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
  if (!(f = fopen(path, "re"))) return -errno;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Tgid: %d", &tgid) == 1) break;
  fclose(f);
  return tgid;
}

int sx_open_beneath(int dirfd, const char *path, int flags, unsigned mode) {
  struct open_how how;
  long fd;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)(unsigned)flags | O_CLOEXEC;
  how.mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  return fd >= 0 ? (int)fd : -errno;
}

/*
** notify.c: answering seccomp user notifications (see sx_notify.h).
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
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

/* How many of a reader's workers are stuck in a read it gave up on, shared with them (a
** stuck one may end after the reader is gone: the last of them frees it). */
struct stuck {
  int count, refs;                        /* under __atomic */
};

static void stuck_drop(struct stuck *st) {
  if (__atomic_sub_fetch(&st->refs, 1, __ATOMIC_ACQ_REL) == 0) free(st);
}

/* The reader's thread, and the one read it has in hand. The reader hands it a read and
** waits; one that took too long is left to it (abandoned), and it frees itself when the
** read returns. One lock and one condition serve both ways. */
struct worker {
  struct stuck *stuck;                    /* set when the reader gives this one up */
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int has_job, done, quit, abandoned, string;
  pid_t pid;
  uint64_t addr;
  size_t size, room;
  long result;
  char *buf;
};

/* At most this many workers stuck at once: a workload that stalls read after read (a
** new userfaultfd each time) would otherwise pile threads up in the supervisor. Past it a
** read fails at once (-EAGAIN) until one of them ends. */
enum { MAX_STUCK = 8 };

struct sx_notify_reader {
  struct worker *w;                      /* NULL until a read needs it, or after one hung */
  int cpu;                               /* the one the worker is kept on; -1: none yet */
  struct stuck *stuck;
};

static void worker_free(struct worker *w) {
  pthread_mutex_destroy(&w->lock);
  pthread_cond_destroy(&w->cond);
  free(w->buf);
  free(w);
}

static void *work(void *arg) {
  struct worker *w = arg;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    long n;
    while (!w->has_job && !w->quit) pthread_cond_wait(&w->cond, &w->lock);
    if (w->quit) break;
    pthread_mutex_unlock(&w->lock);
    n = w->string ? sx_notify_string(w->pid, w->addr, w->buf, w->size)
                  : sx_notify_read(w->pid, w->addr, w->buf, w->size);
    pthread_mutex_lock(&w->lock);
    w->result = n;
    w->has_job = 0;
    w->done = 1;
    if (w->abandoned) break;
    pthread_cond_broadcast(&w->cond);
  }
  pthread_mutex_unlock(&w->lock);
  if (w->stuck) {                        /* given up on: one stuck fewer */
    __atomic_sub_fetch(&w->stuck->count, 1, __ATOMIC_ACQ_REL);
    stuck_drop(w->stuck);
  }
  worker_free(w);
  return NULL;
}

/* A worker on a detached thread with every signal blocked: a signal meant for the
** process (which a supervisor takes through a signalfd) never lands on it. */
static struct worker *worker_start(void) {
  struct worker *w = calloc(1, sizeof *w);
  pthread_condattr_t ca;
  pthread_attr_t attr;
  sigset_t all, old;
  int rc;
  if (!w) return NULL;
  pthread_mutex_init(&w->lock, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&w->cond, &ca);
  pthread_condattr_destroy(&ca);
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  rc = pthread_create(&w->thread, &attr, work, w);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    worker_free(w);
    return NULL;
  }
  return w;
}

/* The worker on the caller's CPU: a hand-over to a thread on another CPU costs an
** interrupt each way (on a virtual machine, ten times the read). Checked at each read
** (sched_getcpu is the vDSO's), moved only when the caller has moved. */
static void follow(struct sx_notify_reader *r) {
  int cpu = sched_getcpu();
  cpu_set_t one;
  if (cpu < 0 || cpu == r->cpu || cpu >= CPU_SETSIZE) return;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  if (pthread_setaffinity_np(r->w->thread, sizeof one, &one) == 0) r->cpu = cpu;
}

struct sx_notify_reader *sx_notify_reader_new(void) {
  struct sx_notify_reader *r = calloc(1, sizeof *r);
  if (r && !(r->stuck = calloc(1, sizeof *r->stuck))) {
    free(r);
    return NULL;
  }
  if (r) {
    r->cpu = -1;
    r->stuck->refs = 1;
  }
  return r;
}

void sx_notify_reader_free(struct sx_notify_reader *r) {
  if (!r) return;
  if (r->w) {                            /* idle: a hung one was let go already */
    pthread_mutex_lock(&r->w->lock);
    r->w->quit = 1;
    pthread_cond_broadcast(&r->w->cond);
    pthread_mutex_unlock(&r->w->lock);
  }
  stuck_drop(r->stuck);
  free(r);
}

long sx_notify_reader_read(struct sx_notify_reader *r, pid_t pid, uint64_t addr, char *buf,
                           size_t size, int string, int ms) {
  struct worker *w = r->w;
  struct timespec until;
  long result;
  if (size == 0) return string ? -ENAMETOOLONG : 0;     /* as the plain reads answer */
  if (!w) {
    if (__atomic_load_n(&r->stuck->count, __ATOMIC_ACQUIRE) >= MAX_STUCK) return -EAGAIN;
    if (!(w = r->w = worker_start())) return -EAGAIN;
    r->cpu = -1;
  }
  follow(r);
  if (w->room < size) {                  /* the worker is idle: its buffer is ours */
    char *more = realloc(w->buf, size);
    if (!more) return -ENOMEM;
    w->buf = more;
    w->room = size;
  }
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
  pthread_mutex_lock(&w->lock);
  w->pid = pid;
  w->addr = addr;
  w->size = size;
  w->string = string;
  w->done = 0;
  w->has_job = 1;
  pthread_cond_broadcast(&w->cond);
  while (!w->done)
    if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT) break;
  if (!w->done) {                        /* left to the worker, which frees itself */
    w->abandoned = 1;
    w->stuck = r->stuck;
    __atomic_add_fetch(&r->stuck->refs, 1, __ATOMIC_ACQ_REL);
    __atomic_add_fetch(&r->stuck->count, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&w->lock);
    r->w = NULL;
    return -ETIMEDOUT;
  }
  result = w->result;
  if (result >= 0) memcpy(buf, w->buf, (size_t)result + (string ? 1 : 0));
  else if (string && result == -ENAMETOOLONG) memcpy(buf, w->buf, size);
  pthread_mutex_unlock(&w->lock);
  return result;
}

long sx_notify_string_within(pid_t pid, uint64_t addr, char *buf, size_t size, int ms) {
  struct sx_notify_reader *r = sx_notify_reader_new();
  long result = r ? sx_notify_reader_read(r, pid, addr, buf, size, 1, ms) : -ENOMEM;
  sx_notify_reader_free(r);
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
  /* O_NONBLOCK for the open itself: a FIFO without a peer, or a lease the caller holds,
  ** fails the open (ENXIO, EWOULDBLOCK) instead of holding the supervisor up. */
  how.flags = (uint64_t)(unsigned)flags | O_CLOEXEC | (flags & O_PATH ? 0 : O_NONBLOCK);
  how.mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  if (fd < 0) return -errno;
  if (!(flags & (O_NONBLOCK | O_PATH)) && fcntl((int)fd, F_SETFL, fcntl((int)fd, F_GETFL) & ~O_NONBLOCK) != 0) {
    int e = errno;
    close((int)fd);
    return -e;
  }
  return (int)fd;
}

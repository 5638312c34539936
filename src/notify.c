/*
** notify.c: answering seccomp user notifications (see sx_notify.h).
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
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

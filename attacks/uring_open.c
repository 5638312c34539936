/* uring_open: open and read a file through io_uring (IORING_OP_OPENAT + IORING_OP_READ).
** io_uring's operations are not system calls: seccomp never sees the open, so neither a
** filter's openat rule nor a supervisor's handler (policies/broker.lua) decides it. Only
** io_uring_setup, io_uring_enter and mmap are made. @aio (in @system-service) allows them.
** Usage: uring_open PATH; prints the first 4 KiB of PATH. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int ring_fd;
static unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;

static int setup(void) {
  struct io_uring_params p;
  void *sq, *cq;
  memset(&p, 0, sizeof p);
  ring_fd = (int)syscall(SYS_io_uring_setup, 8, &p);
  if (ring_fd < 0) return -errno;
  sq = mmap(0, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
            MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQ_RING);
  cq = mmap(0, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe), PROT_READ | PROT_WRITE,
            MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_CQ_RING);
  sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQES);
  if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) return -errno;
  sq_tail = (unsigned *)((char *)sq + p.sq_off.tail);
  sq_mask = (unsigned *)((char *)sq + p.sq_off.ring_mask);
  sq_array = (unsigned *)((char *)sq + p.sq_off.array);
  cq_head = (unsigned *)((char *)cq + p.cq_off.head);
  cq_tail = (unsigned *)((char *)cq + p.cq_off.tail);
  cq_mask = (unsigned *)((char *)cq + p.cq_off.ring_mask);
  cqes = (struct io_uring_cqe *)((char *)cq + p.cq_off.cqes);
  return 0;
}

/* Submit one SQE and wait for its completion; its result. */
static int run(struct io_uring_sqe *tmpl) {
  unsigned tail = *sq_tail, idx = tail & *sq_mask, head;
  int res;
  sqes[idx] = *tmpl;
  sq_array[idx] = idx;
  __atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
  if (syscall(SYS_io_uring_enter, ring_fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) return -errno;
  head = __atomic_load_n(cq_head, __ATOMIC_ACQUIRE);
  while (head == __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE)) {}
  res = cqes[head & *cq_mask].res;
  __atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
  return res;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "/etc/shadow";
  static char buf[4096];
  struct io_uring_sqe sqe;
  int rc, fd;
  if ((rc = setup()) < 0) { fprintf(stderr, "uring_open: io_uring_setup: %s\n", strerror(-rc)); return 1; }
  memset(&sqe, 0, sizeof sqe);
  sqe.opcode = IORING_OP_OPENAT;
  sqe.fd = AT_FDCWD;
  sqe.addr = (unsigned long)path;
  sqe.open_flags = O_RDONLY;
  fd = run(&sqe);
  if (fd < 0) { fprintf(stderr, "uring_open: OPENAT %s: %s\n", path, strerror(-fd)); return 1; }
  fprintf(stderr, "uring_open: %s is descriptor %d\n", path, fd);
  memset(&sqe, 0, sizeof sqe);
  sqe.opcode = IORING_OP_READ;
  sqe.fd = fd;
  sqe.addr = (unsigned long)buf;
  sqe.len = sizeof buf;
  rc = run(&sqe);
  if (rc < 0) { fprintf(stderr, "uring_open: READ: %s\n", strerror(-rc)); return 1; }
  fwrite(buf, 1, (size_t)rc, stdout);
  return 0;
}

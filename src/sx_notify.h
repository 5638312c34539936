/*
** sx_notify.h: what a supervisor needs to answer seccomp user notifications, plain C.
**
** A supervisor reads a notified call's arguments (strings, bytes) from the caller's
** memory, then asks the kernel whether the notification is still valid before it trusts
** what it read: the caller could have died and its pid been reused. Whatever it read can
** also change the moment it is read (another thread of the caller): a supervisor that
** looks at a pointer argument and then lets the call continue has decided nothing
** (seccomp_unotify(2)). The safe pattern is a broker: do the operation in the supervisor
** and inject the result (sx_notify_addfd), e.g. a file opened with sx_open_beneath.
**
** Functions return 0 (or a count, or a descriptor) on success and -errno on failure.
*/
#ifndef SX_NOTIFY_H
#define SX_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Copy up to `size` bytes at `addr` in process `pid`; returns the count copied (short
** when the memory ends). */
SX_API long sx_notify_read(pid_t pid, uint64_t addr, void *buf, size_t size);
/* A NUL-terminated string at `addr`, at most size - 1 bytes; returns its length, or
** -ENAMETOOLONG when no NUL comes in time. */
SX_API long sx_notify_string(pid_t pid, uint64_t addr, char *buf, size_t size);
/* A reader that gives up. A caller can make its memory stall whoever reads it (a
** userfaultfd page), and a supervisor must go on: a reader reads on a thread of its own,
** kept from read to read, and one that takes longer than `ms` milliseconds fails with
** -ETIMEDOUT and is left to that thread, which ends (freeing what it had) when the
** caller's memory answers or goes away (kill it); the next read starts a new thread.
** string = 1 reads as sx_notify_string, 0 as sx_notify_read. With 8 threads stuck so, a
** read fails at once with -EAGAIN (a workload could stall read after read) until one of
** them ends. A reader is one caller's: it is not for two threads at once. */
struct sx_notify_reader;
SX_API struct sx_notify_reader *sx_notify_reader_new(void);
SX_API void sx_notify_reader_free(struct sx_notify_reader *r);
SX_API long sx_notify_reader_read(struct sx_notify_reader *r, pid_t pid, uint64_t addr,
                                  char *buf, size_t size, int string, int ms);
/* sx_notify_string that gives up after `ms` milliseconds: one read of a reader of its own. */
SX_API long sx_notify_string_within(pid_t pid, uint64_t addr, char *buf, size_t size, int ms);
/* Is notification `id` still waiting for an answer? 0 when it is. */
SX_API int sx_notify_valid(int listener, uint64_t id);
/* Answer `id`: error (a positive errno) or, with error 0, the return value `value`; or
** let the call continue (cont = 1: NOT a security decision, see above). */
SX_API int sx_notify_send(int listener, uint64_t id, int error, int64_t value, int cont);
/* Put descriptor `fd` of this process into the caller, close-on-exec when asked, and
** answer `id` with its number there (SECCOMP_ADDFD_FLAG_SEND): the new descriptor. */
SX_API int sx_notify_addfd(int listener, uint64_t id, int fd, int cloexec);
/* The thread group of thread `tid` (its process), from /proc. */
SX_API pid_t sx_notify_tgid(pid_t tid);
/* Open `path` beneath directory `dirfd` with openat2(2): RESOLVE_BENEATH (no "..",
** absolute path or symlink that leaves it) and RESOLVE_NO_MAGICLINKS. The descriptor
** is close-on-exec. The open never waits: it is made with O_NONBLOCK (cleared after,
** unless `flags` has it), so a FIFO without a peer fails with ENXIO or opens at once, and
** a file under a lease fails with EWOULDBLOCK (the caller could otherwise hold the
** supervisor up for the lease-break time, 45 s, an open). */
SX_API int sx_open_beneath(int dirfd, const char *path, int flags, unsigned mode);

#ifdef __cplusplus
}
#endif
#endif

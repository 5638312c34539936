/*
** outlet.h: writing to a descriptor the workload shares (sxlua's stderr) without ever
** waiting on it.
**
** The workload inherits sxlua's stderr and shares its open file: it can set O_NONBLOCK
** on it, fill the pipe behind it, stop the terminal's output (TCXONC), set TOSTOP, or
** hold the pipe's lock (a splice from an empty socket into it waits with the lock held,
** and every write, non-blocking or not, waits for the lock). A supervisor that waited to
** write a report line would stop answering notifications: a kill would wait with it. So
** an outlet's lines go into a queue, and a thread of the outlet's own writes them: the
** caller never waits on the descriptor, only (briefly) on the queue's lock.
**
** The thread writes through a file of the outlet's own, opened on the same pipe or
** terminal before the workload exists (/proc/self/fd/N: a new open file, whose
** O_NONBLOCK is its own), or through the shared one where it cannot reopen it: a socket
** (sent to with MSG_NOSIGNAL), a regular file (whose offset the two must share). On a
** terminal it writes with SIGTTOU blocked (a background sxlua would stop on TOSTOP), and
** restarts the terminal's output once when it takes nothing for a second (TCOON).
*/
#ifndef SX_OUTLET_H
#define SX_OUTLET_H

#include <stddef.h>

struct sx_outlet;

/* An outlet onto descriptor fd, queueing at most `limit` bytes; NULL with errno set. */
struct sx_outlet *sx_outlet_new(int fd, size_t limit);

/* Queues len bytes (one line, whole or not at all): 1, or 0 when the queue has no room
** (the line is counted as lost). Never waits on the descriptor. */
int sx_outlet_put(struct sx_outlet *o, const void *buf, size_t len);

/* Waits until the queue is written (as long as the descriptor takes: the workload is
** gone), stops the thread and frees the outlet; returns how many lines were lost. */
size_t sx_outlet_finish(struct sx_outlet *o);

#endif

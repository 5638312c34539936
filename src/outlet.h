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
** The thread writes through a descriptor of its own (close-on-exec, taken before the
** workload exists) onto the shared open file, with every signal blocked: a SIGTTOU
** blocked counts as ignored (TOSTOP stops no background sxlua), SIGPIPE becomes EPIPE.
** O_NONBLOCK set by the workload makes it poll; O_DIRECT it clears. drain() restarts a
** terminal's output once when it takes nothing for a second (TCOON).
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
** gone); how many lines were lost so far. */
size_t sx_outlet_drain(struct sx_outlet *o);

/* Drains, stops the thread and frees the outlet; returns how many lines were lost. */
size_t sx_outlet_finish(struct sx_outlet *o);

#endif

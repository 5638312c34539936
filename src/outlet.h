/*
** outlet.h: writing to a descriptor the workload shares (sxlua's stderr) without ever
** waiting on it.
**
** The workload inherits sxlua's stderr and shares its open file: it can set O_NONBLOCK
** on it, fill the pipe behind it, or stop the terminal's output (TCXONC), and a
** supervisor that blocked writing a report line would stop answering notifications: a
** kill would wait with it. An outlet writes through a file of its own, opened on the same
** pipe or terminal before the workload exists (/proc/self/fd/N: a new open file, so its
** O_NONBLOCK is its own), or through the shared one where that cannot stall: a socket,
** written with MSG_DONTWAIT; a regular file, whose offset the two must share.
*/
#ifndef SX_OUTLET_H
#define SX_OUTLET_H

#include <stddef.h>

enum sx_outlet_kind {
  SX_OUTLET_OWN,        /* a file of the outlet's own, non-blocking */
  SX_OUTLET_SOCKET,     /* the shared socket, each send MSG_DONTWAIT */
  SX_OUTLET_FILE,       /* the shared file: a regular file, or what could not be reopened */
  SX_OUTLET_TTY,        /* a terminal, through a file of its own, non-blocking; written with
                        ** SIGTTOU blocked: the workload may set TOSTOP on it, which would
                        ** stop a sxlua in the background at its next line */
};

/* An outlet onto descriptor fd: a new descriptor (close-on-exec) and its kind, or -errno. */
int sx_outlet_open(int fd, enum sx_outlet_kind *kind);

/* Writes what the outlet takes now of buf: the bytes written, or -errno (-EAGAIN: none
** now). A SX_OUTLET_FILE that is no regular file is written only when poll says it can
** take some (a pipe then takes PIPE_BUF bytes at once; a terminal may take less). */
long sx_outlet_write(int out, enum sx_outlet_kind kind, const void *buf, size_t len);

/* Waits up to ms (-1: for ever) until the outlet can take more: 1, 0 on time out, -errno. */
int sx_outlet_wait(int out, int ms);

/* Restarts a terminal's output that was stopped (TCXONC TCOON: the workload shares the
** terminal and may have stopped it, which would hold sxlua's last lines, and the user's
** shell after, for ever). 1 when it was a terminal, 0 when not, -errno. */
int sx_outlet_restart(int out);

#endif

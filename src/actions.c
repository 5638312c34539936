/*
** actions.c: names of seccomp return actions and of errno values.
*/
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sx.h"

const char *sx_errno_name(int e) {
  if (e < 0 || e > (int)SX_MAX_ERRNO) return NULL;
  return strerrorname_np(e);
}

int sx_errno_from_name(const char *name) {
  for (int e = 1; e <= (int)SX_MAX_ERRNO; e++) {
    const char *n = strerrorname_np(e);
    if (n && strcasecmp(n, name) == 0) return e;
  }
  return -1;
}

size_t sx_action_format(uint32_t action, char *buf, size_t size) {
  uint32_t data = action & SX_RET_DATA;
  const char *name = NULL;
  int n;
  switch (action & SX_RET_ACTION_FULL) {
    case SX_RET_KILL_PROCESS: name = "kill_process"; break;
    case SX_RET_KILL_THREAD: name = "kill_thread"; break;
    case SX_RET_TRAP: name = "trap"; break;
    case SX_RET_USER_NOTIF: name = "notify"; break;
    case SX_RET_LOG: name = "log"; break;
    case SX_RET_ALLOW: name = "allow"; break;
    case SX_RET_ERRNO: {
      const char *e = sx_errno_name((int)data);
      n = e && data <= SX_MAX_ERRNO ? snprintf(buf, size, "errno(%s)", e)
                                    : snprintf(buf, size, "errno(%u)", data);
      return n < 0 ? 0 : (size_t)n;
    }
    case SX_RET_TRACE:
      n = snprintf(buf, size, "trace(%u)", data);
      return n < 0 ? 0 : (size_t)n;
    default: break;
  }
  n = name && data == 0 ? snprintf(buf, size, "%s", name)
                        : snprintf(buf, size, "0x%08x", action);
  return n < 0 ? 0 : (size_t)n;
}

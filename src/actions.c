/*
** actions.c: names of seccomp return actions and of errno values, both ways.
*/
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

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

/* The actions that carry no data, by name. */
static const struct { const char *name; uint32_t value; } plain_actions[] = {
  { "allow", SX_RET_ALLOW }, { "kill_process", SX_RET_KILL_PROCESS },
  { "kill_thread", SX_RET_KILL_THREAD }, { "trap", SX_RET_TRAP },
  { "log", SX_RET_LOG }, { "notify", SX_RET_USER_NOTIF },
};
enum { NPLAIN = sizeof plain_actions / sizeof *plain_actions };

size_t sx_action_format(uint32_t action, char *buf, size_t size) {
  uint32_t data = action & SX_RET_DATA;
  const char *name = NULL;
  int n;
  switch (action & SX_RET_ACTION_FULL) {
    case SX_RET_ERRNO: {
      const char *e = sx_errno_name((int)data);
      n = e && data <= SX_MAX_ERRNO ? snprintf(buf, size, "errno(%s)", e)
                                    : snprintf(buf, size, "errno(%u)", data);
      return n < 0 ? 0 : (size_t)n;
    }
    case SX_RET_TRACE:
      n = snprintf(buf, size, "trace(%u)", data);
      return n < 0 ? 0 : (size_t)n;
    default:
      for (size_t i = 0; i < NPLAIN; i++)
        if (plain_actions[i].value == (action & SX_RET_ACTION_FULL)) name = plain_actions[i].name;
  }
  n = name && data == 0 ? snprintf(buf, size, "%s", name)
                        : snprintf(buf, size, "0x%08x", action);
  return n < 0 ? 0 : (size_t)n;
}

static int parse_digits(const char *s, size_t len, uint32_t limit, uint32_t *out) {
  uint32_t v = 0;
  if (len == 0) return 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (uint32_t)(s[i] - '0');
    if (v > limit) return 0;
  }
  *out = v;
  return 1;
}

int sx_action_parse(const char *s, size_t len, uint32_t *value) {
  char buf[48];
  uint32_t n;
  int e;
  if (len >= sizeof buf || memchr(s, '\0', len)) return 0;
  for (size_t i = 0; i < len; i++) buf[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
  buf[len] = '\0';
  for (size_t i = 0; i < NPLAIN; i++)
    if (strcmp(buf, plain_actions[i].name) == 0) return *value = plain_actions[i].value, 1;
  if (len < 8 || buf[len - 1] != ')') return 0;
  buf[len - 1] = '\0';
  if (strncmp(buf, "errno(", 6) == 0) {
    if (parse_digits(buf + 6, len - 7, SX_MAX_ERRNO, &n)) return *value = SX_RET_ERRNO | n, 1;
    if (buf[6] == '\0' || (e = sx_errno_from_name(buf + 6)) < 0) return 0;
    return *value = SX_RET_ERRNO | (uint32_t)e, 1;
  }
  if (strncmp(buf, "trace(", 6) == 0 && parse_digits(buf + 6, len - 7, SX_RET_DATA, &n))
    return *value = SX_RET_TRACE | n, 1;
  return 0;
}

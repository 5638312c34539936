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
    if (n && (n[0] | 0x20) == (name[0] | 0x20) && strcasecmp(n, name) == 0) return e;
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

/* The errno name closest to `name` (upper case), or NULL when none is close. */
static const char *errno_suggest(const char *name) {
  const char *best = NULL;
  int best_distance = 3;              /* at most two edits */
  for (int e = 1; e <= (int)SX_MAX_ERRNO; e++) {
    const char *n = strerrorname_np(e);
    int d = n ? sx_edit_distance(name, n) : 3;
    if (d < best_distance) { best_distance = d; best = n; }
  }
  return best;
}

static int bad_errno(const char *arg, struct sx_error *err) {
  char upper[48];
  const char *near;
  size_t i = 0;
  for (; arg[i] && i + 1 < sizeof upper; i++)
    upper[i] = (char)(arg[i] >= 'a' && arg[i] <= 'z' ? arg[i] - 32 : arg[i]);
  upper[i] = '\0';
  if (arg[0] >= '0' && arg[0] <= '9')
    sx_set_error(err, SX_E_BAD_ACTION, -1, "errno %s is not in 0..%u", arg, SX_MAX_ERRNO);
  else if ((near = errno_suggest(upper)) != NULL)
    sx_set_error(err, SX_E_BAD_ACTION, -1, "unknown errno name '%s' (did you mean '%s'?)", arg,
                 near);
  else
    sx_set_error(err, SX_E_BAD_ACTION, -1, "unknown errno name '%s'", arg);
  return SX_E_BAD_ACTION;
}

int sx_action_parse(const char *s, size_t len, uint32_t *value, struct sx_error *err) {
  char buf[48];
  uint32_t n;
  int e;
  if (len >= sizeof buf || memchr(s, '\0', len)) goto unknown;
  for (size_t i = 0; i < len; i++) buf[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
  buf[len] = '\0';
  for (size_t i = 0; i < NPLAIN; i++)
    if (strcmp(buf, plain_actions[i].name) == 0) return *value = plain_actions[i].value, SX_OK;
  if (len < 7 || buf[len - 1] != ')') goto unknown;
  buf[len - 1] = '\0';
  if (strncmp(buf, "errno(", 6) == 0) {
    if (parse_digits(buf + 6, len - 7, SX_MAX_ERRNO, &n)) return *value = SX_RET_ERRNO | n, SX_OK;
    if (buf[6] == '\0' || (e = sx_errno_from_name(buf + 6)) < 0) {
      char arg[48];
      memcpy(arg, s + 6, len - 7);
      arg[len - 7] = '\0';
      return bad_errno(arg, err);
    }
    return *value = SX_RET_ERRNO | (uint32_t)e, SX_OK;
  }
  if (strncmp(buf, "trace(", 6) == 0) {
    if (parse_digits(buf + 6, len - 7, SX_RET_DATA, &n)) return *value = SX_RET_TRACE | n, SX_OK;
    return sx_set_error(err, SX_E_BAD_ACTION, -1, "trace takes an integer 0..65535"),
           SX_E_BAD_ACTION;
  }
unknown:
  sx_set_error(err, SX_E_BAD_ACTION, -1, "unknown action '%.*s' (actions: allow, kill_process, "
               "kill_thread, trap, log, notify, errno(E), trace(N))", (int)(len < 40 ? len : 40), s);
  return SX_E_BAD_ACTION;
}

/*
** rulefile.c: reads the shared rule file (see rulefile.h) into sx.h structs.
*/
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rulefile.h"

static const char *const op_names[SX_OP_COUNT] = {
  "eq", "ne", "lt", "le", "gt", "ge", "masked_eq"
};

static int fail(char *why, size_t size, size_t line, const char *msg, const char *tok) {
  snprintf(why, size, "line %zu: %s%s%s", line, msg, tok ? " " : "", tok ? tok : "");
  return -1;
}

static int number(const char *tok, uint64_t *out) {
  char *end;
  if (tok == NULL) return 0;
  errno = 0;
  *out = strtoull(tok, &end, 0);
  return errno == 0 && *end == '\0' && end != tok;
}

static char *slurp(FILE *f) {
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += got;
    if (cap - len < 2) {
      char *bigger = realloc(buf, cap * 2);
      if (!bigger) { free(buf); return NULL; }
      buf = bigger;
      cap *= 2;
    }
  }
  if (buf) buf[len] = '\0';
  return buf;
}

/* Counts first, so the arrays are allocated once and names can point into the text. */
static void count(const char *text, size_t *rules, size_t *conds) {
  *rules = *conds = 0;
  for (const char *s = text; *s; ) {
    const char *eol = strchr(s, '\n');
    size_t words = 0;
    if (!eol) eol = s + strlen(s);
    if (strncmp(s, "rule", 4) == 0) {
      for (const char *c = s; c < eol; c++)
        if (*c != ' ' && *c != '\t' && (c == s || c[-1] == ' ' || c[-1] == '\t')) words++;
      (*rules)++;
      *conds += words > 3 ? (words - 3) / 4 + 1 : 0;
    }
    s = *eol ? eol + 1 : eol;
  }
}

int rf_read(FILE *f, struct rf_policy *p, char *why, size_t size) {
  size_t maxrules, maxconds, line = 0;
  char *save = NULL, *s;
  memset(p, 0, sizeof *p);
  p->default_action = SX_RET_KILL_PROCESS;
  p->bad_arch_action = SX_RET_KILL_PROCESS;
  if ((p->text = slurp(f)) == NULL) return fail(why, size, 0, "cannot read the file", NULL);
  count(p->text, &maxrules, &maxconds);
  p->rules = calloc(maxrules + 1, sizeof *p->rules);
  p->conds = calloc(maxconds + 1, sizeof *p->conds);
  if (!p->rules || !p->conds) return fail(why, size, 0, "out of memory", NULL);
  for (s = strtok_r(p->text, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
    char *wsave = NULL, *w = strtok_r(s, " \t\r", &wsave);
    uint64_t v;
    line++;   /* strtok_r skips empty lines: numbers count non-empty lines */
    if (w == NULL || w[0] == '#') continue;
    if (strcmp(w, "arches") == 0) {
      while ((w = strtok_r(NULL, " \t\r", &wsave)) != NULL) {
        if (p->narches == RF_MAX_ARCHES) return fail(why, size, line, "too many arches", NULL);
        p->arches[p->narches++] = w;
      }
    } else if (strcmp(w, "default") == 0 || strcmp(w, "bad_arch") == 0) {
      int is_default = w[0] == 'd';
      if (!number(strtok_r(NULL, " \t\r", &wsave), &v) || v > 0xffffffffu)
        return fail(why, size, line, "bad action in", w);
      if (is_default) p->default_action = (uint32_t)v; else p->bad_arch_action = (uint32_t)v;
    } else if (strcmp(w, "rule") == 0) {
      struct sx_rule *r = &p->rules[p->nrules++];
      if (!number(strtok_r(NULL, " \t\r", &wsave), &v) || v > 0xffffffffu)
        return fail(why, size, line, "bad rule action", NULL);
      r->action = (uint32_t)v;
      if ((w = strtok_r(NULL, " \t\r", &wsave)) == NULL)
        return fail(why, size, line, "rule without a syscall", NULL);
      if (w[0] == '#') {
        if (!number(w + 1, &v)) return fail(why, size, line, "bad syscall number", w);
        r->syscall = NULL;
        r->number = (long)v;
      } else {
        r->syscall = w;
        r->number = -1;
      }
      r->conds = &p->conds[p->nconds];
      while ((w = strtok_r(NULL, " \t\r", &wsave)) != NULL) {
        struct sx_cond *c = &p->conds[p->nconds];
        const char *op = strtok_r(NULL, " \t\r", &wsave);
        uint64_t index;
        if (!number(w, &index) || index > 5) return fail(why, size, line, "bad arg index", w);
        c->index = (unsigned)index;
        c->op = -1;
        for (int o = 0; op && o < SX_OP_COUNT; o++)
          if (strcmp(op, op_names[o]) == 0) c->op = o;
        if (c->op < 0) return fail(why, size, line, "bad operator", op);
        if (!number(strtok_r(NULL, " \t\r", &wsave), &c->value) ||
            !number(strtok_r(NULL, " \t\r", &wsave), &c->mask))
          return fail(why, size, line, "a condition is: index op value mask", NULL);
        p->nconds++;
        r->ncond++;
      }
    } else {
      return fail(why, size, line, "unknown keyword", w);
    }
  }
  return 0;
}

int rf_read_path(const char *path, struct rf_policy *p, char *why, size_t size) {
  FILE *f = fopen(path, "r");
  int st;
  if (!f) {
    snprintf(why, size, "%s: %s", path, strerror(errno));
    memset(p, 0, sizeof *p);
    return -1;
  }
  st = rf_read(f, p, why, size);
  fclose(f);
  return st;
}

void rf_free(struct rf_policy *p) {
  free(p->rules);
  free(p->conds);
  free(p->text);
  memset(p, 0, sizeof *p);
}

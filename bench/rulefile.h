/*
** rulefile.h: the plain-text rule file the benchmarks and the differential test share.
**
** One file describes one policy so that sx and libseccomp compile exactly the same
** rules. Lines (blank lines and '#' comments ignored):
**   arches x86_64 i386 ...
**   default 0x00050001            (an action as the kernel's SECCOMP_RET_* value)
**   bad_arch 0x80000000
**   rule 0x7fff0000 read          (action, then a syscall name or #number)
**   rule 0x7fff0000 personality 0 eq 0x8 0x0   (then conditions: index op value mask)
** The types are sx.h's plain structs; nothing here needs sx or libseccomp linked.
*/
#ifndef SX_BENCH_RULEFILE_H
#define SX_BENCH_RULEFILE_H

#include <stdio.h>

#include "sx.h"

#define RF_MAX_ARCHES 8

struct rf_policy {
  const char *arches[RF_MAX_ARCHES];   /* names as sx spells them */
  size_t narches;
  uint32_t default_action, bad_arch_action;
  struct sx_rule *rules;
  size_t nrules;
  struct sx_cond *conds;               /* all rules' conditions, in rule order */
  size_t nconds;
  char *text;                          /* the file; names point into it */
};

/* Parse `f`; 0 on success, else -1 with a message "line N: why" in `why`. */
int rf_read(FILE *f, struct rf_policy *p, char *why, size_t size);
int rf_read_path(const char *path, struct rf_policy *p, char *why, size_t size);
void rf_free(struct rf_policy *p);

#endif

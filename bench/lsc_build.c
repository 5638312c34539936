/*
** lsc_build.c: rule file -> libseccomp filter context -> BPF bytes.
**
** libseccomp takes syscall numbers of the native arch and translates them for the
** others through its own name tables; names the native arch lacks resolve to its
** negative pseudo numbers, which translate too. The default, bad-arch action and every
** rule action are passed as the kernel's raw values, which libseccomp's SCMP_ACT_* are.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lsc_build.h"

static const struct { const char *name; uint32_t token; } arch_tokens[] = {
  { "x86_64", SCMP_ARCH_X86_64 }, { "i386", SCMP_ARCH_X86 }, { "x32", SCMP_ARCH_X32 },
  { "aarch64", SCMP_ARCH_AARCH64 }, { "arm", SCMP_ARCH_ARM },
  { "riscv64", SCMP_ARCH_RISCV64 }, { "s390x", SCMP_ARCH_S390X },
  { "ppc64le", SCMP_ARCH_PPC64LE },
};

uint32_t lsc_arch_token(const char *name) {
  for (size_t i = 0; i < sizeof arch_tokens / sizeof *arch_tokens; i++)
    if (strcmp(arch_tokens[i].name, name) == 0) return arch_tokens[i].token;
  return 0;
}

static const enum scmp_compare ops[SX_OP_COUNT] = {
  [SX_OP_EQ] = SCMP_CMP_EQ, [SX_OP_NE] = SCMP_CMP_NE, [SX_OP_LT] = SCMP_CMP_LT,
  [SX_OP_LE] = SCMP_CMP_LE, [SX_OP_GT] = SCMP_CMP_GT, [SX_OP_GE] = SCMP_CMP_GE,
  [SX_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

static void *fail(scmp_filter_ctx ctx, char *why, size_t size, const char *msg, long rule,
                  int rc) {
  if (rule >= 0) snprintf(why, size, "rule %ld: %s: %s", rule + 1, msg, strerror(-rc));
  else snprintf(why, size, "%s: %s", msg, strerror(rc < 0 ? -rc : rc));
  if (ctx) seccomp_release(ctx);
  return NULL;
}

/* The number libseccomp wants for rule `r`: native-arch context, or a pseudo number. */
static int rule_syscall(const struct rf_policy *p, const struct sx_rule *r) {
  if (r->syscall) return seccomp_syscall_resolve_name(r->syscall);
  if (p->narches == 1 && lsc_arch_token(p->arches[0]) != seccomp_arch_native()) {
    char *name = seccomp_syscall_resolve_num_arch(lsc_arch_token(p->arches[0]), (int)r->number);
    int nr = name ? seccomp_syscall_resolve_name(name) : __NR_SCMP_ERROR;
    free(name);
    return nr;
  }
  return (int)r->number;
}

void *lsc_context(const struct rf_policy *p, int optimize, char *why, size_t size) {
  scmp_filter_ctx ctx = seccomp_init(p->default_action);
  int rc, native_kept = 0;
  if (!ctx) return fail(NULL, why, size, "seccomp_init refused the default action", -1, EINVAL);
  if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, p->bad_arch_action)) ||
      (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, (uint32_t)optimize)))
    return fail(ctx, why, size, "seccomp_attr_set", -1, rc);
  for (size_t a = 0; a < p->narches; a++) {
    uint32_t token = lsc_arch_token(p->arches[a]);
    if (token == 0) return fail(ctx, why, size, "libseccomp 2.5 has no such arch", -1, EINVAL);
    if (token == seccomp_arch_native()) native_kept = 1;
  }
  /* The native arch goes first when unwanted: libseccomp refuses to mix byte orders. */
  if (!native_kept && (rc = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE)))
    return fail(ctx, why, size, "seccomp_arch_remove", -1, rc);
  for (size_t a = 0; a < p->narches; a++) {
    uint32_t token = lsc_arch_token(p->arches[a]);
    if (token != seccomp_arch_native() && (rc = seccomp_arch_add(ctx, token)))
      return fail(ctx, why, size, "seccomp_arch_add", -1, rc);
  }
  for (size_t i = 0; i < p->nrules; i++) {
    const struct sx_rule *r = &p->rules[i];
    struct scmp_arg_cmp cmp[SX_MAX_CONDS];
    int nr = rule_syscall(p, r);
    if (nr == __NR_SCMP_ERROR) return fail(ctx, why, size, "unknown syscall", (long)i, -EINVAL);
    for (unsigned c = 0; c < r->ncond && c < SX_MAX_CONDS; c++) {
      cmp[c].arg = r->conds[c].index;
      cmp[c].op = ops[r->conds[c].op];
      cmp[c].datum_a = r->conds[c].op == SX_OP_MASKED_EQ ? r->conds[c].mask : r->conds[c].value;
      cmp[c].datum_b = r->conds[c].op == SX_OP_MASKED_EQ ? r->conds[c].value : 0;
    }
    if ((rc = seccomp_rule_add_array(ctx, r->action, nr, r->ncond, cmp)))
      return fail(ctx, why, size, "seccomp_rule_add_array", (long)i, rc);
  }
  return ctx;
}

int lsc_export(void *ctx, int memfd, unsigned char **bpf, size_t *len, char *why, size_t size) {
  off_t end;
  int rc;
  *bpf = NULL;
  *len = 0;
  if (ftruncate(memfd, 0) || lseek(memfd, 0, SEEK_SET) != 0)
    return fail(NULL, why, size, "memfd", -1, errno), -1;
  if ((rc = seccomp_export_bpf(ctx, memfd)))
    return fail(NULL, why, size, "seccomp_export_bpf", -1, rc), -1;
  if ((end = lseek(memfd, 0, SEEK_CUR)) <= 0 || (*bpf = malloc((size_t)end)) == NULL)
    return fail(NULL, why, size, "export produced nothing", -1, EIO), -1;
  if (pread(memfd, *bpf, (size_t)end, 0) != end) {
    free(*bpf);
    *bpf = NULL;
    return fail(NULL, why, size, "reading the export", -1, errno ? errno : EIO), -1;
  }
  *len = (size_t)end;
  return 0;
}

int lsc_compile(const struct rf_policy *p, int optimize, int memfd, unsigned char **bpf,
                size_t *len, char *why, size_t size) {
  void *ctx = lsc_context(p, optimize, why, size);
  int st;
  if (!ctx) return -1;
  st = lsc_export(ctx, memfd, bpf, len, why, size);
  seccomp_release(ctx);
  return st;
}

/*
** lsc_build.h: the same rule file compiled by libseccomp 2.5, the benchmark and
** differential-test peer (never linked into the product).
*/
#ifndef SX_BENCH_LSC_BUILD_H
#define SX_BENCH_LSC_BUILD_H

#include "rulefile.h"

/* libseccomp's arch token for an sx arch name, 0 when libseccomp 2.5 has none. */
uint32_t lsc_arch_token(const char *name);

/* A filter context holding the policy's rules; NULL with `why` filled on error.
** optimize: SCMP_FLTATR_CTL_OPTIMIZE (1 = libseccomp's default, 2 = binary tree). */
void *lsc_context(const struct rf_policy *p, int optimize, char *why, size_t size);

/* Export `ctx` as BPF through `memfd` (reused between calls) into *bpf (malloc'd,
** *len bytes); 0 or -1 with `why` filled. */
int lsc_export(void *ctx, int memfd, unsigned char **bpf, size_t *len, char *why, size_t size);

/* lsc_context, lsc_export and seccomp_release in one go. */
int lsc_compile(const struct rf_policy *p, int optimize, int memfd, unsigned char **bpf,
                size_t *len, char *why, size_t size);

#endif

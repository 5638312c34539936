/*
** libseccomp_oracle.c: build a filter with libseccomp, for the OCI agreement test.
**
**   libseccomp_oracle RULES OUT
**   libseccomp_oracle names ARCH < NAMES   (prints "NAME NR", NR -1 when unknown there)
**
** RULES is a line-based description (blank lines and '#' comments ignored):
**   arch NAME                 sx arch name (x86_64 i386 x32 aarch64 arm ...), repeatable;
**                             the first replaces libseccomp's native arch
**   default ACTION            kernel action value, e.g. 0x00050001 for errno(EPERM)
**   badarch ACTION
**   rule ACTION SYSCALL [INDEX OP A B]...
**                             OP is eq ne lt le gt ge masked_eq; A and B are libseccomp's
**                             datum_a and datum_b (for masked_eq: mask, value)
** The program libseccomp generates (seccomp_export_bpf) is written to OUT. Rules
** libseccomp refuses are not fatal: each is reported on stdout as
**   refused LINE SYSCALL ERRNO-NAME
** and names libseccomp does not know as
**   unknown LINE SYSCALL
** so a test can tell libseccomp's reading of a rule set from a bug.
**
** Test-only: this file links libseccomp; nothing in the product does.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint32_t arch_token(const char *name) {
  static const struct { const char *name; uint32_t token; } map[] = {
    { "x86_64", SCMP_ARCH_X86_64 }, { "i386", SCMP_ARCH_X86 }, { "x32", SCMP_ARCH_X32 },
    { "aarch64", SCMP_ARCH_AARCH64 }, { "arm", SCMP_ARCH_ARM },
    { "riscv64", SCMP_ARCH_RISCV64 }, { "s390x", SCMP_ARCH_S390X },
    { "ppc64le", SCMP_ARCH_PPC64LE },
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(map[i].name, name) == 0) return map[i].token;
  return 0;
}

static int op_code(const char *name) {
  static const struct { const char *name; enum scmp_compare op; } map[] = {
    { "ne", SCMP_CMP_NE }, { "lt", SCMP_CMP_LT }, { "le", SCMP_CMP_LE },
    { "eq", SCMP_CMP_EQ }, { "ge", SCMP_CMP_GE }, { "gt", SCMP_CMP_GT },
    { "masked_eq", SCMP_CMP_MASKED_EQ },
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(map[i].name, name) == 0) return (int)map[i].op;
  return -1;
}

static int parse_u32(const char *s, uint32_t *out) {
  char *end;
  unsigned long long v;
  errno = 0;
  v = strtoull(s, &end, 0);
  if (errno || *end || v > 0xffffffffull) return -1;
  *out = (uint32_t)v;
  return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  *out = strtoull(s, &end, 0);
  return (errno || *end || s[0] == '-') ? -1 : 0;
}

static int die(long line, const char *what) {
  fprintf(stderr, "libseccomp_oracle: line %ld: %s\n", line, what);
  return 2;
}

/* Write the program libseccomp generates to the file `out`. */
static int export_to(scmp_filter_ctx ctx, const char *out) {
  int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) { perror(out); return 1; }
  int rc = seccomp_export_bpf(ctx, fd);
  if (close(fd) || rc) { fprintf(stderr, "seccomp_export_bpf: %s\n", strerror(-rc)); return 1; }
  return 0;
}

/* A context for the default and bad-arch actions and the arches (the first replaces the
** native one); NULL when libseccomp refuses them. */
static scmp_filter_ctx make_ctx(uint32_t def, uint32_t badarch, const uint32_t *arches,
                                int narch) {
  scmp_filter_ctx ctx = seccomp_init(def);
  if (!ctx) return NULL;
  int bad = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, badarch) != 0;
  if (!bad && narch > 0 && arches[0] != seccomp_arch_native())
    bad = seccomp_arch_add(ctx, arches[0]) || seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
  for (int a = 1; !bad && a < narch; a++) bad = seccomp_arch_add(ctx, arches[a]) != 0;
  if (bad) { seccomp_release(ctx); return NULL; }
  return ctx;
}

/* libseccomp's own number for each name on stdin, so a test can leave out the syscalls
** where libseccomp's tables (older than the kernel's) and sx's differ. */
static int names(const char *arch) {
  uint32_t token = arch_token(arch);
  char line[256];
  if (!token) { fprintf(stderr, "libseccomp_oracle: unknown arch %s\n", arch); return 1; }
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0]) continue;
    int nr = seccomp_syscall_resolve_name_arch(token, line);
    printf("%s %d\n", line, nr < 0 ? -1 : nr);
  }
  return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "names") == 0) return names(argv[2]);
  if (argc != 3) {
    fprintf(stderr, "usage: libseccomp_oracle RULES OUT | names ARCH < NAMES\n");
    return 1;
  }
  FILE *in = fopen(argv[1], "r");
  if (!in) { perror(argv[1]); return 1; }
  char buf[4096];
  long line = 0;
  int narch = 0;
  scmp_filter_ctx ctx = NULL;
  uint32_t def = SCMP_ACT_KILL_PROCESS, badarch = SCMP_ACT_KILL_PROCESS;
  /* The context is made at the first rule (or at the end), once default is known. */
  uint32_t arches[16];
  while (fgets(buf, sizeof buf, in)) {
    line++;
    char *tok[64];
    int n = 0;
    for (char *s = strtok(buf, " \t\r\n"); s && n < 64; s = strtok(NULL, " \t\r\n")) tok[n++] = s;
    if (n == 0 || tok[0][0] == '#') continue;
    if (strcmp(tok[0], "arch") == 0 && n == 2) {
      if (ctx) return die(line, "arch after the first rule");
      if (narch == 16 || !(arches[narch++] = arch_token(tok[1]))) return die(line, "bad arch");
    } else if (strcmp(tok[0], "default") == 0 && n == 2) {
      if (ctx || parse_u32(tok[1], &def)) return die(line, "bad default");
    } else if (strcmp(tok[0], "badarch") == 0 && n == 2) {
      if (ctx || parse_u32(tok[1], &badarch)) return die(line, "bad badarch");
    } else if (strcmp(tok[0], "rule") == 0 && n >= 3 && (n - 3) % 4 == 0) {
      if (!ctx && !(ctx = make_ctx(def, badarch, arches, narch)))
        return die(line, "libseccomp refuses the default, bad-arch action or arches");
      uint32_t act;
      if (parse_u32(tok[1], &act)) return die(line, "bad action");
      int nr = seccomp_syscall_resolve_name(tok[2]);
      if (nr == __NR_SCMP_ERROR) {
        printf("unknown %ld %s\n", line, tok[2]);
        continue;
      }
      struct scmp_arg_cmp conds[15];
      unsigned nc = 0;
      for (int i = 3; i + 3 < n && nc < 15; i += 4, nc++) {
        uint32_t index;
        int op = op_code(tok[i + 1]);
        if (parse_u32(tok[i], &index) || index > 5 || op < 0 ||
            parse_u64(tok[i + 2], &conds[nc].datum_a) || parse_u64(tok[i + 3], &conds[nc].datum_b))
          return die(line, "bad condition");
        conds[nc].arg = index;
        conds[nc].op = (enum scmp_compare)op;
      }
      int rc = seccomp_rule_add_array(ctx, act, nr, nc, conds);
      if (rc) printf("refused %ld %s %s\n", line, tok[2], strerrorname_np(-rc));
    } else {
      return die(line, "cannot read this line");
    }
  }
  fclose(in);
  if (!ctx && !(ctx = make_ctx(def, badarch, arches, narch)))
    return die(line, "libseccomp refuses the default, bad-arch action or arches");
  int rc = export_to(ctx, argv[2]);
  seccomp_release(ctx);
  return rc || fflush(stdout) ? 1 : 0;
}

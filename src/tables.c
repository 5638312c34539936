/*
** tables.c: architectures and syscall names.
**
** The syscall numbers come from syscalls.inc, generated from the shared syscalls.tsv by
** tools/gen_syscalls.lua; this file only looks things up in it.
*/
#include <limits.h>
#include <string.h>

#include "rules.h"

/* Names sit in fixed room, zero-padded, so a lookup compares them 8 bytes at a time
** (tools/gen_syscalls.lua refuses a name that does not fit). */
enum { NAME_ROOM = 32 };

struct syscall_row {
  char name[NAME_ROOM];
  unsigned char len;
  int numbers[SX_ARCH_COUNT];
};

#include "syscalls.inc"

struct arch_info {
  const char *name;
  uint32_t audit;
  int big_endian;
};

/* AUDIT_ARCH_* values from <linux/audit.h>: EM_* | 64BIT (0x80000000) | LE (0x40000000). */
static const struct arch_info arch_infos[SX_ARCH_COUNT] = {
  [SX_ARCH_X86_64]      = { "x86_64",      0xc000003eu, 0 },
  [SX_ARCH_I386]        = { "i386",        0x40000003u, 0 },
  [SX_ARCH_X32]         = { "x32",         0xc000003eu, 0 },
  [SX_ARCH_AARCH64]     = { "aarch64",     0xc00000b7u, 0 },
  [SX_ARCH_ARM]         = { "arm",         0x40000028u, 0 },
  [SX_ARCH_RISCV64]     = { "riscv64",     0xc00000f3u, 0 },
  [SX_ARCH_LOONGARCH64] = { "loongarch64", 0xc0000102u, 0 },
  [SX_ARCH_S390X]       = { "s390x",       0x80000016u, 1 },
  [SX_ARCH_PPC64LE]     = { "ppc64le",     0xc0000015u, 0 },
};

const char *sx_arch_name(int arch) {
  return (arch >= 0 && arch < SX_ARCH_COUNT) ? arch_infos[arch].name : NULL;
}

int sx_arch_from_name(const char *name) {
  for (int a = 0; a < SX_ARCH_COUNT; a++)
    if (strcmp(arch_infos[a].name, name) == 0) return a;
  return -1;
}

uint32_t sx_arch_audit(int arch) {
  return (arch >= 0 && arch < SX_ARCH_COUNT) ? arch_infos[arch].audit : 0;
}

int sx_arch_big_endian(int arch) {
  return (arch >= 0 && arch < SX_ARCH_COUNT) ? arch_infos[arch].big_endian : 0;
}

int sx_arch_bits(int arch) {
  /* __AUDIT_ARCH_64BIT; x32 shares x86_64's audit arch and its 64-bit registers */
  return (sx_arch_audit(arch) & 0x80000000u) ? 64 : 32;
}

int sx_arch_host(void) {
#if defined(__x86_64__) && defined(__ILP32__)
  return SX_ARCH_X32;
#elif defined(__x86_64__)
  return SX_ARCH_X86_64;
#elif defined(__i386__)
  return SX_ARCH_I386;
#elif defined(__aarch64__)
  return SX_ARCH_AARCH64;
#elif defined(__arm__)
  return SX_ARCH_ARM;
#elif defined(__riscv) && __riscv_xlen == 64
  return SX_ARCH_RISCV64;
#elif defined(__loongarch64)
  return SX_ARCH_LOONGARCH64;
#elif defined(__s390x__)
  return SX_ARCH_S390X;
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  return SX_ARCH_PPC64LE;
#else
  return -1;
#endif
}

static uint64_t le64(const char *p) {
  uint64_t w;
  memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap64(w);
#endif
  return w;
}

static uint64_t le32(const char *p) {
  uint32_t w;
  memcpy(&w, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap32(w);
#endif
  return w;
}

/* The first n bytes (n < 8) as a little-endian word, read without a loop: two overlapping
** 4-byte loads, or for 1..3 bytes the first, middle and last. */
static uint64_t le_short(const char *p, size_t n) {
  const unsigned char *u = (const unsigned char *)p;
  if (n >= 4) return le32(p) | (le32(p + n - 4) >> (8 * (8 - n))) << 32;
  if (n == 0) return 0;
  return (uint64_t)u[0] | (uint64_t)u[n / 2] << (8 * (n / 2)) |
         (uint64_t)u[n - 1] << (8 * (n - 1));
}

/* The hash tools/gen_syscalls.lua put the names into syscall_slots with: the first and
** the last 8 bytes and the length, so a lookup costs the same for every name, in two
** multiplies that run side by side; the slot is the sum's top bits. */
static uint32_t name_slot(size_t len, uint64_t first, uint64_t last) {
  return (uint32_t)((first * 0x9e3779b97f4a7c15u + (last ^ len) * 0xc4ceb9fe1a85ec53u) >>
                    (64 - SX_SYSCALL_SLOT_BITS));
}

int sx_syscall_row_len(const char *name, size_t len) {
  uint64_t first, last;
  if (len >= NAME_ROOM) return -1;
  first = len < 8 ? le_short(name, len) : le64(name);
  last = len > 8 ? le64(name + len - 8) : 0;
  for (uint32_t i = name_slot(len, first, last); syscall_slots[i] >= 0;
       i = (i + 1) & (SX_SYSCALL_SLOTS - 1)) {
    const struct syscall_row *row = &syscall_rows[syscall_slots[i]];
    /* the padding makes the row's 8-byte words the same as the name's; words at 0, 8, 16
    ** and len - 8 cover any name shorter than NAME_ROOM */
    if (row->len == len && le64(row->name) == first &&
        (len <= 8 || le64(row->name + len - 8) == last) &&
        (len <= 16 || le64(row->name + 8) == le64(name + 8)) &&
        (len <= 24 || le64(row->name + 16) == le64(name + 16)))
      return syscall_slots[i];
  }
  return -1;
}

int sx_syscall_row(const char *name) {
  return sx_syscall_row_len(name, strlen(name));
}

const int *sx_row_numbers(int row) {
  return row >= 0 && row < SX_SYSCALL_ROWS ? syscall_rows[row].numbers : NULL;
}

long sx_syscall_number(const char *name, int arch) {
  int row;
  if (arch < 0 || arch >= SX_ARCH_COUNT || (row = sx_syscall_row(name)) < 0)
    return SX_NO_SYSCALL;
  return syscall_rows[row].numbers[arch] < 0 ? SX_NO_SYSCALL : syscall_rows[row].numbers[arch];
}

const char *sx_syscall_name(long nr, int arch) {
  if (arch < 0 || arch >= SX_ARCH_COUNT) return NULL;
  if (arch == SX_ARCH_X32 && nr >= (long)SX_X32_SYSCALL_BIT)
    nr -= (long)SX_X32_SYSCALL_BIT;
  if (nr < 0) return NULL;
  for (size_t i = 0; i < SX_SYSCALL_ROWS; i++)
    if (syscall_rows[i].numbers[arch] == nr) return syscall_rows[i].name;
  return NULL;
}

int sx_syscall_known(const char *name) {
  return sx_syscall_row(name) >= 0;
}

size_t sx_syscall_count(void) { return SX_SYSCALL_ROWS; }

const char *sx_syscall_at(size_t i) {
  return i < SX_SYSCALL_ROWS ? syscall_rows[i].name : NULL;
}

/* Edit distance counting a swap of neighbours as one edit (optimal string alignment),
** capped: names longer than the buffer are never "close". */
int sx_edit_distance(const char *a, const char *b) {
  enum { MAXLEN = 64 };
  size_t la = strlen(a), lb = strlen(b);
  int d[3][MAXLEN + 1];                 /* rows i-2, i-1 and i, used round-robin */
  if (la > MAXLEN || lb > MAXLEN) return INT_MAX;
  for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    int *cur = d[i % 3], *up = d[(i - 1) % 3], *up2 = d[(i + 1) % 3];
    cur[0] = (int)i;
    for (size_t j = 1; j <= lb; j++) {
      int best = up[j - 1] + (a[i - 1] != b[j - 1]);
      if (up[j] + 1 < best) best = up[j] + 1;
      if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && up2[j - 2] + 1 < best)
        best = up2[j - 2] + 1;
      cur[j] = best;
    }
  }
  return d[la % 3][lb];
}

const char *sx_syscall_suggest(const char *name) {
  const char *best = NULL;
  int best_distance = INT_MAX;
  /* A third of the name, at least one and at most three edits, counts as close. */
  int limit = (int)strlen(name) / 3;
  if (limit < 1) limit = 1;
  if (limit > 3) limit = 3;
  for (size_t i = 0; i < SX_SYSCALL_ROWS; i++) {
    int d = sx_edit_distance(name, syscall_rows[i].name);
    if (d < best_distance) { best_distance = d; best = syscall_rows[i].name; }
  }
  return best_distance <= limit ? best : NULL;
}

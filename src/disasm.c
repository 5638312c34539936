/*
** disasm.c: a seccomp BPF program as text, one instruction a line.
**
** Jump targets are absolute instruction numbers. A forward pass tracks what the A
** register holds (syscall number, arch, argument word), which arch a branch has
** established and which syscall numbers can still reach it, so comparisons are annotated
** with syscall and arch names, and a load of an argument on a single syscall's branch with
** the argument's name (sx_arg_name).
*/
#include <linux/filter.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sx.h"

enum { A_UNKNOWN, A_NR, A_ARCH };

struct flow {
  uint8_t seen;
  uint8_t a;                 /* A_* */
  uint8_t audit_known;
  uint8_t endian;            /* ENDIAN_*: shared code can serve several arches of one order */
  uint32_t audit;
  uint32_t nr_lo, nr_hi;     /* the syscall numbers that can reach here */
};

enum { ENDIAN_UNKNOWN, ENDIAN_LITTLE, ENDIAN_BIG };

struct text {
  char *buf;
  size_t size, len;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...) {
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(t->len < t->size ? t->buf + t->len : NULL,
                t->len < t->size ? t->size - t->len : 0, fmt, ap);
  va_end(ap);
  if (n > 0) t->len += (size_t)n;
}

static void merge(struct flow *dst, const struct flow *src) {
  if (!dst->seen) { *dst = *src; dst->seen = 1; return; }
  if (dst->a != src->a) dst->a = A_UNKNOWN;
  if (!src->audit_known || !dst->audit_known || dst->audit != src->audit) dst->audit_known = 0;
  if (dst->endian != src->endian) dst->endian = ENDIAN_UNKNOWN;
  if (src->nr_lo < dst->nr_lo) dst->nr_lo = src->nr_lo;
  if (src->nr_hi > dst->nr_hi) dst->nr_hi = src->nr_hi;
}

static int arch_of_audit(uint32_t audit, uint32_t nr) {
  for (int a = 0; a < SX_ARCH_COUNT; a++) {
    if (sx_arch_audit(a) != audit) continue;
    if (a == SX_ARCH_X86_64 && (nr & SX_X32_SYSCALL_BIT)) return SX_ARCH_X32;
    return a;
  }
  return -1;
}

static void load_comment(struct text *t, uint32_t k, const struct flow *f) {
  const char *word;
  if (k == 0) { add(t, "syscall number"); return; }
  if (k == 4) { add(t, "arch"); return; }
  if (f->endian != ENDIAN_UNKNOWN)
    word = ((k % 8 == 0) == (f->endian == ENDIAN_LITTLE)) ? " low word" : " high word";
  else word = k % 8 == 0 ? " word +0" : " word +4";
  if (k < 16) {
    add(t, "instruction pointer%s", word);
  } else {
    unsigned index = (k - 16) / 8;
    const char *name = NULL;
    if (f->audit_known && f->nr_lo == f->nr_hi && index < 6) {
      int arch = arch_of_audit(f->audit, f->nr_lo);
      if (arch >= 0) name = sx_arg_name(arch, (long)f->nr_lo, index);
    }
    if (name) add(t, "arg%u (%s)%s", index, name, word);
    else add(t, "arg%u%s", index, word);
  }
}

static void jump_comment(struct text *t, uint32_t k, const struct flow *f) {
  if (f->a == A_ARCH) {
    int arch = arch_of_audit(k, 0);
    if (arch == SX_ARCH_X86_64) add(t, "x86_64, x32");
    else if (arch >= 0) add(t, "%s", sx_arch_name(arch));
  } else if (f->a == A_NR && f->audit_known) {
    int arch = arch_of_audit(f->audit, k);
    const char *name = arch >= 0 ? sx_syscall_name((long)k, arch) : NULL;
    if (name) add(t, "%s", name);
  }
}

static const char *jump_name(uint16_t code) {
  switch (BPF_OP(code)) {
    case BPF_JEQ: return "jeq";
    case BPF_JGE: return "jge";
    case BPF_JGT: return "jgt";
    default: return "jset";
  }
}

static const char *alu_name(uint16_t code) {
  static const char *const names[] = { "add", "sub", "mul", "div", "or", "and", "lsh",
                                       "rsh", "neg", "mod", "xor" };
  unsigned op = BPF_OP(code) >> 4;
  return op < sizeof names / sizeof *names ? names[op] : "alu?";
}

static void operand(struct text *t, uint32_t k) {
  if (k < 0x10000) add(t, "#%u", k); else add(t, "#0x%x", k);
}

/* Text of one instruction, without its comment. */
static void instruction(struct text *t, const struct sx_insn *in, size_t pc) {
  size_t start = t->len;
  char action[48];
  uint16_t c = in->code;
  switch (BPF_CLASS(c)) {
    case BPF_RET:
      if (BPF_RVAL(c) == BPF_A) add(t, "ret  A");
      else { sx_action_format(in->k, action, sizeof action); add(t, "ret  %s", action); }
      break;
    case BPF_LD:
      if (BPF_MODE(c) == BPF_ABS) add(t, "ld   [%u]", in->k);
      else if (BPF_MODE(c) == BPF_LEN) add(t, "ld   len");
      else if (BPF_MODE(c) == BPF_MEM) add(t, "ld   M[%u]", in->k);
      else { add(t, "ld   "); operand(t, in->k); }
      break;
    case BPF_LDX:
      if (BPF_MODE(c) == BPF_LEN) add(t, "ldx  len");
      else if (BPF_MODE(c) == BPF_MEM) add(t, "ldx  M[%u]", in->k);
      else { add(t, "ldx  "); operand(t, in->k); }
      break;
    case BPF_ST: add(t, "st   M[%u]", in->k); break;
    case BPF_STX: add(t, "stx  M[%u]", in->k); break;
    case BPF_MISC: add(t, BPF_MISCOP(c) == BPF_TAX ? "tax" : "txa"); break;
    case BPF_ALU:
      add(t, "%-4s ", alu_name(c));
      if (BPF_OP(c) == BPF_NEG) break;
      if (BPF_SRC(c) == BPF_X) add(t, "x"); else operand(t, in->k);
      break;
    case BPF_JMP:
      if (BPF_OP(c) == BPF_JA) { add(t, "ja   %zu", pc + 1 + in->k); break; }
      add(t, "%-4s ", jump_name(c));
      if (BPF_SRC(c) == BPF_X) add(t, "x"); else operand(t, in->k);
      add(t, "%*s jt %zu jf %zu", (int)(t->len - start < 20 ? 20 - (t->len - start) : 0), "",
          pc + 1 + in->jt, pc + 1 + in->jf);
      break;
    default: add(t, ".word 0x%04x 0x%08x", c, in->k); break;
  }
}

static void comment(struct text *t, const struct sx_insn *in, const struct flow *f,
                    size_t line_start) {
  size_t before, col = t->len - line_start;
  add(t, "%*s ; ", (int)(col < 36 ? 36 - col : 0), "");
  before = t->len;
  if (in->code == (BPF_LD | BPF_W | BPF_ABS)) load_comment(t, in->k, f);
  else if (BPF_CLASS(in->code) == BPF_JMP && BPF_OP(in->code) != BPF_JA &&
           BPF_SRC(in->code) == BPF_K) jump_comment(t, in->k, f);
  if (t->len == before) {      /* nothing to say: take the separator back */
    t->len = line_start + col;
    if (t->len < t->size) t->buf[t->len] = '\0';
  }
}

/* What the A register and the arch are after instruction `in`, on each edge. */
static void propagate(const struct sx_insn *insns, size_t len, size_t pc, struct flow *flows) {
  const struct sx_insn *in = &insns[pc];
  struct flow out = flows[pc];
  switch (BPF_CLASS(in->code)) {
    case BPF_RET: return;
    case BPF_JMP:
      if (BPF_OP(in->code) == BPF_JA) {
        if (pc + 1 + in->k < len) merge(&flows[pc + 1 + in->k], &out);
        return;
      }
      if (out.a == A_NR && BPF_SRC(in->code) == BPF_K) {
        /* what each way says about the number: taken, and not taken */
        struct flow no = out;
        uint32_t k = in->k;
        switch (BPF_OP(in->code)) {
          case BPF_JEQ:
            if (k > out.nr_lo) out.nr_lo = k;
            if (k < out.nr_hi) out.nr_hi = k;
            break;
          case BPF_JGE:
            if (k > out.nr_lo) out.nr_lo = k;
            if (k > 0 && k - 1 < no.nr_hi) no.nr_hi = k - 1;
            break;
          case BPF_JGT:
            if (k < 0xffffffffu && k + 1 > out.nr_lo) out.nr_lo = k + 1;
            if (k < no.nr_hi) no.nr_hi = k;
            break;
          default: break;
        }
        if (pc + 1 + in->jf < len) merge(&flows[pc + 1 + in->jf], &no);
      } else if (pc + 1 + in->jf < len) {
        merge(&flows[pc + 1 + in->jf], &out);
      }
      if (out.a == A_ARCH && BPF_OP(in->code) == BPF_JEQ && BPF_SRC(in->code) == BPF_K) {
        int arch = arch_of_audit(in->k, 0);
        out.audit_known = 1;
        out.audit = in->k;
        out.endian = arch < 0 ? ENDIAN_UNKNOWN
                   : sx_arch_big_endian(arch) ? ENDIAN_BIG : ENDIAN_LITTLE;
      }
      if (pc + 1 + in->jt < len) merge(&flows[pc + 1 + in->jt], &out);
      return;
    case BPF_LD:
      out.a = in->code == (BPF_LD | BPF_W | BPF_ABS) && in->k == 0 ? A_NR
            : in->code == (BPF_LD | BPF_W | BPF_ABS) && in->k == 4 ? A_ARCH : A_UNKNOWN;
      break;
    case BPF_ALU: case BPF_MISC:
      out.a = A_UNKNOWN;
      break;
    default: break;
  }
  if (pc + 1 < len) merge(&flows[pc + 1], &out);
}

size_t sx_disasm(const struct sx_insn *insns, size_t len, char *buf, size_t size) {
  struct text t = { buf, size, 0 };
  struct flow *flows = calloc(len ? len : 1, sizeof *flows);
  if (size > 0) buf[0] = '\0';
  if (!flows) return 0;
  if (len > 0) { flows[0].seen = 1; flows[0].nr_hi = 0xffffffffu; }
  for (size_t pc = 0; pc < len; pc++) {
    size_t line_start = t.len;
    add(&t, "%4zu: ", pc);
    instruction(&t, &insns[pc], pc);
    comment(&t, &insns[pc], &flows[pc], line_start);
    add(&t, "\n");
    propagate(insns, len, pc, flows);
  }
  free(flows);
  return t.len;
}

/*
** gate.c: the exec gate's prologue and the split of notifying filters (see gate.h).
*/
#include <linux/filter.h>

#include "gate.h"

enum { OFF_NR = 0, OFF_ARCH = 4, OFF_ARGS = 16 };

static struct sx_insn insn(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return (struct sx_insn){ code, jt, jf, k };
}

/* Each test jumps past the prologue when it fails: to instruction `len` of the whole. */
size_t sx_gate_prologue(struct sx_insn *out, int arch, const uint64_t args[3]) {
  size_t n = 0, len;
  int wide = sx_arch_bits(arch) == 64, big = sx_arch_big_endian(arch);
  long nr = sx_syscall_number("execve", arch);
  uint32_t words[12], offsets[12];
  size_t nwords = 0;
  for (int i = 0; i < 3; i++) {
    uint32_t base = OFF_ARGS + 8 * (uint32_t)i, lo = big ? base + 4 : base, hi = big ? base : base + 4;
    offsets[nwords] = lo;
    words[nwords++] = (uint32_t)args[i];
    if (wide) {
      offsets[nwords] = hi;
      words[nwords++] = (uint32_t)(args[i] >> 32);
    }
  }
  len = 2 + 2 + 2 * nwords + 1;
  if (arch == SX_ARCH_X32) nr |= SX_X32_SYSCALL_BIT;
  out[n] = insn(BPF_LD | BPF_W | BPF_ABS, OFF_NR, 0, 0), n++;
  out[n] = insn(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, (uint8_t)(len - n - 1)), n++;
  out[n] = insn(BPF_LD | BPF_W | BPF_ABS, OFF_ARCH, 0, 0), n++;
  out[n] = insn(BPF_JMP | BPF_JEQ | BPF_K, sx_arch_audit(arch), 0, (uint8_t)(len - n - 1)), n++;
  for (size_t w = 0; w < nwords; w++) {
    out[n] = insn(BPF_LD | BPF_W | BPF_ABS, offsets[w], 0, 0), n++;
    out[n] = insn(BPF_JMP | BPF_JEQ | BPF_K, words[w], 0, (uint8_t)(len - n - 1)), n++;
  }
  out[n] = insn(BPF_RET | BPF_K, SX_RET_ALLOW, 0, 0), n++;
  return n;
}

static int is_ret_k(const struct sx_insn *i) {
  return i->code == (BPF_RET | BPF_K);
}

int sx_program_notifies(const struct sx_insn *insns, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (is_ret_k(&insns[i]) && (insns[i].k & SX_RET_ACTION_FULL) == SX_RET_USER_NOTIF) return 1;
  return 0;
}

void sx_program_split(struct sx_insn *insns, size_t len, int carrier) {
  for (size_t i = 0; i < len; i++) {
    int notif;
    if (!is_ret_k(&insns[i])) continue;
    notif = (insns[i].k & SX_RET_ACTION_FULL) == SX_RET_USER_NOTIF;
    if (carrier ? !notif : notif) insns[i].k = SX_RET_ALLOW;
  }
}

/*
** emulator.c: classic BPF as the kernel's seccomp runs it.
**
** sx_check accepts exactly the programs seccomp(2) accepts (seccomp_check_filter and
** bpf_check_classic), so a program that passes here loads in the kernel; sx_emulate runs
** one; sx_cache_eligible repeats the kernel's constant-action-cache analysis.
*/
#include <linux/filter.h>
#include <string.h>

#include "rules.h"

enum { DATA_SIZE = 64, MEM_WORDS = 16, AUDIT_LE = 0x40000000 };

static int bad(struct sx_error *err, size_t pc, const char *why) {
  sx_set_error(err, SX_E_BAD_PROGRAM, (long)pc, "instruction %zu: %s", pc, why);
  return SX_E_BAD_PROGRAM;
}

static int opcode_allowed(const struct sx_insn *in) {
  switch (in->code) {
    case BPF_LD | BPF_W | BPF_ABS: case BPF_LD | BPF_W | BPF_LEN: case BPF_LDX | BPF_W | BPF_LEN:
    case BPF_RET | BPF_K: case BPF_RET | BPF_A:
    case BPF_ALU | BPF_ADD | BPF_K: case BPF_ALU | BPF_ADD | BPF_X:
    case BPF_ALU | BPF_SUB | BPF_K: case BPF_ALU | BPF_SUB | BPF_X:
    case BPF_ALU | BPF_MUL | BPF_K: case BPF_ALU | BPF_MUL | BPF_X:
    case BPF_ALU | BPF_DIV | BPF_K: case BPF_ALU | BPF_DIV | BPF_X:
    case BPF_ALU | BPF_AND | BPF_K: case BPF_ALU | BPF_AND | BPF_X:
    case BPF_ALU | BPF_OR | BPF_K: case BPF_ALU | BPF_OR | BPF_X:
    case BPF_ALU | BPF_XOR | BPF_K: case BPF_ALU | BPF_XOR | BPF_X:
    case BPF_ALU | BPF_LSH | BPF_K: case BPF_ALU | BPF_LSH | BPF_X:
    case BPF_ALU | BPF_RSH | BPF_K: case BPF_ALU | BPF_RSH | BPF_X:
    case BPF_ALU | BPF_NEG:
    case BPF_LD | BPF_IMM: case BPF_LDX | BPF_IMM:
    case BPF_MISC | BPF_TAX: case BPF_MISC | BPF_TXA:
    case BPF_LD | BPF_MEM: case BPF_LDX | BPF_MEM: case BPF_ST: case BPF_STX:
    case BPF_JMP | BPF_JA:
    case BPF_JMP | BPF_JEQ | BPF_K: case BPF_JMP | BPF_JEQ | BPF_X:
    case BPF_JMP | BPF_JGE | BPF_K: case BPF_JMP | BPF_JGE | BPF_X:
    case BPF_JMP | BPF_JGT | BPF_K: case BPF_JMP | BPF_JGT | BPF_X:
    case BPF_JMP | BPF_JSET | BPF_K: case BPF_JMP | BPF_JSET | BPF_X:
      return 1;
    default:
      return 0;
  }
}

/* Scratch memory must be written before it is read, as the kernel's check_load_and_stores
** decides it: one pass in program order with a running set of written words, which a
** jump's targets narrow and which carries on past a RET. So a read that no path reaches,
** right after a RET, still counts: the kernel refuses it, and so does this. */
static int check_memory(const struct sx_insn *insns, size_t len, struct sx_error *err) {
  uint16_t at[SX_MAX_INSNS], valid = 0;    /* at[pc]: what the jumps to pc leave written */
  for (size_t pc = 0; pc < len; pc++) at[pc] = 0xffff;
  for (size_t pc = 0; pc < len; pc++) {
    const struct sx_insn *in = &insns[pc];
    valid &= at[pc];
    switch (in->code) {
      case BPF_ST: case BPF_STX: valid |= (uint16_t)(1u << in->k); break;
      case BPF_LD | BPF_MEM: case BPF_LDX | BPF_MEM:
        if (!(valid & (1u << in->k))) return bad(err, pc, "reads scratch memory before writing it");
        break;
      case BPF_JMP | BPF_JA:
        at[pc + 1 + in->k] &= valid;
        valid = 0xffff;
        break;
      default:
        if (BPF_CLASS(in->code) == BPF_JMP) {
          at[pc + 1 + in->jt] &= valid;
          at[pc + 1 + in->jf] &= valid;
          valid = 0xffff;
        }
        break;
    }
  }
  return SX_OK;
}

int sx_check(const struct sx_insn *insns, size_t len, struct sx_error *err) {
  if (len == 0 || insns == NULL) return bad(err, 0, "the program is empty");
  if (len > SX_MAX_INSNS) {
    sx_set_error(err, SX_E_TOO_BIG, -1, "the program has %zu instructions; the kernel takes "
                 "at most %d", len, SX_MAX_INSNS);
    return SX_E_TOO_BIG;
  }
  for (size_t pc = 0; pc < len; pc++) {
    const struct sx_insn *in = &insns[pc];
    if (!opcode_allowed(in)) return bad(err, pc, "opcode not allowed in seccomp filters");
    switch (BPF_CLASS(in->code)) {
      case BPF_LD: case BPF_LDX:
        if (in->code == (BPF_LD | BPF_W | BPF_ABS) && (in->k >= DATA_SIZE || in->k % 4))
          return bad(err, pc, "load outside seccomp_data or not word-aligned");
        if (BPF_MODE(in->code) == BPF_MEM && in->k >= MEM_WORDS)
          return bad(err, pc, "scratch memory index out of range");
        break;
      case BPF_ST: case BPF_STX:
        if (in->k >= MEM_WORDS) return bad(err, pc, "scratch memory index out of range");
        break;
      case BPF_ALU:
        if (in->code == (BPF_ALU | BPF_DIV | BPF_K) && in->k == 0)
          return bad(err, pc, "division by zero");
        if ((BPF_OP(in->code) == BPF_LSH || BPF_OP(in->code) == BPF_RSH) &&
            BPF_SRC(in->code) == BPF_K && in->k >= 32)
          return bad(err, pc, "shift by 32 or more");
        break;
      case BPF_JMP:
        if (in->code == (BPF_JMP | BPF_JA)) {
          if (in->k >= len - pc - 1) return bad(err, pc, "jump past the end");
        } else if (pc + in->jt + 1 >= len || pc + in->jf + 1 >= len)
          return bad(err, pc, "jump past the end");
        break;
      default: break;
    }
  }
  if (BPF_CLASS(insns[len - 1].code) != BPF_RET)
    return bad(err, len - 1, "the last instruction is not a return");
  return check_memory(insns, len, err);
}

/* The 32-bit word at `offset` as a load on the filtered arch reads it. */
static uint32_t data_word(const struct sx_data *d, uint32_t offset) {
  int little = (d->arch & AUDIT_LE) != 0;
  uint64_t v;
  if (offset == 0) return (uint32_t)d->nr;
  if (offset == 4) return d->arch;
  v = offset < 16 ? d->instruction_pointer : d->args[(offset - 16) / 8];
  return ((offset % 8 == 0) == little) ? (uint32_t)v : (uint32_t)(v >> 32);
}

static int jump_taken(uint16_t op, uint32_t a, uint32_t operand) {
  switch (op) {
    case BPF_JEQ: return a == operand;
    case BPF_JGE: return a >= operand;
    case BPF_JGT: return a > operand;
    default: return (a & operand) != 0;   /* BPF_JSET */
  }
}

static uint32_t alu(uint16_t op, uint32_t a, uint32_t operand) {
  switch (op) {
    case BPF_ADD: return a + operand;
    case BPF_SUB: return a - operand;
    case BPF_MUL: return a * operand;
    case BPF_DIV: return operand ? a / operand : 0;
    case BPF_AND: return a & operand;
    case BPF_OR: return a | operand;
    case BPF_XOR: return a ^ operand;
    /* sx_check refuses constant shifts of 32 or more; a shift by X takes the count mod
    ** 32, as the kernel's interpreter and JITs do on x86 and arm64 */
    case BPF_LSH: return a << (operand & 31);
    case BPF_RSH: return a >> (operand & 31);
    default: return -a;                   /* BPF_NEG */
  }
}

/* Run a program; record the pc of each instruction executed in path[0..cap). */
static int run(const struct sx_insn *insns, size_t len, const struct sx_data *d,
               uint32_t *action, size_t *executed, size_t *path, size_t cap) {
  uint32_t a = 0, x = 0, mem[MEM_WORDS];
  size_t steps = 0;
  memset(mem, 0, sizeof mem);
  for (size_t pc = 0; pc < len; pc++) {
    const struct sx_insn *in = &insns[pc];
    if (steps < cap) path[steps] = pc;
    steps++;
    switch (BPF_CLASS(in->code)) {
      case BPF_RET:
        *action = BPF_RVAL(in->code) == BPF_A ? a : in->k;
        if (executed) *executed = steps;
        return SX_OK;
      case BPF_LD:
        /* sx_check refuses such loads; a caller that skipped it gets an error, not a
        ** read past the struct */
        if (BPF_MODE(in->code) == BPF_ABS && (in->k >= DATA_SIZE || in->k % 4))
          return SX_E_BAD_PROGRAM;
        if (BPF_MODE(in->code) == BPF_ABS) a = data_word(d, in->k);
        else if (BPF_MODE(in->code) == BPF_LEN) a = DATA_SIZE;
        else if (BPF_MODE(in->code) == BPF_MEM) a = mem[in->k % MEM_WORDS];
        else a = in->k;
        break;
      case BPF_LDX:
        if (BPF_MODE(in->code) == BPF_LEN) x = DATA_SIZE;
        else if (BPF_MODE(in->code) == BPF_MEM) x = mem[in->k % MEM_WORDS];
        else x = in->k;
        break;
      case BPF_ST: mem[in->k % MEM_WORDS] = a; break;
      case BPF_STX: mem[in->k % MEM_WORDS] = x; break;
      case BPF_ALU:
        /* the kernel's cBPF conversion ends the program with 0 (kill_thread) on a
        ** division by an X of zero, rather than going on with A = 0 */
        if (BPF_OP(in->code) == BPF_DIV && BPF_SRC(in->code) == BPF_X && x == 0) {
          *action = 0;
          if (executed) *executed = steps;
          return SX_OK;
        }
        a = alu(BPF_OP(in->code), a, BPF_SRC(in->code) == BPF_X ? x : in->k);
        break;
      case BPF_MISC: if (BPF_MISCOP(in->code) == BPF_TAX) x = a; else a = x; break;
      case BPF_JMP:
        if (BPF_OP(in->code) == BPF_JA) pc += in->k;
        else pc += jump_taken(BPF_OP(in->code), a, BPF_SRC(in->code) == BPF_X ? x : in->k)
                     ? in->jt : in->jf;
        break;
      default: break;
    }
  }
  return SX_E_BAD_PROGRAM;   /* ran off the end: sx_check rejects such programs */
}

int sx_emulate(const struct sx_insn *insns, size_t len, const struct sx_data *d,
               uint32_t *action, size_t *executed) {
  return run(insns, len, d, action, executed, NULL, 0);
}

int sx_trace(const struct sx_insn *insns, size_t len, const struct sx_data *d,
             uint32_t *action, size_t *path, size_t cap, size_t *executed) {
  return run(insns, len, d, action, executed, path, cap);
}

int sx_constant_action(const struct sx_insn *insns, size_t len, uint32_t arch, int32_t nr,
                       uint32_t *action) {
  uint32_t a = 0;
  for (size_t pc = 0; pc < len; pc++) {
    const struct sx_insn *in = &insns[pc];
    switch (in->code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (in->k == 0) a = (uint32_t)nr;
        else if (in->k == 4) a = arch;
        else return 0;
        break;
      case BPF_RET | BPF_K:
        *action = in->k;
        return 1;
      case BPF_JMP | BPF_JA:
        pc += in->k;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K: case BPF_JMP | BPF_JGE | BPF_K:
      case BPF_JMP | BPF_JGT | BPF_K: case BPF_JMP | BPF_JSET | BPF_K:
        pc += jump_taken(BPF_OP(in->code), a, in->k) ? in->jt : in->jf;
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        a &= in->k;
        break;
      default:
        return 0;
    }
  }
  return 0;
}

int sx_cache_eligible(const struct sx_insn *insns, size_t len, uint32_t arch, int32_t nr) {
  uint32_t action;
  return sx_constant_action(insns, len, arch, nr, &action) && action == SX_RET_ALLOW;
}

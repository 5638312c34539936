/*
** gate.c: the gate's prologue and the rewriting of actions into notifications (gate.h).
*/
#include <linux/filter.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"

enum { OFF_NR = 0, OFF_ARCH = 4, OFF_ARGS = 16 };

struct prologue {
  struct sx_insn *out;
  size_t n;
  int wide, big;
};

static void put(struct prologue *p, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  p->out[p->n++] = (struct sx_insn){ code, jt, jf, k };
}

/* Tests of args[0..5], each word falling through when it matches and jumping to `miss`
** (an instruction index) when it does not; the last match returns ALLOW. */
static void match_args(struct prologue *p, const uint64_t args[6], size_t miss) {
  for (int i = 0; i < 6; i++) {
    uint32_t base = OFF_ARGS + 8 * (uint32_t)i;
    uint32_t lo = p->big ? base + 4 : base, hi = p->big ? base : base + 4;
    put(p, BPF_LD | BPF_W | BPF_ABS, lo, 0, 0);
    put(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)args[i], 0, (uint8_t)(miss - p->n - 1));
    if (p->wide) {
      put(p, BPF_LD | BPF_W | BPF_ABS, hi, 0, 0);
      put(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(args[i] >> 32), 0, (uint8_t)(miss - p->n - 1));
    }
  }
  put(p, BPF_RET | BPF_K, SX_RET_ALLOW, 0, 0);
}

/* What the guard refuses: ioctl with these requests (cmd's low 32 bits: every ABI's
** ioctl reads them), on the host's ABIs. */
static const uint32_t GUARDED_CMDS[] = { 0x5412 /* TIOCSTI */, 0x541C /* TIOCLINUX */ };
enum { NGUARDED = sizeof GUARDED_CMDS / sizeof *GUARDED_CMDS };

/* The host and the ABIs its kernel also runs, into arches (room for 3); how many. */
static size_t guarded_arches(int *arches) {
  int host = sx_arch_host();
  size_t n = 0;
  if (host < 0) return 0;
  arches[n++] = host;
  if (host == SX_ARCH_X86_64) { arches[n++] = SX_ARCH_I386; arches[n++] = SX_ARCH_X32; }
  if (host == SX_ARCH_AARCH64) arches[n++] = SX_ARCH_ARM;
  return n;
}

size_t sx_gate_tty_guard(struct sx_insn *out) {
  struct sx_cond conds[NGUARDED];
  struct sx_rule rules[NGUARDED];
  int arches[3];
  size_t narches = guarded_arches(arches), len = 0;
  struct sx_policy policy;
  struct sx_program prog;
  struct sx_error err;
  if (narches == 0) return 0;
  for (size_t i = 0; i < NGUARDED; i++) {
    conds[i] = (struct sx_cond){ 1, SX_OP_EQ, 0, GUARDED_CMDS[i] };
    rules[i] = (struct sx_rule){ SX_RET_ERRNO | EPERM, "ioctl", 0, 1, &conds[i] };
  }
  policy = (struct sx_policy){ rules, NGUARDED, SX_RET_ALLOW, SX_RET_ALLOW, arches, narches };
  if (sx_compile(&policy, &prog, &err) != SX_OK) return 0;
  if (prog.len <= SX_GUARD_MAX) {
    memcpy(out, prog.insns, prog.len * sizeof *out);
    len = prog.len;
  }
  sx_program_free(&prog);
  return len;
}

static uint32_t number(const char *name, int arch) {
  long nr = sx_syscall_number(name, arch);
  return (uint32_t)nr | (arch == SX_ARCH_X32 ? SX_X32_SYSCALL_BIT : 0);
}

size_t sx_gate_guarded_calls(struct sx_data *out) {
  int arches[3];
  size_t narches = guarded_arches(arches), n = 0;
  for (size_t a = 0; a < narches; a++)
    for (size_t i = 0; i < NGUARDED; i++) {
      memset(&out[n], 0, sizeof out[n]);
      out[n].nr = (int32_t)number("ioctl", arches[a]);
      out[n].arch = sx_arch_audit(arches[a]);
      out[n++].args[1] = GUARDED_CMDS[i];
    }
  return n;
}

/* ld nr; [jeq execve;] [jeq sendmsg;] then for each call tested: ld arch; jeq host; its
** arguments. Every miss jumps to `len`, the prologue's last instruction: `and #0`, so
** that the filter starts with A = 0, as the kernel starts it (a raw filter may read A
** before it loads anything: the prologue's last load, the workload's own argument word
** where an execve missed, must not reach it). `and` rather than `ld #0`: the kernel's
** constant-action cache follows an `and`, and would give up on every call at a `ld #0`.
** A filter that allows the agent's execve itself needs no test for it (the kernel's JIT
** takes time for every instruction of every filter installed). */
size_t sx_gate_prologue(struct sx_insn *out, int arch, const struct sx_gate *gate) {
  struct prologue p = { out, 0, sx_arch_bits(arch) == 64, sx_arch_big_endian(arch) };
  size_t per_call = 2 + 2 * 6 * (p.wide ? 2 : 1) + 1;    /* arch test, args, ret */
  int exec = !gate->exec_allowed, send = gate->handover;
  size_t calls = (size_t)(exec + send), len = 1 + calls + per_call * calls;
  size_t send_at = len - per_call;
  if (!calls) return 0;
  put(&p, BPF_LD | BPF_W | BPF_ABS, OFF_NR, 0, 0);
  if (exec) put(&p, BPF_JMP | BPF_JEQ | BPF_K, number("execve", arch), (uint8_t)calls - 1,
                send ? 0 : (uint8_t)(len - p.n - 1));
  if (send) put(&p, BPF_JMP | BPF_JEQ | BPF_K, number("sendmsg", arch), (uint8_t)(send_at - p.n - 1),
                (uint8_t)(len - p.n - 1));
  if (exec) {
    put(&p, BPF_LD | BPF_W | BPF_ABS, OFF_ARCH, 0, 0);
    put(&p, BPF_JMP | BPF_JEQ | BPF_K, sx_arch_audit(arch), 0, (uint8_t)(len - p.n - 1));
    match_args(&p, gate->exec, len);
  }
  if (send) {
    put(&p, BPF_LD | BPF_W | BPF_ABS, OFF_ARCH, 0, 0);
    put(&p, BPF_JMP | BPF_JEQ | BPF_K, sx_arch_audit(arch), 0, (uint8_t)(len - p.n - 1));
    match_args(&p, gate->send, len);
  }
  put(&p, BPF_ALU | BPF_AND | BPF_K, 0, 0, 0);                 /* len: A = 0 */
  return p.n;
}

static int is_ret_k(const struct sx_insn *i) {
  return i->code == (BPF_RET | BPF_K);
}

int sx_program_notifies(const struct sx_insn *insns, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (is_ret_k(&insns[i]) && (insns[i].k & SX_RET_ACTION_FULL) == SX_RET_USER_NOTIF) return 1;
  return 0;
}

static unsigned kind_of(uint32_t action) {
  switch (action & SX_RET_ACTION_FULL) {
  case SX_RET_KILL_PROCESS: case SX_RET_KILL_THREAD: return SX_NOTIFY_KILL;
  case SX_RET_TRAP: return SX_NOTIFY_TRAP;
  case SX_RET_ERRNO: return SX_NOTIFY_ERRNO;
  case SX_RET_TRACE: return SX_NOTIFY_TRACE;
  case SX_RET_LOG: return SX_NOTIFY_LOG;
  case SX_RET_ALLOW: return SX_NOTIFY_ALLOW;
  default: return 0;
  }
}

static int is_ret_a(const struct sx_insn *i) {
  return i->code == (BPF_RET | BPF_A);
}

/* The kernel tells actions apart by their top 16 bits: the values of each kind. */
static const struct { unsigned kind; uint32_t value; } kind_values[] = {
  { SX_NOTIFY_KILL, SX_RET_KILL_PROCESS }, { SX_NOTIFY_KILL, SX_RET_KILL_THREAD },
  { SX_NOTIFY_TRAP, SX_RET_TRAP }, { SX_NOTIFY_ERRNO, SX_RET_ERRNO },
  { SX_NOTIFY_TRACE, SX_RET_TRACE }, { SX_NOTIFY_LOG, SX_RET_LOG },
  { SX_NOTIFY_ALLOW, SX_RET_ALLOW }
};
enum { NKIND_VALUES = sizeof kind_values / sizeof kind_values[0] };

/* How many action values `kinds` names. */
static size_t values_of(unsigned kinds) {
  size_t m = 0;
  for (size_t i = 0; i < NKIND_VALUES; i++) m += (kind_values[i].kind & kinds) != 0;
  return m;
}

/* Does the program return A (an action made at run time) where `kinds` names actions? */
static int dispatches(const struct sx_insn *insns, size_t len, unsigned kinds) {
  if (!values_of(kinds)) return 0;
  for (size_t i = 0; i < len; i++)
    if (is_ret_a(&insns[i])) return 1;
  return 0;
}

/* The length of the tail dispatch() writes. */
static size_t dispatch_len(unsigned kinds, int guarded) {
  return 2 + values_of(kinds) + 3 + (guarded ? 3 : 0);
}

/* The tail every RET A jumps to, at out[at]: A goes back as it was unless its action is
** of `kinds`; then USER_NOTIF, or, for a kill when `guarded`, M[0] = A and on to the
** guard's copy at `shared`. Returns its length, dispatch_len(). */
static size_t dispatch(struct sx_insn *out, size_t at, unsigned kinds, int guarded,
                       size_t shared) {
  size_t n = at, keep = at + 2 + values_of(kinds), notify = keep + 2, kill = notify + 1;
  out[n++] = (struct sx_insn){ BPF_MISC | BPF_TAX, 0, 0, 0 };               /* X = A */
  out[n++] = (struct sx_insn){ BPF_ALU | BPF_AND | BPF_K, 0, 0, SX_RET_ACTION_FULL };
  for (size_t i = 0; i < NKIND_VALUES; i++) {
    size_t to = guarded && kind_values[i].kind == SX_NOTIFY_KILL ? kill : notify;
    if (!(kind_values[i].kind & kinds)) continue;
    out[n] = (struct sx_insn){ BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(to - n - 1), 0,
                               kind_values[i].value };
    n++;
  }
  out[n++] = (struct sx_insn){ BPF_MISC | BPF_TXA, 0, 0, 0 };               /* keep: A */
  out[n++] = (struct sx_insn){ BPF_RET | BPF_A, 0, 0, 0 };
  out[n++] = (struct sx_insn){ BPF_RET | BPF_K, 0, 0, SX_RET_USER_NOTIF };  /* notify */
  if (guarded) {                                                            /* kill */
    out[n++] = (struct sx_insn){ BPF_MISC | BPF_TXA, 0, 0, 0 };
    out[n++] = (struct sx_insn){ BPF_ST, 0, 0, 0 };
    out[n] = (struct sx_insn){ BPF_JMP | BPF_JA, 0, 0, (uint32_t)(shared - n - 1) };
    n++;
  }
  return n - at;
}

/* The distinct kill values among the program's RET K, into vals (room for len); how many. */
static size_t kill_values(const struct sx_insn *insns, size_t len, uint32_t *vals) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    size_t j = 0;
    if (!is_ret_k(&insns[i]) || kind_of(insns[i].k) != SX_NOTIFY_KILL) continue;
    while (j < n && vals[j] != insns[i].k) j++;
    if (j == n) vals[n++] = insns[i].k;
  }
  return n;
}

/* The guard's copy at out[n] and the return of the kill it keeps; the new end. */
static size_t guard_tail(struct sx_insn *out, size_t n, const struct sx_insn *guard,
                         size_t glen) {
  size_t saved = n + glen;
  for (size_t i = 0; i < glen; i++, n++) {        /* its refusals keep the kill */
    out[n] = guard[i];
    if (!is_ret_k(&guard[i])) continue;
    if ((guard[i].k & SX_RET_ACTION_FULL) == SX_RET_ERRNO)
      out[n] = (struct sx_insn){ BPF_JMP | BPF_JA, 0, 0, (uint32_t)(saved - n - 1) };
    else
      out[n].k = SX_RET_USER_NOTIF;
  }
  out[n++] = (struct sx_insn){ BPF_LD | BPF_MEM, 0, 0, 0 };
  out[n++] = (struct sx_insn){ BPF_RET | BPF_A, 0, 0, 0 };
  return n;
}

size_t sx_program_notify(struct sx_insn *out, const struct sx_insn *insns, size_t len,
                         unsigned kinds, const struct sx_insn *guard, size_t glen) {
  int guarded = (kinds & SX_NOTIFY_KILL) && glen > 0, ret_a = dispatches(insns, len, kinds);
  uint32_t *vals = NULL;
  size_t nvals = 0, stubs, shared, n;
  if (guarded && !(vals = malloc((len ? len : 1) * sizeof *vals))) return 0;
  if (guarded) nvals = kill_values(insns, len, vals);
  guarded = guarded && (nvals || ret_a);          /* a kill to keep somewhere */
  stubs = len + (ret_a ? dispatch_len(kinds, guarded) : 0);
  shared = stubs + 3 * nvals;
  memcpy(out, insns, len * sizeof *out);
  for (size_t i = 0; i < len; i++) {
    size_t v = 0;
    if (ret_a && is_ret_a(&insns[i]))
      out[i] = (struct sx_insn){ BPF_JMP | BPF_JA, 0, 0, (uint32_t)(len - i - 1) };
    if (!is_ret_k(&insns[i])) continue;
    if (!guarded || kind_of(insns[i].k) != SX_NOTIFY_KILL) {
      if (kind_of(insns[i].k) & kinds) out[i].k = SX_RET_USER_NOTIF;
      continue;
    }
    while (vals[v] != insns[i].k) v++;
    out[i] = (struct sx_insn){ BPF_JMP | BPF_JA, 0, 0, (uint32_t)(stubs + 3 * v - i - 1) };
  }
  if (ret_a) dispatch(out, len, kinds, guarded, shared);
  n = stubs;
  for (size_t v = 0; v < nvals; v++) {            /* A = the kill; M[0] = A; to the guard */
    out[n++] = (struct sx_insn){ BPF_LD | BPF_IMM, 0, 0, vals[v] };
    out[n++] = (struct sx_insn){ BPF_ST, 0, 0, 0 };
    out[n] = (struct sx_insn){ BPF_JMP | BPF_JA, 0, 0, (uint32_t)(shared - n - 1) };
    n++;
  }
  free(vals);
  return guarded ? guard_tail(out, n, guard, glen) : n;
}

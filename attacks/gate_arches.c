/* gate_arches: the exec gate's prologue (src/gate.c) in the emulator, fed the gate's own
** three pointers (and its three keys in args 3..5) from every ABI an x86_64 kernel may
** see: only the native execve and sendmsg with the keys may pass; and with the prologue
** of a filter that allows the agent's execve itself ("send only"), only that sendmsg.
** Then the terminal guard, fed
** TIOCSTI and TIOCLINUX from every ABI, upper half dirty or not: each must get EPERM.
** Build: gcc -I../src gate_arches.c ../src/gate.c ../build/libsxcore.a */
#include <stdio.h>
#include <string.h>
#include "gate.h"

/* The action `prog` gives syscall nr of `arch` with these arguments. */
static uint32_t run(const struct sx_insn *prog, size_t n, int arch, int nr, const uint64_t args[6]) {
  struct sx_data d;
  uint32_t act;
  size_t ex;
  memset(&d, 0, sizeof d);
  d.nr = nr; d.arch = sx_arch_audit(arch);
  memcpy(d.args, args, sizeof d.args);
  sx_emulate(prog, n, &d, &act, &ex);
  return act;
}

static int guard(void) {
  struct sx_insn prog[SX_GUARD_MAX];
  size_t n = sx_gate_tty_guard(prog);
  const uint64_t dirty = 1ULL << 32;
  struct { const char *what; int arch; int nr; uint64_t cmd; } c[] = {
    { "x86_64 ioctl TIOCSTI", SX_ARCH_X86_64, 16, 0x5412 },
    { "x86_64 ioctl TIOCSTI, high bits", SX_ARCH_X86_64, 16, dirty | 0x5412 },
    { "x32 ioctl TIOCSTI", SX_ARCH_X86_64, 0x40000000 | 514, 0x5412 },
    { "x32 ioctl TIOCSTI, high bits", SX_ARCH_X86_64, 0x40000000 | 514, dirty | 0x5412 },
    { "x32 ioctl TIOCLINUX, high bits", SX_ARCH_X86_64, 0x40000000 | 514, dirty | 0x541C },
    { "i386 ioctl TIOCSTI", SX_ARCH_I386, 54, 0x5412 },
    { "i386 ioctl TIOCSTI, high bits", SX_ARCH_I386, 54, dirty | 0x5412 },
  };
  if (n == 0) return printf("no terminal guard\n"), 1;
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    const uint64_t args[6] = { 3, c[i].cmd };
    uint32_t act = run(prog, n, c[i].arch, c[i].nr, args);
    printf("%-34s %s\n", c[i].what, act == (0x00050000u | 1) ? "EPERM (guard)" : "ALLOW (guard)");
  }
  /* the calls the agent checks a first filter against before it leaves the guard out
  ** (agent.c: guard_redundant) are the guard's own: each refused */
  {
    struct sx_data calls[SX_GUARDED_CALLS];
    size_t k = sx_gate_guarded_calls(calls), refused = 0;
    for (size_t i = 0; i < k; i++) {
      uint32_t act;
      size_t ex;
      sx_emulate(prog, n, &calls[i], &act, &ex);
      refused += act == (0x00050000u | 1);
    }
    printf("guarded calls listed: %zu, refused by the guard: %zu\n", k, refused);
  }
  return 0;
}

/* The prologue for g, then a body that kills, fed every case: what each gets. */
static void gate(const struct sx_gate *g, const char *label) {
  struct sx_insn prog[SX_GATE_MAX + 1];
  size_t n = sx_gate_prologue(prog, SX_ARCH_X86_64, g);
  struct { const char *what; int arch; int nr; uint64_t a0, a1, a2; int nokeys; } c[] = {
    { "x86_64 execve, pointers, no keys", SX_ARCH_X86_64, 59, g->exec[0], g->exec[1], g->exec[2], 1 },
    { "x86_64 sendmsg, message, no keys", SX_ARCH_X86_64, 46, g->send[0], g->send[1], 0, 1 },
    { "x86_64 execve, gate pointers", SX_ARCH_X86_64, 59, g->exec[0], g->exec[1], g->exec[2], 0 },
    { "x86_64 execve, one bit off", SX_ARCH_X86_64, 59, g->exec[0] ^ 8, g->exec[1], g->exec[2], 0 },
    { "x86_64 execve, high word off", SX_ARCH_X86_64, 59, g->exec[0] | (1ULL << 40), g->exec[1], g->exec[2], 0 },
    { "x86_64 execveat", SX_ARCH_X86_64, 322, g->exec[0], g->exec[1], g->exec[2], 0 },
    { "x32 bit + 59", SX_ARCH_X86_64, 0x40000000 | 59, g->exec[0], g->exec[1], g->exec[2], 0 },
    { "x32 execve 520|bit", SX_ARCH_X86_64, 0x40000000 | 520, g->exec[0], g->exec[1], g->exec[2], 0 },
    { "x86_64 520 (no bit)", SX_ARCH_X86_64, 520, g->exec[0], g->exec[1], g->exec[2], 0 },
    { "i386 execve 11 (low words)", SX_ARCH_I386, 11, g->exec[0] & 0xffffffff, g->exec[1] & 0xffffffff, g->exec[2] & 0xffffffff, 0 },
    { "i386 nr 59", SX_ARCH_I386, 59, g->exec[0], g->exec[1], g->exec[2], 0 },
    { "x86_64 sendmsg, gate message", SX_ARCH_X86_64, 46, g->send[0], g->send[1], 0, 0 },
    { "x86_64 sendmsg, other socket", SX_ARCH_X86_64, 46, 6, g->send[1], 0, 0 },
    { "x86_64 sendmsg, flags 1", SX_ARCH_X86_64, 46, g->send[0], g->send[1], 1, 0 },
    { "i386 socketcall-less sendmsg 370", SX_ARCH_I386, 370, g->send[0], g->send[1], 0, 0 },
  };
  prog[n] = (struct sx_insn){ 0x06, 0, 0, 0x80000000u };   /* the body: kill_process */
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    uint64_t args[6] = { c[i].a0, c[i].a1, c[i].a2 };
    uint32_t act;
    for (int k = 3; k < 6 && !c[i].nokeys; k++)      /* the keys of the call it stands for */
      args[k] = c[i].nr == 46 || c[i].nr == 370 ? g->send[k] : g->exec[k];
    act = run(prog, n + 1, c[i].arch, c[i].nr, args);
    printf("%s%-34s %s\n", label, c[i].what, act == 0x7fff0000u ? "ALLOW (gate)" : "body (kill)");
  }
}

int main(void) {
  struct sx_gate g = { { 0x00002a5b3c4d5e68ULL, 0x00003f1e2d3c4b58ULL, 0x0000123456789ab0ULL,
                         0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL, 0x94d049bb133111ebULL },
                       { 5, 0x0000222233334440ULL, 0,
                         0x2545f4914f6cdd1dULL, 0x5851f42d4c957f2dULL, 0x14057b7ef767814fULL }, 1, 0 };
  gate(&g, "");
  g.exec_allowed = 1;
  gate(&g, "send only: ");
  return guard();
}

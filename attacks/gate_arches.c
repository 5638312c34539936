/* gate_arches: the exec gate's prologue (src/gate.c) in the emulator, fed the gate's own
** three pointers from every ABI an x86_64 kernel may see: only the native execve may pass.
** Build: gcc -I../src gate_arches.c ../src/gate.c ../build/libsxcore.a */
#include <stdio.h>
#include <string.h>
#include "gate.h"

int main(void) {
  struct sx_insn prog[SX_GATE_MAX + 1];
  struct sx_gate g = { { 0x00002a5b3c4d5e68ULL, 0x00003f1e2d3c4b58ULL, 0x0000123456789ab0ULL },
                       { 5, 0x0000222233334440ULL, 0 }, 1 };
  size_t n = sx_gate_prologue(prog, SX_ARCH_X86_64, &g);
  struct { const char *what; int arch; int nr; uint64_t a0, a1, a2; } c[] = {
    { "x86_64 execve, gate pointers", SX_ARCH_X86_64, 59, g.exec[0], g.exec[1], g.exec[2] },
    { "x86_64 execve, one bit off", SX_ARCH_X86_64, 59, g.exec[0] ^ 8, g.exec[1], g.exec[2] },
    { "x86_64 execve, high word off", SX_ARCH_X86_64, 59, g.exec[0] | (1ULL << 40), g.exec[1], g.exec[2] },
    { "x86_64 execveat", SX_ARCH_X86_64, 322, g.exec[0], g.exec[1], g.exec[2] },
    { "x32 bit + 59", SX_ARCH_X86_64, 0x40000000 | 59, g.exec[0], g.exec[1], g.exec[2] },
    { "x32 execve 520|bit", SX_ARCH_X86_64, 0x40000000 | 520, g.exec[0], g.exec[1], g.exec[2] },
    { "x86_64 520 (no bit)", SX_ARCH_X86_64, 520, g.exec[0], g.exec[1], g.exec[2] },
    { "i386 execve 11 (low words)", SX_ARCH_I386, 11, g.exec[0] & 0xffffffff, g.exec[1] & 0xffffffff, g.exec[2] & 0xffffffff },
    { "i386 nr 59", SX_ARCH_I386, 59, g.exec[0], g.exec[1], g.exec[2] },
    { "x86_64 sendmsg, gate message", SX_ARCH_X86_64, 46, g.send[0], g.send[1], 0 },
    { "x86_64 sendmsg, other socket", SX_ARCH_X86_64, 46, 6, g.send[1], 0 },
    { "x86_64 sendmsg, flags 1", SX_ARCH_X86_64, 46, g.send[0], g.send[1], 1 },
    { "i386 socketcall-less sendmsg 370", SX_ARCH_I386, 370, g.send[0], g.send[1], 0 },
  };
  prog[n] = (struct sx_insn){ 0x06, 0, 0, 0x80000000u };   /* the body: kill_process */
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    struct sx_data d;
    uint32_t act;
    size_t ex;
    memset(&d, 0, sizeof d);
    d.nr = c[i].nr; d.arch = sx_arch_audit(c[i].arch);
    d.args[0] = c[i].a0; d.args[1] = c[i].a1; d.args[2] = c[i].a2;
    sx_emulate(prog, n + 1, &d, &act, &ex);
    printf("%-34s %s\n", c[i].what, act == 0x7fff0000u ? "ALLOW (gate)" : "body (kill)");
  }
  return 0;
}

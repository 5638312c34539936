-- attacks/ip_rule.lua: a raw BPF policy whose kill depends on the instruction pointer:
-- socket(2) is allowed only when made from below 0x600000000000 (the program's own
-- text, a PIE at 0x55...), and kills the process when made from a shared library (libc's
-- syscall wrappers live at 0x7e... or 0x7f...). Everything else is allowed.
--   0 ld arch; 1 jeq x86_64 else kill; 2 ld nr; 3 jeq socket else allow;
--   4 ld ip (high word); 5 jge 0x6000 -> kill; 6 ret allow; 7 ret kill_process
local seccomp = require "sx.seccomp"
local function insn(code, jt, jf, k) return string.pack("<I2I1I1I4", code, jt, jf, k) end
local LD_ABS, JEQ, JGE, RET = 0x20, 0x15, 0x35, 0x06
local bpf = insn(LD_ABS, 0, 0, 4) .. insn(JEQ, 0, 5, 0xc000003e) ..
            insn(LD_ABS, 0, 0, 0) .. insn(JEQ, 0, 2, 41) ..
            insn(LD_ABS, 0, 0, 12) .. insn(JGE, 1, 0, 0x6000) ..
            insn(RET, 0, 0, 0x7fff0000) .. insn(RET, 0, 0, 0x80000000)
return assert(seccomp.load(bpf))

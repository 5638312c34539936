local seccomp = require "sx.seccomp"

local f = assert(seccomp.builder()
  :allow { "read", "write", "close", "exit_group" }
  :allow("socket", { { index = 0, op = "eq", value = 1 } })   -- AF_UNIX only
  :deny "ptrace"                                               -- errno(EPERM)
  :rule("log", "uname")
  :build { default = "kill_process" })

print(f)                        --> sx.filter<x86_64 7 syscalls, 20 BPF insns>
print(f:eval("socket", { 2 }))  --> kill_process   10
print(f:eval("ptrace"))         --> errno(EPERM)   8
print(f:disasm())               -- one instruction a line, with syscall names

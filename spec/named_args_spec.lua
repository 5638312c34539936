-- Conditions may name arguments by the kernel's parameter names (seccomp.syscall_args), in
-- text and in tables; argN keeps working. A name must mean one argument on every arch of
-- the filter that has the syscall.
local seccomp = require "sx.seccomp"

local AF_UNIX, AF_INET, AF_PACKET = 1, 2, 17
local EPERM = seccomp.errno("EPERM")

describe("named arguments", function()
  it("work in text: family == AF_UNIX, flags & CLONE_NEWUSER, prot & PROT_EXEC == 0", function()
    local f = assert(seccomp.builder()
      :allow("socket", "family == AF_UNIX || family == AF_INET")
      :deny("clone", "flags & CLONE_NEWUSER")          -- clone's is clone_flags
      :allow("mprotect", "prot & PROT_EXEC == 0")
      :allow("clone")
      :build { arches = { "x86_64", "aarch64" } })
    for _, arch in ipairs({ "x86_64", "aarch64" }) do
      assert.equal("allow", (f:eval("socket", { AF_UNIX }, arch)))
      assert.equal("allow", (f:eval("socket", { AF_INET }, arch)))
      assert.equal("kill_process", (f:eval("socket", { AF_PACKET }, arch)))
      assert.equal(EPERM, (f:eval("clone", { 0x10000000 }, arch)))
      assert.equal("allow", (f:eval("clone", { 0x11 }, arch)))
      assert.equal("allow", (f:eval("mprotect", { 0, 4096, 1 }, arch)))
      assert.equal("kill_process", (f:eval("mprotect", { 0, 4096, 4 }, arch)))
    end
    -- the same program as argN
    local g = assert(seccomp.builder()
      :allow("socket", "arg0 == AF_UNIX || arg0 == AF_INET")
      :deny("clone", "arg0 & CLONE_NEWUSER")
      :allow("mprotect", "arg2 & PROT_EXEC == 0")
      :allow("clone")
      :build { arches = { "x86_64", "aarch64" } })
    assert.equal(g.bpf, f.bpf)
  end)

  it("work in tables, with index still taken", function()
    local f = assert(seccomp.from_rules({
      { action = "allow", syscall = "socket", args = { { arg = "family", op = "eq", value = AF_UNIX } } },
      { action = "allow", syscall = "socket", args = { { index = 0, op = "eq", value = AF_INET } } },
      { action = "allow", syscall = "openat", args = { { arg = "flags", op = "masked_eq",
                                                         mask = "0x3", value = 0 } } },
    }, "kill_process", { arches = { "x86_64", "i386" } }))
    assert.equal("allow", (f:eval("socket", { AF_UNIX })))
    assert.equal("allow", (f:eval("socket", { AF_INET }, "i386")))
    assert.equal("allow", (f:eval("openat", { 0, 0, 0 })))
    assert.equal("kill_process", (f:eval("openat", { 0, 0, 2 })))
    assert.equal(0, f.rules[1].args[1].index)
    assert.equal(2, f.rules[3].args[1].index)
  end)

  it("apply to each syscall of a list or group by that syscall's names", function()
    -- fd is argument 0 of read, write and close; mmap's fd is argument 4
    local f = assert(seccomp.builder():allow({ "read", "write", "close", "mmap" }, "fd == 1")
                       :build { arch = "x86_64" })
    assert.equal("allow", (f:eval("write", { 1 })))
    assert.equal("kill_process", (f:eval("write", { 2 })))
    assert.equal("allow", (f:eval("close", { 1 })))
    assert.equal("allow", (f:eval("mmap", { 0, 0, 0, 0, 1 })))
    -- a group member without that name is an error naming the member
    local g, err = seccomp.builder():allow("@basic-io", "fd == 1"):build { arch = "x86_64" }
    assert.is_nil(g)
    assert.matches("'dup' has no argument 'fd' on x86_64 (its arguments there: fildes)", err.message, 1, true)
  end)

  it("are errors, with a suggestion, when the syscall has no such argument", function()
    local f, err = seccomp.builder():allow("socket", "famly == AF_UNIX"):build { arch = "x86_64" }
    assert.is_nil(f)
    assert.equal("bad_rule", err.code)
    assert.matches("'socket' has no argument 'famly' on x86_64 (did you mean 'family'?)", err.message, 1, true)
    f, err = seccomp.from_rules({ { action = "allow", syscall = "socket",
      args = { { arg = "famly", op = "eq", value = 1 } } } }, "kill_process", { arch = "x86_64" })
    assert.is_nil(f)
    assert.equal("bad_rule", err.code)
    assert.matches("'socket' has no argument 'famly' on x86_64 (did you mean 'family'?)",
                   err.message, 1, true)
    f, err = seccomp.from_rules({ { action = "allow", syscall = "socket",
      args = { { arg = "family", index = 0, op = "eq", value = 1 } } } }, "kill_process")
    assert.matches("give arg or index, not both", err.message, 1, true)
    f, err = seccomp.from_rules({ { action = "allow", syscall = "socket",
      args = { { arg = 0, op = "eq", value = 1 } } } }, "kill_process")
    assert.equal("bad_rule", err.code)
  end)

  it("must mean one argument on every arch of the filter", function()
    -- clone's tls is argument 4 on x86_64 and 3 on i386 and aarch64
    local f, err = seccomp.builder():allow("clone", "tls == 0")
      :build { arches = { "x86_64", "i386" } }
    assert.is_nil(f)
    assert.matches("'tls' is argument 4 of 'clone' on x86_64 but 3 on i386", err.message, 1, true)
    assert(seccomp.builder():allow("clone", "tls == 0"):build { arch = "x86_64" })
    -- i386's mmap takes one pointer to its arguments: no len there
    f, err = seccomp.builder():allow("mmap", "len < 4096"):build { arches = { "x86_64", "i386" } }
    assert.is_nil(f)
    assert.matches("'mmap' has no argument 'len' on i386", err.message, 1, true)
    -- s390x's names come from the kernel's sources: its clone takes the stack first
    assert(seccomp.builder():allow("socket", "family == 1"):build { arches = { "x86_64", "s390x" } })
    f, err = seccomp.builder():allow("clone", "clone_flags == 0"):build { arches = { "x86_64", "s390x" } }
    assert.is_nil(f)
    assert.matches("'clone_flags' is argument 0 of 'clone' on x86_64 but 1 on s390x", err.message, 1, true)
    -- a syscall whose names no table knows there
    f, err = seccomp.builder():allow("sigsuspend", "mask == 1"):build { arches = { "s390x" } }
    assert.is_nil(f)
    assert.matches("the argument names of 'sigsuspend' are not known on s390x", err.message, 1, true)
  end)

  it("are printed by the disassembly and explain", function()
    local f = assert(seccomp.builder():allow("socket", "family == AF_UNIX"):build { arch = "x86_64" })
    assert.matches("ld   %[16%]%s+; arg0 %(family%) low word", f:disasm())
    local e = f:explain("socket", { AF_UNIX, 1 })
    assert.matches("^socket%(family=0x1, type=0x1, protocol=0x0", require("sx.inspect").format_explain(e))
  end)
end)

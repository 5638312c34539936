-- On 32-bit ABIs (i386, arm) a syscall argument is 32 bits. The kernel may still hand
-- seccomp a register's upper half (int 0x80 from a 64-bit process leaves it dirty), so
-- a filter compares only the low word there: otherwise socket(0x100000011, ...) would
-- pass a rule that denies AF_PACKET (0x11) while the syscall reads 0x11.
local seccomp = require "sx.seccomp"

local function deny_packet(arches)
  return assert(seccomp.from_rules({
    { action = seccomp.errno "EPERM", syscall = "socket", args = { { index = 0, op = "eq", value = 17 } } },
  }, "allow", { arches = arches }))
end

describe("arguments on 32-bit ABIs", function()
  it("compare the low word only on i386 and arm", function()
    for _, arch in ipairs { "i386", "arm" } do
      local f = deny_packet({ arch })
      assert.equal(seccomp.errno "EPERM", f:eval("socket", { 17 }))
      assert.equal(seccomp.errno "EPERM", f:eval("socket", { 0x100000011 }), arch)
      assert.equal(seccomp.errno "EPERM", f:eval("socket", { -0xffffffef }), arch)  -- 0xffffffff00000011
      assert.equal("allow", f:eval("socket", { 16 }))
    end
  end)

  it("keep all 64 bits on 64-bit ABIs, in the same filter", function()
    local f = deny_packet({ "x86_64", "i386" })
    assert.equal("allow", f:eval("socket", { 0x100000011 }, "x86_64"))
    assert.equal(seccomp.errno "EPERM", f:eval("socket", { 0x100000011 }, "i386"))
    assert.equal(seccomp.errno "EPERM", f:eval("socket", { 17 }, "x86_64"))
  end)

  it("truncate values and masks too, for every operator", function()
    local cases = {
      { op = "ne", value = 0x100000005, arg = 5, want = false },
      { op = "lt", value = 0x100000005, arg = 7, want = false },
      { op = "le", value = 0x100000005, arg = 5, want = true },
      { op = "gt", value = 0x100000005, arg = 0x6, want = true },
      { op = "ge", value = 0x200000000, arg = 0, want = true },
      { op = "masked_eq", mask = 0xff000000ff, value = 0x7f00000001, arg = 0x1, want = true },
    }
    for _, c in ipairs(cases) do
      local f = assert(seccomp.from_rules({
        { action = "log", syscall = "read", args = { { index = 1, op = c.op, value = c.value, mask = c.mask } } },
      }, "allow", { arch = "i386" }))
      local got = f:eval("read", { 0, c.arg }) == "log"
      assert.equal(c.want, got, c.op)
    end
  end)

  it("load only the low word on i386, both words on x86_64", function()
    local function loads(f)
      local n = 0
      for _ in f:disasm():gmatch("; arg0") do n = n + 1 end
      return n
    end
    assert.equal(1, loads(deny_packet({ "i386" })))
    assert.equal(2, loads(deny_packet({ "x86_64" })))
  end)

  it("explain agrees with the program on i386", function()
    local f = deny_packet({ "i386" })
    local e = f:explain("socket", { 0x100000011 })
    assert.equal(seccomp.errno "EPERM", e.action)
    assert.equal(1, e.rule)
  end)
end)

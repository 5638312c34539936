-- The syscall tables: names to numbers strictly, numbers to names leniently.
local seccomp = require "sx.seccomp"

describe("syscall tables", function()
  it("maps names to the kernel's numbers on each architecture", function()
    assert.equal(0, seccomp.syscall_number("read", "x86_64"))
    assert.equal(59, seccomp.syscall_number("execve", "x86_64"))
    assert.equal(11, seccomp.syscall_number("execve", "i386"))
    assert.equal(221, seccomp.syscall_number("execve", "aarch64"))
    assert.equal(11, seccomp.syscall_number("execve", "arm"))
    assert.equal(221, seccomp.syscall_number("execve", "riscv64"))
    -- x32 numbers carry the x32 bit, as seccomp_data.nr does
    assert.equal(0x40000000 + 520, seccomp.syscall_number("execve", "x32"))
  end)

  it("defaults to the host's architecture", function()
    assert.equal(seccomp.syscall_number("openat", seccomp.arch()), seccomp.syscall_number("openat"))
  end)

  it("rejects unknown names with a suggestion", function()
    local nr, err = seccomp.syscall_number("execv", "x86_64")
    assert.is_nil(nr)
    assert.equal("unknown_syscall", err.code)
    assert.equal("execv", err.syscall)
    assert.matches("did you mean 'execve'", tostring(err))
    nr, err = seccomp.syscall_number("opne", "x86_64")
    assert.matches("did you mean 'open'", tostring(err))
    nr, err = seccomp.syscall_number("zzzzzzzzzz", "x86_64")
    assert.equal("unknown_syscall", err.code)
    assert.not_matches("did you mean", tostring(err))
  end)

  it("says when a syscall exists, but not on this architecture", function()
    local nr, err = seccomp.syscall_number("open", "aarch64")
    assert.is_nil(nr)
    assert.equal("unknown_syscall", err.code)
    assert.matches("does not exist on aarch64", tostring(err))
  end)

  it("names numbers, and says 'unknown' outside the table", function()
    assert.equal("read", seccomp.syscall_name(0, "x86_64"))
    assert.equal("execve", seccomp.syscall_name(0x40000000 + 520, "x32"))
    assert.equal("unknown", seccomp.syscall_name(99999, "x86_64"))
    assert.equal("unknown", seccomp.syscall_name(-5, "x86_64"))
  end)

  it("round-trips every name on every architecture", function()
    for _, arch in ipairs(seccomp.arches()) do
      for _, name in ipairs(seccomp.syscall_names()) do
        local nr = seccomp.syscall_number(name, arch)
        if nr then
          local back = seccomp.syscall_name(nr, arch)
          -- a few numbers carry two names (aliases); the number must still agree
          assert.equal(nr, seccomp.syscall_number(back, arch))
        end
      end
    end
  end)
end)

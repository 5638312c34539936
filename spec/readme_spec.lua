-- The README's examples print what the README says they print.
local seccomp = require "sx.seccomp"

describe("README", function()
  it("shows the builder example's real output", function()
    local readme = assert(io.open((os.getenv("SX_SOURCE_DIR") or ".") .. "/README.md")):read("a")
    local f = assert(seccomp.builder()
      :allow { "read", "write", "close", "exit_group" }
      :allow("socket", { { index = 0, op = "eq", value = 1 } })
      :deny "ptrace"
      :rule("log", "uname")
      :build { default = "kill_process", arch = "x86_64" })
    local function shown(s) return readme:find(s, 1, true) ~= nil end
    assert.is_true(shown("--> " .. tostring(f)))
    local a, n = f:eval("socket", { 2 })
    assert.is_true(shown(("--> %s   %d"):format(tostring(a), n)))
    a, n = f:eval("ptrace")
    assert.is_true(shown(("--> %s   %d"):format(tostring(a), n)))
  end)
end)

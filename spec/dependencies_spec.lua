-- What the modules need at run time: LPeg only for conditions written as text.
describe("sx.seccomp's run-time dependencies", function()
  it("builds filters with groups and table conditions without LPeg", function()
    local p = io.popen((os.getenv("SX_LUA") or "lua5.4") .. [[ -e '
      package.preload.lpeg = function() error("lpeg was loaded") end
      local seccomp = require "sx.seccomp"
      local f = assert(seccomp.builder():allow { "@basic-io", "exit_group" }
        :allow("socket", { { index = 0, op = "eq", value = 1 } }):build())
      io.write(tostring(f:eval("socket", { 1 })), " ")
      io.write(tostring(pcall(function()
        return seccomp.builder():allow("socket", "arg0 == 1"):build() end)))' 2>&1]])
    local out = p:read("a")
    p:close()
    assert.equal("allow false", out)
  end)
end)

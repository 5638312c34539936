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

  it("sxlua installs a policy's filter and runs the program without reading its rules back", function()
    -- (sx.rules rewrites sugar and names where a rule came from: a run has no use for it)
    local proc = require "support.proc"
    local path = proc.tmpname() .. ".lua"
    proc.write(path, [[
      package.preload["sx.rules"] = function()
        io.stderr:write("sx.rules was loaded\n")
        os.exit(99)
      end
      return require("sx.seccomp").deny_list({ "acct" })]])
    local code, out = proc.run(proc.SXLUA .. " " .. path .. " -- /bin/true 2>&1")
    os.remove(path)
    assert.equal("", out)
    assert.equal(0, code)
  end)
end)

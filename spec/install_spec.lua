-- `cmake --install` puts the modules where Debian's Lua 5.4 finds them.
local build = assert(os.getenv("SX_BUILD_DIR"), "run through ctest")

local function run(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok, how, code = p:close()
  return out, ok, how, code
end

describe("cmake --install", function()
  local prefix = os.tmpname()

  setup(function()
    os.remove(prefix)
    local out, ok = run(("cmake --install %q --prefix %q"):format(build, prefix))
    assert(ok, out)
  end)

  teardown(function() run(("rm -rf %q"):format(prefix)) end)

  it("installs modules that a plain lua5.4 loads from the prefix's Lua paths", function()
    local script = [[local s = require "sx.seccomp"
      local f = assert(s.deny_list({ "ptrace" }))
      io.write(tostring(f:eval("ptrace")), " ", package.searchpath("sx.core", package.cpath))]]
    local lua, abi = os.getenv("SX_LUA") or "lua5.4", os.getenv("SX_LUA_ABI") or "5.4"
    local out, ok = run(("env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 " ..
      "-u LUA_PATH_5_3 -u LUA_CPATH_5_3 " ..
      "%s -e 'package.path = %q .. package.path; package.cpath = %q .. package.cpath' -e %q")
      :format(lua, prefix .. "/share/lua/" .. abi .. "/?.lua;",
              prefix .. "/lib/lua/" .. abi .. "/?.so;", script))
    assert.is_true(ok, out)
    assert.equal("errno(EPERM) " .. prefix .. "/lib/lua/" .. abi .. "/sx/core.so", out)
  end)

  it("installs the C API header and library", function()
    assert.truthy(io.open(prefix .. "/include/sx.h"))
    assert.truthy(io.open(prefix .. "/lib/libsxcore.a"))
  end)
end)

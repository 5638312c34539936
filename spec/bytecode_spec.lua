-- sx.bytecode: what sxlua's build does to its modules (names = false) keeps every line
-- and the source, and runs the same; what it cannot read it refuses.
local bytecode = require "sx.bytecode"

local SOURCE = [[
local M = {}
local function helper(t) return t.field end      -- line 2
function M.run(x)
  local value = x * 2
  return helper(value)                             -- line 5: indexes a number
end
function M.sum(...)
  local total = 0
  for _, v in ipairs({ ... }) do total = total + v end
  return total
end
return M
]]

describe("sx.bytecode #lua54", function()
  local plain = string.dump(assert(load(SOURCE, "=sx.example")))

  it("drops local and upvalue names, and keeps the source, the lines and the behaviour", function()
    local dump = assert(bytecode.rewrite(plain, { names = false }))
    assert.is_true(#dump < #plain)
    local m = assert(load(dump, "=ignored", "b"))()
    assert.equal(10, m.sum(1, 2, 3, 4))
    local info = debug.getinfo(m.run, "SL")
    assert.equal("sx.example", info.short_src)
    assert.equal(3, info.linedefined)
    assert.truthy(info.activelines[4] and info.activelines[5])
    local ok, err = pcall(m.run, 21)
    assert.is_false(ok)
    assert.matches("^sx%.example:2: attempt to index a number value", err)
    assert.not_matches("local 't'", err)                   -- the name is what went
    local _, named = pcall(assert(load(plain, "=x", "b"))().run, 21)
    assert.matches("local 't'", named)
  end)

  it("leaves a chunk as it is when asked for nothing", function()
    assert.equal(plain, bytecode.rewrite(plain, {}))
  end)

  it("refuses what is not Lua 5.4's format as it reads it", function()
    assert.is_nil(bytecode.rewrite("\27Lua\x53" .. plain:sub(6), { names = false }))
    assert.is_nil(bytecode.rewrite(plain:sub(1, -2), { names = false }))
    assert.is_nil(bytecode.rewrite(plain .. "\0", { names = false }))
    assert.is_nil(bytecode.rewrite("return 1", { names = false }))
  end)
end)

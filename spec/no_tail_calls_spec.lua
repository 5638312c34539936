-- sx.no_tail_calls: sxlua loads a policy with its tail calls made plain calls, so the
-- policy's frames stay on the stack for sx.error.where; what the policy computes is the
-- same, every result included.
local no_tail_calls = require "sx.no_tail_calls"
local proc = require "support.proc"

local function file(text)
  local path = proc.tmpname() .. ".lua"
  proc.write(path, text)
  return path
end

describe("sx.no_tail_calls #lua54", function()
  local paths = {}
  local function load_both(text)
    local path = file(text)
    paths[#paths + 1] = path
    return assert(no_tail_calls.loadfile(path)), assert(loadfile(path))
  end
  teardown(function() for _, p in ipairs(paths) do os.remove(p) end end)

  it("keeps every result, nils and varargs included, and what the chunk computes", function()
    local patched, plain = load_both([[
local function many(...) return ... end
local function count(n, acc) if n == 0 then return acc end return count(n - 1, acc + n) end
local t = { 1.5, "a string longer than one hundred and twenty-seven bytes, so that its size " ..
            "takes two bytes in the dump", true, false, 2^62, math.mininteger }
local up = 0
local function bump() up = up + 1; return many(up, nil) end
if ... == "early" then return many(nil, "early", nil) end
return count(100, 0), bump(), many(#t, nil, ..., nil)
]])
    assert.same(table.pack(plain()), table.pack(patched()))
    assert.same({ n = 6, 5050, 1, 6, nil, "x", nil }, table.pack(patched("x")))
    assert.same({ n = 3, nil, "early", nil }, table.pack(patched("early")))
  end)

  it("leaves no tail call: the frames of the calls that made them stay on the stack", function()
    local patched, plain = load_both([[
local function here() return debug.traceback("", 1) end
local function helper() return here() end
return helper()
]])
    assert.matches("%(%.%.%.tail calls%.%.%.%)", plain())
    local trace = patched()
    assert.not_matches("tail calls", trace)
    assert.matches(":2: in [%w ]*'helper'", trace)
    assert.matches(":3: in ", trace)
  end)

  it("closes upvalues and to-be-closed variables as before", function()
    local patched = load_both([[
local closed = {}
local function make(i)
  local mine = i
  local _ <close> = setmetatable({}, { __close = function() closed[#closed + 1] = i end })
  return (function() return mine end)
end
local fs = {}
for i = 1, 3 do fs[i] = make(i) end
local function call(f) return f() end
return call(fs[1]), call(fs[2]), call(fs[3]), table.concat(closed, ",")
]])
    assert.same({ 1, 2, 3, "1,2,3" }, { patched() })
  end)

  it("still refuses bytecode and says what a syntax error is", function()
    local bin = file(string.dump(load("return 1")))
    paths[#paths + 1] = bin
    local f, err = no_tail_calls.loadfile(bin)
    assert.is_nil(f)
    assert.matches("binary chunk", err)
    local bad = file("return (")
    paths[#paths + 1] = bad
    f, err = no_tail_calls.loadfile(bad)
    assert.is_nil(f)
    assert.matches(":1: unexpected symbol", err)
  end)

  it("gives up on what it cannot read, leaving the chunk as it was", function()
    local dump = string.dump(function() return print() end)
    assert.is_string(no_tail_calls.patch(dump))
    assert.is_nil(no_tail_calls.patch("\27Lua\x53" .. dump:sub(6)))    -- another version
    assert.is_nil(no_tail_calls.patch(dump:sub(1, -2)))                -- truncated
    assert.is_nil(no_tail_calls.patch(dump .. "\0"))                   -- more than a function
  end)
end)

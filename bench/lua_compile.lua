-- bench/lua_compile.lua: compile time through the Lua API (sx.seccomp in lua5.4), which
-- is what a Lua user pays: reading the rule tables, then the C compiler.
--
--   lua5.4 bench/lua_compile.lua time NAME PROFILE [VIA]     median CPU ns per call
--   lua5.4 bench/lua_compile.lua once NAME PROFILE N [VIA]   N calls (for callgrind; run
--                                                            with N = 0 too and take the
--                                                            difference)
-- NAME is an input of bench/inputs.lua (docker, allow300, deny40, args50). VIA is "api"
-- (default: the constructor a user calls for the input, allow_list / deny_list for the
-- lists) or "rules" (from_rules with the input's rule tables, for every input).
local seccomp = require "sx.seccomp"
local inputs = require "inputs"

local clock, sort = os.clock, table.sort

local mode, name, profile = arg[1], arg[2], arg[3]
local n = math.tointeger(tonumber(arg[4] or ""))
local via = (mode == "once" and arg[5] or arg[4]) or "api"
assert(via == "api" or via == "rules", "VIA is api or rules")

local input
for _, i in ipairs(inputs.all(profile)) do
  if i.name == name then input = i end
end
assert(input, "no input named " .. tostring(name))

local compile = function()
  return assert(seccomp.from_rules(input.rules, input.default, input.opts))
end
if via == "api" and input.lua_call then
  compile = function() return assert(input.lua_call()) end
end

if mode == "once" then
  local f
  for _ = 1, n do f = compile() end
  print(f and #f.bpf or 0)
elseif mode == "time" then
  local f = compile()
  local per, batch = {}, 1
  while true do
    local t0 = clock()
    for _ = 1, batch do compile() end
    if clock() - t0 > 0.02 then break end
    batch = batch * 2
  end
  for b = 1, 31 do
    local t0 = clock()
    for _ = 1, batch do compile() end
    per[b] = (clock() - t0) / batch * 1e9
  end
  sort(per)
  print(("%.1f %d %d"):format(per[16], batch * 31, #f.bpf))
else
  error("usage: lua_compile.lua time|once NAME PROFILE [N]")
end

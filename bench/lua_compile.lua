-- bench/lua_compile.lua: compile time through the Lua API (sx.seccomp in lua5.4), which
-- is what a Lua user pays: reading the rule tables, then the C compiler.
--
--   lua5.4 bench/lua_compile.lua once NAME PROFILE N [VIA]   N calls (for callgrind; run
--                                                            with N = 0 too and take the
--                                                            difference)
--   lua5.4 bench/lua_compile.lua pair NAME PROFILE VIA RULEFILE
--       the calls and libseccomp's compiles of RULEFILE (the same input, through
--       bench/lsc_lua.c in this process) in alternating batches: median ns per call,
--       median ns per libseccomp compile, median of the pairs' ratios
-- NAME is an input of bench/inputs.lua (docker, allow300, deny40, args50, cond1000). VIA is "api"
-- (default: the constructor a user calls for the input, allow_list / deny_list for the
-- lists) or "rules" (from_rules with the input's rule tables, for every input).
local seccomp = require "sx.seccomp"
local inputs = require "inputs"
local timing = require "timing"

local clock = os.clock

local mode, name, profile = arg[1], arg[2], arg[3]
local n = math.tointeger(tonumber(arg[4] or ""))
local via = (mode == "once" and arg[5] or arg[4]) or "api"
assert(via == "api" or via == "rules", "VIA is api or rules")

local input
for _, i in ipairs(inputs.all(profile)) do
  if i.name == name then input = i end
end
assert(input, "no input named " .. tostring(name))

-- What is timed is the call alone, as libseccomp's compiles are timed in C: its result is
-- checked once, before.
local compile = function()
  return seccomp.from_rules(input.rules, input.default, input.opts)
end
if via == "api" and input.lua_call then compile = input.lua_call end
assert(compile())

local batch_size, median = timing.batch_size, timing.median

-- CPU ns per call over a batch of n calls of fn.
local function batch(fn, n) return timing.batch(fn, n) * 1e9 end

if mode == "once" then
  local f
  for _ = 1, n do f = compile() end
  print(f and #f.bpf or 0)
elseif mode == "pair" then
  local peer = require("bench.lsc_peer").load(assert(arg[5], "pair needs a rule file"))
  local function lsc() peer:compile(1) end
  local calls, peer_calls = batch_size(compile, 0.01), batch_size(lsc, 0.01)
  local ours, theirs, ratio = {}, {}, {}
  for b = 1, 31 do
    ours[b] = batch(compile, calls)
    local t0 = clock()
    peer:compile(peer_calls)
    theirs[b] = (clock() - t0) / peer_calls * 1e9
    ratio[b] = theirs[b] / ours[b]
  end
  print(("%.1f %.1f %.2f"):format(median(ours), median(theirs), median(ratio)))
else
  error("usage: lua_compile.lua once|pair NAME PROFILE ...")
end

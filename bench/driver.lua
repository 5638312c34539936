-- bench/driver.lua: the helpers bench/bench.lua hands its row modules (spawn.lua,
-- listener.lua) in their ctx, shared with listener.lua when it runs alone.
--
--   local driver = require "driver"
--   driver.sh(cmd) -> its stdout, trailing space cut (raises when the command fails)
--   driver.write(path, text); driver.words(s) -> list; driver.log(fmt, ...) to stderr
--   driver.rounds(ctx, label, rounds, pin, cmds): commands timed in rounds (below)

local fmt, tostring, tonumber, ipairs = string.format, tostring, tonumber, ipairs

local M = {}

function M.log(...) io.stderr:write(fmt(...), "\n") end

function M.sh(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local ok, _, code = p:close()
  if not ok then error(fmt("command failed (%s): %s\n%s", tostring(code), cmd, out)) end
  return (out:gsub("%s+$", ""))
end

M.write = require("support.proc").write

function M.words(s)
  local t = {}
  for w in s:gmatch("%S+") do t[#t + 1] = w end
  return t
end

-- rounds(ctx, label, rounds, pin, cmds): runs `cmds` (shell words, each a command line,
-- or spawn_bench's own words for one when it starts with "--": "--fd 9=PATH -- cmd")
-- in `rounds` rounds of bench/spawn_bench (each command once a round, in rotating orders),
-- pinned to one CPU or not: { cmds = { {wall, cpu, faults, failed}... }, ratio(i, j) ->
-- {cpu, wall}, the medians of the rounds' ratios }. With two commands, alternating pairs.
function M.rounds(ctx, label, rounds, pin, cmds)
  ctx.log("%s%s", label, pin and " (one CPU)" or "")
  local parts = {}
  for i, c in ipairs(cmds) do parts[i] = c:match("^%-%-") and c or "-- " .. c end
  local out = ctx.sh(fmt("%s%s/bench/spawn_bench %d %s 2>>%s/rounds.stderr",
                         pin and "taskset -c 0 " or "", ctx.BUILD, rounds,
                         table.concat(parts, " --vs "), ctx.OUT))
  local r = { label = label, rounds = rounds, pin = pin, cmds = {}, ratios = {} }
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = M.words(line) end
  if #cmds == 2 then          -- the pairs' one line: A's three medians, B's, ratios, failed
    local w = lines[1]
    r.cmds[1] = { wall = tonumber(w[1]), cpu = tonumber(w[2]), faults = tonumber(w[3]),
                  failed = tonumber(w[9]) }
    r.cmds[2] = { wall = tonumber(w[4]), cpu = tonumber(w[5]), faults = tonumber(w[6]),
                  failed = tonumber(w[10]) }
    r.ratios["1 2"] = { cpu = tonumber(w[7]), wall = tonumber(w[8]) }
  else
    for i = 1, #cmds do
      local w = lines[i]
      r.cmds[i] = { wall = tonumber(w[1]), cpu = tonumber(w[2]), faults = tonumber(w[3]),
                    failed = tonumber(w[4]) }
    end
    for k = #cmds + 1, #lines do
      local w = lines[k]
      r.ratios[(w[1] + 1) .. " " .. (w[2] + 1)] = { cpu = tonumber(w[3]), wall = tonumber(w[4]) }
    end
  end
  function r.ratio(i, j) return r.ratios[i .. " " .. j] end
  r.failed = 0
  for _, c in ipairs(r.cmds) do r.failed = r.failed + c.failed end
  return r
end

return M

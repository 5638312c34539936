-- bench/timing.lua: CPU time of batches of calls, for the in-process pair modes of
-- bench/lua_compile.lua and bench/oci_import.lua.
--
--   local timing = require "timing"
--   local n = timing.batch_size(fn, 0.01)    -- how many calls take about 10 ms of CPU
--   local s = timing.batch(fn, n)            -- CPU seconds per call over n calls
--   timing.median(list)

local clock, sort = os.clock, table.sort

local M = {}

function M.batch(fn, n)
  local t0 = clock()
  for _ = 1, n do fn() end
  return (clock() - t0) / n
end

function M.batch_size(fn, seconds)
  local n = 1
  while true do
    local t0 = clock()
    for _ = 1, n do fn() end
    if clock() - t0 > seconds then return n end
    n = n * 2
  end
end

function M.median(v)
  sort(v)
  return v[(#v + 1) // 2]
end

return M

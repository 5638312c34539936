-- bench/driver.lua: the helpers bench/bench.lua hands its row modules (spawn.lua,
-- listener.lua) in their ctx, shared with listener.lua when it runs alone.
--
--   local driver = require "driver"
--   driver.sh(cmd) -> its stdout, trailing space cut (raises when the command fails)
--   driver.write(path, text); driver.words(s) -> list; driver.log(fmt, ...) to stderr

local fmt, tostring = string.format, tostring

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

return M

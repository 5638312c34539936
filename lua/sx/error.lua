-- sx.error: error values with a stable code for programs and a sentence for people.
-- err.code is machine-readable, err.message the sentence, err.where the policy line
-- that caused it ("policy.lua:12"); tostring(err) joins them.

local debug, setmetatable, getmetatable, tostring, pairs, type, error =
  debug, setmetatable, getmetatable, tostring, pairs, type, error

local Error = { __name = "sx.error" }
Error.__index = Error

function Error.__tostring(e)
  if e.where then return e.where .. ": " .. e.message end
  return e.message
end

-- Is this frame inside sx itself (so not where the user's mistake is)?
local function internal(info)
  return info.what == "C" or info.source:find("[/\\]sx[/\\][%w_]+%.lua$") ~= nil
      or info.source:find("^=sx[%.%]]") ~= nil or info.source:find("^=%[C%]") ~= nil
end

local M = {}

-- "file:line" of the first caller outside sx, or nil.
function M.where()
  for level = 2, 40 do
    local info = debug.getinfo(level, "Sl")
    if not info then return nil end
    if not internal(info) and info.currentline > 0 then
      return info.short_src .. ":" .. info.currentline
    end
  end
end

-- M.last: the last error new() made in this Lua state (a field of the module, so one per
-- state, as gateways run one state per thread). When a policy drops a constructor's
-- `nil, err` and returns no filter, sxlua says this error, with its line.
M.last = nil

-- new(code, message [, fields]): fields (syscall, action, rule, arch, ...) are copied in.
function M.new(code, message, fields)
  local e = { code = code, message = message }
  for k, v in pairs(fields or {}) do e[k] = v end
  if e.where == nil then e.where = M.where() end
  setmetatable(e, Error)
  M.last = e
  return e
end

function M.is(x)
  return getmetatable(x) == Error
end

-- Raise a misuse error at the user's line: argument types, unknown option keys.
function M.raise(message)
  local where = M.where()
  error(where and (where .. ": " .. message) or message, 0)
end

-- Check that `opts` is nil or a table with only `allowed` keys.
function M.check_options(opts, allowed, fname)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    M.raise(("%s: options must be a table, got %s"):format(fname, type(opts)))
  end
  for k in pairs(opts) do
    if not allowed[k] then
      M.raise(("%s: unknown option '%s'"):format(fname, tostring(k)))
    end
  end
  return opts
end

return M

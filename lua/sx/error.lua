-- sx.error: error values with a stable code for programs and a sentence for people.
-- err.code is machine-readable, err.message the sentence, err.where the policy line
-- that caused it ("policy.lua:12"); tostring(err) joins them.

local debug, setmetatable, getmetatable, tostring, pairs, type, error, io, math =
  debug, setmetatable, getmetatable, tostring, pairs, type, error, io, math

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

-- "file:line" of the first caller outside sx, or nil. `from` (default 2, where's own
-- caller) is the first level to look at, relative to the caller: a constructor that its
-- user calls directly passes 2 and finds its user at once.
-- function -> false when it is sx's own, else its short source name. (Remembered:
-- building the source names of every frame costs more than compiling a short list.)
local source_of = setmetatable({}, { __mode = "k" })

function M.where(from)
  for level = (from or 1) + 1, 40 do
    local f = debug.getinfo(level, "f")
    if not f then return nil end
    local src = f.func and source_of[f.func]
    if src == nil then
      local info = debug.getinfo(level, "S")
      src = not internal(info) and info.short_src
      if f.func then source_of[f.func] = src end
    end
    if src then
      local line = debug.getinfo(level, "l").currentline
      if line > 0 then return src .. ":" .. line end
    end
  end
end

-- ---- the line of one call in a chain ----------------------------------------------------
-- Lua gives every call of a chained expression the line where the statement starts:
--   local f = seccomp.builder()      -- line 3
--     :allow "read"                  -- line 4: Lua says 3
--     :deny("ptrace", "errno(EPREM)") -- line 5: Lua says 3
-- So the call's own line is found in the source: from the statement's line, the method
-- calls (":name"), in order, up to where the statement ends. A cursor per statement (kept by the caller, e.g. a builder) walks them call by
-- call, so the n-th :deny of a chain gets the line of the n-th ":deny"; a loop that runs
-- one call many times goes round again.

local source_cache = setmetatable({}, { __mode = "v" })

-- The lines of a chunk's source: its file, or the chunk text itself.
local function source_lines(source)
  local lines = source_cache[source]
  if lines then return lines end
  local text
  if source:sub(1, 1) == "@" then
    local f = io.open(source:sub(2), "rb")
    if not f then return nil end
    text = f:read("a")
    f:close()
  elseif source:sub(1, 1) ~= "=" then
    text = source
  end
  if not text then return nil end
  lines = { text = text, starts = { 1 } }
  for pos in text:gmatch("\n()") do lines.starts[#lines.starts + 1] = pos end
  source_cache[source] = lines
  return lines
end

local function line_at(lines, pos)
  local lo, hi = 1, #lines.starts
  while lo < hi do
    local mid = (lo + hi + 1) // 2
    if lines.starts[mid] <= pos then lo = mid else hi = mid - 1 end
  end
  return lo
end

-- The method calls {name, line} of the statement that starts on `line`.
local function chain_calls(lines, line)
  local text, pos = lines.text, lines.starts[line]
  if not pos then return {} end
  local calls, depth, last_line = {}, 0, line
  local after_value = false      -- did the last token end an expression?
  while pos <= #text do
    local c = text:sub(pos, pos)
    local here = line_at(lines, pos)
    if c:match("%s") then
      pos = pos + 1
    elseif text:find("^%-%-", pos) then
      local eq = text:match("^%-%-%[(=*)%[", pos)
      if eq then
        local _, e = text:find("]" .. eq .. "]", pos, true)
        pos = (e or #text) + 1
      else
        pos = (text:find("\n", pos, true) or #text) + 1
      end
    else
      -- a new token: on a later line at depth 0 after a complete expression, the
      -- statement has ended unless the token continues it
      if here > last_line and depth == 0 and after_value and not c:match("[:%.%(%[{\"']") then
        break
      end
      last_line = here
      if c == '"' or c == "'" then
        local i = pos + 1
        while i <= #text and text:sub(i, i) ~= c do
          if text:sub(i, i) == "\\" then i = i + 1 end
          i = i + 1
        end
        pos, after_value = i + 1, true
      elseif text:find("^%[=*%[", pos) then
        local eq = text:match("^%[(=*)%[", pos)
        local _, e = text:find("]" .. eq .. "]", pos, true)
        pos, after_value = (e or #text) + 1, true
      elseif c == "(" or c == "{" or c == "[" then
        depth, pos, after_value = depth + 1, pos + 1, false
      elseif c == ")" or c == "}" or c == "]" then
        depth, pos, after_value = depth - 1, pos + 1, true
        if depth < 0 then break end
      elseif c == ":" and text:sub(pos + 1, pos + 1) ~= ":" then
        local name = text:match("^:%s*([%a_][%w_]*)", pos)
        if name then calls[#calls + 1] = { name, here } end
        pos, after_value = pos + 1, false
      elseif c:match("[%a_]") then
        local word = text:match("^[%a_][%w_]*", pos)
        pos = pos + #word
        after_value = not (word == "and" or word == "or" or word == "not" or word == "return"
                           or word == "local" or word == "function" or word == "then"
                           or word == "do" or word == "else" or word == "in")
      elseif c:match("%d") then
        pos, after_value = pos + #text:match("^[%w%.]+", pos), true
      else
        pos, after_value = pos + 1, false
      end
    end
  end
  return calls
end

-- "file:line" of the call of method `name` being made now by the first caller outside sx,
-- with `cursor` (a table the caller keeps) remembering how far each statement's chain
-- went; the statement's line when the source cannot be read.
function M.call_where(name, cursor)
  for level = 2, 40 do
    local info = debug.getinfo(level, "Sl")
    if not info then return nil end
    if not internal(info) and info.currentline > 0 then
      local line = info.currentline
      local lines = source_lines(info.source)
      local calls = lines and chain_calls(lines, line) or {}
      local key = info.source .. ":" .. line
      local at = cursor and cursor[key] or 0
      local found
      for k = at + 1, #calls do
        if calls[k][1] == name then found = k; break end
      end
      if not found then   -- round again (a loop), or not in the source after all
        for k = 1, math.min(at, #calls) do
          if calls[k][1] == name then found = k; break end
        end
      end
      if found then
        if cursor then cursor[key] = found end
        line = calls[found][2]
      end
      return info.short_src .. ":" .. line
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

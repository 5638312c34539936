-- sx.json: JSON text for what sxlua prints with --json.
--
--   local json = require "sx.json"
--   io.write(json.encode({ name = "read", nr = 0, rules = json.array({}) }), "\n")
--
-- lua-cjson 2.1 writes every number as a double with 14 digits, so instruction words and
-- syscall numbers above 10^14 would come out rounded; this writer prints Lua integers
-- exactly, object keys sorted (the output is stable), and an empty table as {} unless it
-- is marked with array(). Floats, functions and cycles are errors: nothing sx prints has
-- them.

local type, pairs, ipairs, tostring, error, setmetatable, getmetatable, next =
  type, pairs, ipairs, tostring, error, setmetatable, getmetatable, next
local fmt, concat, sort, math_type = string.format, table.concat, table.sort, math.type

local M = {}

local ARRAY = {}

-- array(t): t, to be written as a JSON array even when empty.
function M.array(t)
  return setmetatable(t or {}, ARRAY)
end

local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
                  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function string_json(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESCAPES[c] or fmt("\\u%04x", c:byte())
  end) .. '"'
end

local function is_array(t)
  if getmetatable(t) == ARRAY then return true end
  if next(t) == nil then return false end
  local n = #t
  for k in pairs(t) do
    if math_type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

local function encode(v, out, depth)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = string_json(v)
  elseif math_type(v) == "integer" then
    out[#out + 1] = fmt("%d", v)
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "table" then
    if depth > 50 then error("sx.json: too deep (a cycle?)", 0) end
    if is_array(v) then
      out[#out + 1] = "["
      for i, x in ipairs(v) do
        if i > 1 then out[#out + 1] = "," end
        encode(x, out, depth + 1)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do
        if type(k) ~= "string" then error("sx.json: object keys must be strings", 0) end
        keys[#keys + 1] = k
      end
      sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = string_json(k) .. ":"
        encode(v[k], out, depth + 1)
      end
      out[#out + 1] = "}"
    end
  else
    error("sx.json: cannot write a " .. (math_type(v) or t), 0)
  end
end

-- encode(value) -> JSON text (one line)
function M.encode(v)
  local out = {}
  encode(v, out, 0)
  return concat(out)
end

return M

-- sx.rules: checks rule tables and puts them in one normal form.
-- A rule is {action, "name" [, args]} or {action = a, syscall = "name"|number, args = {...}};
-- a condition is {index = 0..5, op = "eq"|"ne"|"lt"|"le"|"gt"|"ge"|"masked_eq", value = v
-- [, mask = m]}, values 64-bit (Lua integers, 2^63 and above as negative two's complement,
-- or strings "0xffffffffffffffff" / "18446744073709551615").

local action = require "sx.action"
local error_ = require "sx.error"

local type, tostring, pairs, ipairs, math_type, tointeger, ult =
  type, tostring, pairs, ipairs, math.type, math.tointeger, math.ult

local M = {}

local OPS = { eq = true, ne = true, lt = true, le = true, gt = true, ge = true, masked_eq = true }
local MAX_CONDS = 16

-- A string of decimal digits as an unsigned 64-bit value (wrapping into Lua's integers).
local function decimal64(s)
  local v = 0
  for d in s:gmatch("%d") do
    local nv = v * 10 + (d:byte() - 48)
    -- overflow when the new value is not above v*10's unsigned range
    if ult(0x1999999999999999, v) or (v == 0x1999999999999999 and d:byte() - 48 > 5) then
      return nil
    end
    v = nv
  end
  return v
end

-- A 64-bit argument value from an integer, an integral float or a numeric string.
function M.integer64(v)
  if math_type(v) == "integer" then return v end
  if math_type(v) == "float" then
    local i = tointeger(v)
    if i then return i end
    if v >= 2^63 and v < 2^64 and v == math.floor(v) then return tointeger(v - 2^64) end
    return nil, ("%s is not an integer that fits 64 bits"):format(tostring(v))
  end
  if type(v) == "string" then
    local hex = v:match("^0[xX](%x+)$")
    -- Lua's hexadecimal integers wrap around, which is two's complement here
    if hex and #hex:gsub("^0+", "") <= 16 then return tonumber("0x" .. hex) end
    if v:match("^%d+$") then
      local n = decimal64(v)
      if n then return n end
    end
    local neg = v:match("^%-(%d+)$")
    if neg then
      local n = decimal64(neg)
      if n and not ult(0x8000000000000000, n) then return -n end
    end
    return nil, ("'%s' is not a 64-bit number"):format(v)
  end
  return nil, ("an argument value is an integer, got %s"):format(type(v))
end

local function cond_error(msg, i, c)
  return nil, ("rule %d: condition %d: %s"):format(i, c, msg)
end

local function normalize_cond(cond, i, c)
  if type(cond) ~= "table" then return cond_error("a condition is a table", i, c) end
  for k in pairs(cond) do
    if k ~= "index" and k ~= "op" and k ~= "value" and k ~= "mask" then
      return cond_error(("unknown field '%s'"):format(tostring(k)), i, c)
    end
  end
  local index = tointeger(cond.index)
  if not index or index < 0 or index > 5 then
    return cond_error(("argument index must be 0..5, got %s"):format(tostring(cond.index)), i, c)
  end
  if not OPS[cond.op] then
    return cond_error(("unknown operator '%s' (eq ne lt le gt ge masked_eq)")
                      :format(tostring(cond.op)), i, c)
  end
  local value, msg = M.integer64(cond.value)
  if not value then return cond_error(msg, i, c) end
  local out = { index = index, op = cond.op, value = value }
  if cond.op == "masked_eq" then
    local mask, mmsg = M.integer64(cond.mask)
    if not mask then return cond_error("masked_eq needs a mask: " .. mmsg, i, c) end
    out.mask = mask
  elseif cond.mask ~= nil then
    return cond_error("a mask is only for masked_eq", i, c)
  end
  return out
end

local function normalize_args(args, i)
  if args == nil then return nil end
  if type(args) ~= "table" then return nil, ("rule %d: args must be a list of conditions"):format(i) end
  if #args > MAX_CONDS then
    return nil, ("rule %d: at most %d conditions in one rule"):format(i, MAX_CONDS)
  end
  local out = {}
  for c = 1, #args do
    local cond, msg = normalize_cond(args[c], i, c)
    if not cond then return nil, msg end
    out[c] = cond
  end
  for k in pairs(args) do
    if math_type(k) ~= "integer" or k < 1 or k > #args then
      return nil, ("rule %d: args must be a list of conditions"):format(i)
    end
  end
  return #out > 0 and out or nil
end

local RULE_FIELDS = { [1] = true, [2] = true, [3] = true, action = true, syscall = true, args = true }

-- One rule in normal form {action = canonical, syscall = name|number, args = list|nil},
-- or nil and an sx.error.
function M.normalize(rule, i, where)
  local function fail(code, msg, fields)
    fields = fields or {}
    fields.rule, fields.where = i, where
    return nil, error_.new(code, msg, fields)
  end
  if type(rule) ~= "table" then
    return fail("bad_rule", ("rule %d is a %s, not a table"):format(i, type(rule)))
  end
  for k in pairs(rule) do
    if not RULE_FIELDS[k] then
      return fail("bad_rule", ("rule %d: unknown field '%s'"):format(i, tostring(k)))
    end
  end
  -- {"allow", "read", syscall = "write"}: one of the two would be ignored without a word
  for pos, name in ipairs({ "action", "syscall", "args" }) do
    if rule[name] ~= nil and rule[pos] ~= nil then
      return fail("bad_rule", ("rule %d gives its %s twice, as item %d and as '%s'")
                  :format(i, name, pos, name))
    end
  end
  local act = rule.action
  if act == nil then act = rule[1] end
  local syscall = rule.syscall
  if syscall == nil then syscall = rule[2] end
  local args = rule.args
  if args == nil then args = rule[3] end
  if act == nil then return fail("bad_action", ("rule %d has no action"):format(i)) end
  local value, amsg = action.value(act)
  if not value then return fail("bad_action", ("rule %d: %s"):format(i, amsg), { action = act }) end
  if type(syscall) == "number" then
    local n = tointeger(syscall)
    if not n or n < 0 then
      return fail("bad_rule", ("rule %d: syscall number %s is not a non-negative integer")
                  :format(i, tostring(syscall)), { syscall = syscall })
    end
    syscall = n
  elseif type(syscall) ~= "string" then
    return fail("bad_rule", ("rule %d: syscall must be a name or a number, got %s")
                :format(i, type(syscall)), { syscall = syscall })
  elseif syscall:find("\0", 1, true) then   -- C would read only the part before it
    return fail("unknown_syscall", ("rule %d: unknown syscall %q (a name holds no NUL byte)")
                :format(i, syscall), { syscall = syscall })
  end
  local conds, cmsg = normalize_args(args, i)
  if cmsg then return fail("bad_rule", cmsg, { syscall = syscall }) end
  return { action = action.canonical(value), syscall = syscall, args = conds }, value
end

-- The table sx.core.compile takes for a normal-form rule.
function M.for_core(rule, value)
  return { action = value, syscall = rule.syscall, conds = rule.args }
end

-- check_list(t, what) -> n, or nil, a sentence and the index at fault: is `t` a list with
-- keys 1..n and no holes? A hole is what a misspelt variable (nil) in a policy's list
-- looks like; walking the list with ipairs or # would silently drop what follows it.
function M.check_list(t, what)
  local n, count = 0, 0
  for k in pairs(t) do
    if math_type(k) ~= "integer" or k < 1 then
      return nil, ("%s must be a list, but has the key %s"):format(what,
                   type(k) == "string" and ("'" .. k .. "'") or tostring(k))
    end
    count = count + 1
    if k > n then n = k end
  end
  if count ~= n then
    for i = 1, n do
      if t[i] == nil then
        return nil, ("%s: item %d is nil (a misspelt variable?), and the items after it would "
                     .. "be lost"):format(what, i), i
      end
    end
  end
  return n
end

-- A deep copy, so users can change what to_rules returns without touching a filter.
function M.copy(rule)
  local out = { action = rule.action, syscall = rule.syscall }
  if rule.args then
    out.args = {}
    for c, cond in ipairs(rule.args) do
      out.args[c] = { index = cond.index, op = cond.op, value = cond.value, mask = cond.mask }
    end
  end
  return out
end

return M

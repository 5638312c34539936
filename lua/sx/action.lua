-- sx.action: seccomp return actions.
-- Plain actions are written as strings ("allow", "kill_process", "kill_thread", "trap",
-- "log", "notify"); errno(e) and trace(n) make action objects, interned, so actions that
-- mean the same compare equal and print as "errno(EPERM)". The text forms "errno(EPERM)"
-- and "trace(3)" are accepted wherever an action is.

local core = require "sx.core"
local error_ = require "sx.error"

local setmetatable, getmetatable, type, tostring = setmetatable, getmetatable, type, tostring
local math_type, tointeger = math.type, math.tointeger

local M = {}

local RET_ERRNO, RET_TRACE, RET_DATA = 0x00050000, 0x7ff00000, 0xffff
local MAX_ERRNO = 4095

local plain = {
  kill_process = 0x80000000, kill_thread = 0x00000000, trap = 0x00030000,
  notify = 0x7fc00000, log = 0x7ffc0000, allow = 0x7fff0000,
}
local plain_name = {}
for name, value in pairs(plain) do plain_name[value] = name end

local Action = { __name = "sx.action" }
Action.__index = Action
function Action.__eq(a, b) return a.value == b.value end
function Action.__tostring(a) return core.action_string(a.value) end
-- sx.core's rule reader knows action objects by this metatable
if core.register_type then core.register_type("sx.action", Action) end

local interned = setmetatable({}, { __mode = "v" })

local function object(value)
  local a = interned[value]
  if not a then
    a = setmetatable({ value = value }, Action)
    interned[value] = a
  end
  return a
end

local function errno_number(e)
  if math_type(e) == "integer" or (type(e) == "number" and tointeger(e)) then
    e = tointeger(e)
    if e >= 0 and e <= MAX_ERRNO then return e end
    return nil, ("errno %d is not in 0..%d"):format(e, MAX_ERRNO)
  elseif type(e) == "string" then
    local v, msg = core.action_value("errno(" .. e .. ")")
    if v then return v & RET_DATA end
    return nil, msg
  end
  return nil, "errno takes a name such as \"EPERM\" or an integer, got " .. type(e)
end

-- errno(e): e a name ("EPERM", any case) or an integer 0..4095.
function M.errno(e)
  local n, msg = errno_number(e)
  if not n then error_.raise(msg) end
  return object(RET_ERRNO | n)
end

-- trace(n): hand the syscall to a ptrace tracer with message n (0..65535).
function M.trace(n)
  n = tointeger(n)
  if not n or n < 0 or n > RET_DATA then error_.raise("trace takes an integer 0..65535") end
  return object(RET_TRACE | n)
end

-- The kernel value of an action, or nil and why not. Text is read by the C core's parser
-- (the one the rule reader uses): "allow", "errno(EPERM)", "trace(3)", any case.
function M.value(a)
  if getmetatable(a) == Action then return a.value end
  if type(a) ~= "string" then
    return nil, ("an action is a string such as \"allow\" or errno(...), got %s"):format(type(a))
  end
  return core.action_value(a)
end

-- The kind of a kernel value: "kill" (kill_process or kill_thread), "trap", "errno",
-- "notify", "trace", "log", "allow", or "other".
local KIND = { [0x80000000] = "kill", [0x00000000] = "kill", [0x00030000] = "trap",
               [RET_ERRNO] = "errno", [0x7fc00000] = "notify", [RET_TRACE] = "trace",
               [0x7ffc0000] = "log", [0x7fff0000] = "allow" }
function M.kind(value)
  return KIND[value & 0xffff0000] or "other"
end

-- The form users write for a kernel value: a plain string or an action object.
-- rank(value) -> the action's precedence as the kernel orders a stack: the lowest (a
-- signed compare of the action bits) is the most restrictive.
function M.rank(value)
  local v = value & 0xffff0000
  return v >= 0x80000000 and v - 0x100000000 or v
end

function M.canonical(value)
  return plain_name[value] or object(value)
end

function M.is(x)
  return getmetatable(x) == Action or (type(x) == "string" and M.value(x) ~= nil)
end

return M

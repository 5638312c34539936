-- sx.builder: build a filter rule by rule, with calls that chain:
--   seccomp.builder():allow{"read", "write"}:deny("ptrace"):rule("log", "uname"):build()
-- Each rule remembers the policy line of the call that added it (the line of that
-- :allow(...), even inside a chain that spans lines), so an error names that line and
-- f.rules[i].where says it. Groups, text conditions and named arguments work here too:
--   seccomp.builder():allow("@basic-io"):allow("socket", "family == AF_UNIX")
--     :deny("clone", "flags & CLONE_NEWUSER"):deny("@mount", "kill_process")

local action = require "sx.action"
local error_ = require "sx.error"
local filter = require "sx.filter"
local rules_ = require "sx.rules"

local setmetatable, type, ipairs, select = setmetatable, type, ipairs, select

local Builder = { __name = "sx.builder" }

local METHODS = { "allow", "deny", "rule", "build" }

-- A method the builder lacks (a typo in a chain) is an error at the line of the call.
function Builder.__index(_, key)
  local m = Builder[key]
  if m ~= nil or type(key) ~= "string" then return m end
  local near = require("sx.groups").nearest(key, METHODS)
  error_.raise(("the builder has no method '%s'%s"):format(key,
               near and (" (did you mean '%s'?)"):format(near) or ""))
end

local DENY = action.errno("EPERM")

-- The policy line of the builder call being made (method `name`).
local function call_line(self, name)
  return error_.call_where(name, self.cursor)
end

-- An argument past a method's last is an error, never ignored.
local function at_most(method, n, ...)
  if select("#", ...) > n then
    error_.raise(("%s takes at most %d arguments, got %d"):format(method, n, select("#", ...)))
  end
end

-- rule(action, x [, conditions]): x is a syscall (name or number) or a list of them.
function Builder:rule(act, x, conditions, ...)
  at_most("rule", 3, act, x, conditions, ...)
  return self:add("rule", act, x, conditions)
end

function Builder:add(method, act, x, conditions)
  local where = call_line(self, method)
  local list = type(x) == "table" and x or { x }
  local count, msg = rules_.check_list(list, "the syscall list")   -- (raw, as the reader reads)
  if msg and not self.problem then   -- reported by build, before anything else
    self.problem = { "bad_rule", msg, { rule = #self.rules + 1, where = where } }
  end
  for i = 1, count or 0 do
    local n = #self.rules + 1
    self.rules[n] = { action = act, syscall = rawget(list, i), args = conditions }
    self.wheres[n] = where
  end
  if type(x) == "table" and count == 0 then
    self.rules[#self.rules + 1] = { action = act, syscall = x }  -- reported by build
    self.wheres[#self.rules] = where
  end
  return self
end

function Builder:allow(x, conditions, ...)
  at_most("allow", 2, x, conditions, ...)
  return self:add("allow", "allow", x, conditions)
end

-- Is deny's second argument conditions (a list, or text such as "flags & CLONE_NEWUSER")
-- rather than an action? A word that is no action ("kil_process") or an action call with
-- a mistake in it ("errno(EPREM)") stays an action, so it is reported as a bad action and
-- not as a bad condition.
local function is_conditions(a)
  if type(a) == "table" then return not action.is(a) end
  if type(a) ~= "string" or action.value(a) then return false end
  local kind = a:match("^%s*(%a+)%s*%(.*%)%s*$")
  if kind and (kind:lower() == "errno" or kind:lower() == "trace") then return false end
  return a:find("^arg%d") ~= nil or a:find("[^%w_]") ~= nil
end

-- deny(x [, action]), deny(x, conditions [, action]) or deny(x, action, conditions) (rule's
-- order): the action defaults to errno(EPERM).
function Builder:deny(x, a, b, ...)
  at_most("deny", 3, x, a, b, ...)
  if is_conditions(a) then return self:add("deny", b == nil and DENY or b, x, a) end
  return self:add("deny", a == nil and DENY or a, x, b)
end

-- build([opts]): opts.default (default "kill_process"), opts.arch/arches, opts.bad_arch.
function Builder:build(opts)
  local where = call_line(self, "build")
  if self.problem then
    local p = self.problem
    return nil, error_.new(p[1], p[2], p[3])
  end
  local rules, wheres = self.rules, self.wheres
  return filter.build("build", rules, opts, nil, { where = where, wheres = wheres }, function()
    return rules_.rows(rules, wheres, where, function()
      return filter.arches_of("build", opts, { where = where })
    end)
  end)
end

local M = {}

-- new() -> an empty builder. Options (arches, default) go to :build(opts): given here
-- they would be silently ignored, so they are an error.
function M.new(...)
  if select("#", ...) > 0 then
    error("seccomp.builder() takes no options: give them to :build(opts), as in " ..
          "seccomp.builder():allow(\"read\"):build({ arches = { \"x86_64\", \"i386\" } })", 2)
  end
  return setmetatable({ rules = {}, wheres = {}, cursor = {}, problem = false }, Builder)
end

return M

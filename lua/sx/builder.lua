-- sx.builder: build a filter rule by rule, with calls that chain:
--   seccomp.builder():allow{"read", "write"}:deny("ptrace"):rule("log", "uname"):build()
-- Each rule remembers the policy line that added it, so an error names that line.
-- Groups and text conditions work here too:
--   seccomp.builder():allow("@basic-io"):allow("socket", "arg0 == AF_UNIX")
--     :deny("clone", "arg0 & CLONE_NEWUSER"):deny("@mount", "kill_process")

local action = require "sx.action"
local error_ = require "sx.error"
local filter = require "sx.filter"
local rules_ = require "sx.rules"

local setmetatable, type, ipairs = setmetatable, type, ipairs

local Builder = { __name = "sx.builder" }
Builder.__index = Builder

local DENY = action.errno("EPERM")
local BUILD_OPTIONS = { default = true, arch = true, arches = true, bad_arch = true }

-- rule(action, x [, conditions]): x is a syscall (name or number) or a list of them.
function Builder:rule(act, x, conditions)
  local where = error_.where()
  local list = type(x) == "table" and x or { x }
  local _, msg = rules_.check_list(list, "the syscall list")
  if msg and not self.problem then   -- reported by build, before anything else
    self.problem = error_.new("bad_rule", msg, { rule = #self.rules + 1, where = where })
  end
  for _, syscall in ipairs(list) do
    local n = #self.rules + 1
    self.rules[n] = { action = act, syscall = syscall, args = conditions }
    self.wheres[n] = where
  end
  if type(x) == "table" and #x == 0 then
    self.rules[#self.rules + 1] = { action = act, syscall = x }  -- reported by build
    self.wheres[#self.rules] = where
  end
  return self
end

function Builder:allow(x, conditions)
  return self:rule("allow", x, conditions)
end

-- Is deny's second argument conditions (a list, or text such as "arg0 & CLONE_NEWUSER")
-- rather than an action? A word that is no action ("kil_process") stays an action, so it
-- is reported as a bad action and not as a bad condition.
local function is_conditions(a)
  if type(a) == "table" then return not action.is(a) end
  if type(a) ~= "string" or action.value(a) then return false end
  return a:find("^arg%d") ~= nil or a:find("[^%w_]") ~= nil
end

-- deny(x [, action]) or deny(x, conditions [, action]): the action defaults to errno(EPERM).
function Builder:deny(x, a, b)
  if is_conditions(a) then return self:rule(b == nil and DENY or b, x, a) end
  return self:rule(a == nil and DENY or a, x)
end

-- build([opts]): opts.default (default "kill_process"), opts.arch/arches, opts.bad_arch.
function Builder:build(opts)
  opts = error_.check_options(opts, BUILD_OPTIONS, "build")
  if self.problem then return nil, self.problem end
  return filter.compile(self.rules, opts.default or "kill_process", opts, self.wheres)
end

local M = {}

function M.new()
  return setmetatable({ rules = {}, wheres = {} }, Builder)
end

return M

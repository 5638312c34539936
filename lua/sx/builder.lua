-- sx.builder: build a filter rule by rule, with calls that chain:
--   seccomp.builder():allow{"read", "write"}:deny("ptrace"):rule("log", "uname"):build()
-- Each rule remembers the policy line that added it, so an error names that line.

local action = require "sx.action"
local error_ = require "sx.error"
local filter = require "sx.filter"

local setmetatable, type, ipairs = setmetatable, type, ipairs

local Builder = { __name = "sx.builder" }
Builder.__index = Builder

local DENY = action.errno("EPERM")
local BUILD_OPTIONS = { default = true, arch = true, arches = true, bad_arch = true }

-- rule(action, x [, conditions]): x is a syscall (name or number) or a list of them.
function Builder:rule(act, x, conditions)
  local where = error_.where()
  local list = type(x) == "table" and x or { x }
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

-- deny(x [, action]): the action defaults to errno(EPERM).
function Builder:deny(x, act)
  return self:rule(act == nil and DENY or act, x)
end

-- build([opts]): opts.default (default "kill_process"), opts.arch/arches, opts.bad_arch.
function Builder:build(opts)
  opts = error_.check_options(opts, BUILD_OPTIONS, "build")
  return filter.compile(self.rules, opts.default or "kill_process", opts, self.wheres)
end

local M = {}

function M.new()
  return setmetatable({ rules = {}, wheres = {} }, Builder)
end

return M

-- sx.seccomp: build seccomp filters from Lua.
--
--   local seccomp = require "sx.seccomp"
--   local f = seccomp.allow_list({ "read", "write", "exit_group" })
--   print(f, f:eval("ptrace"))    --> sx.filter<x86_64 3 syscalls, 9 BPF insns>  kill_process 7
--
-- Constructors return a filter, or nil and an error whose `code` is one of
-- unsupported_arch, bad_action, unknown_syscall, duplicate_rule, bad_rule, too_big.

local core = require "sx.core"
local action = require "sx.action"
local builder = require "sx.builder"
local error_ = require "sx.error"
local filter = require "sx.filter"
local groups = require "sx.groups"
local rules_ = require "sx.rules"

local io, type, ipairs, tostring = io, type, ipairs, tostring

local M = {}

M.errno = action.errno
M.trace = action.trace
M.load = filter.load
M.to_rules = filter.to_rules
M.is_filter = filter.is
M.builder = builder.new

-- install(f [, opts]): put `f` on this process; see lua/sx/install.lua.
function M.install(f, opts)
  return require("sx.install").install(f, opts)
end

-- action(a): the canonical form of an action ("allow", errno(EPERM), ...), or nil, err.
function M.action(a)
  local v, msg = action.value(a)
  if not v then return nil, error_.new("bad_action", msg, { action = a }) end
  return action.canonical(v)
end

function M.supported()
  local f = io.open("/proc/self/status")
  if not f then return false end
  local status = f:read("a")
  f:close()
  return status:find("\nSeccomp:") ~= nil
end

function M.arch()
  return core.host_arch() or "unsupported"
end

function M.arches()
  return core.arches()
end

-- syscall_number(name [, arch]) -> the kernel's number (x32 numbers carry 0x40000000),
-- or nil, err (unknown_syscall, with a suggestion when a name is close).
function M.syscall_number(name, arch)
  if type(name) ~= "string" then error_.raise("syscall_number takes a name") end
  return filter.syscall_number(name, arch or M.arch())
end

-- syscall_name(nr [, arch]) -> name, or "unknown" for numbers outside the table.
function M.syscall_name(nr, arch)
  return core.syscall_name(nr, arch or M.arch()) or "unknown"
end

-- syscall_args(syscall [, arch]) -> its six arguments as {index =, name =, width =, bits =}:
-- name (nil when the tables do not know it), width in bytes as the kernel reads it (0
-- when unknown) and the bits a condition on it compares (16, 32 or 64); or nil, err.
function M.syscall_args(syscall, arch)
  arch = arch or M.arch()
  local nr, err = filter.syscall_number(syscall, arch)
  if not nr then return nil, err end
  local out = {}
  for i = 0, 5 do
    local name, width, bits = core.arg(arch, nr, i)
    out[i + 1] = { index = i, name = name, width = width, bits = bits }
  end
  return out
end

-- Every syscall name the tables know, sorted.
function M.syscall_names()
  return core.syscall_names()
end

-- groups() -> the syscall group names ("@aio", ... "@timer"), sorted.
function M.groups()
  return groups.names()
end

-- group(name [, arch]) -> the group's syscall names that exist on `arch` (the host's by
-- default), includes followed, sorted, and a line saying what the group is for; or nil,
-- err (unknown_syscall, with a suggestion when one is close). Every name it gives is one
-- a filter for that arch takes.
function M.group(name, arch)
  arch = arch or M.arch()
  local known = false
  for _, a in ipairs(core.arches()) do known = known or a == arch end
  if not known then error_.raise(("unknown architecture '%s'"):format(tostring(arch))) end
  local list, msg = groups.expand(name)
  if not list then return nil, error_.new("unknown_syscall", msg, { syscall = name }) end
  local out = {}
  for _, member in ipairs(list) do
    if core.syscall_number(member, arch) then out[#out + 1] = member end
  end
  return out, groups.help(name)
end

local function names_to_rules(names, act, fname)
  if type(names) ~= "table" then
    error_.raise(("%s takes a list of syscall names, got %s"):format(fname, type(names)))
  end
  local _, msg, hole = rules_.check_list(names, fname)
  if msg then return nil, error_.new("bad_rule", msg, { rule = hole }) end
  local rules, seen = {}, {}
  for i, name in ipairs(names) do
    if not seen[name] then   -- a list is a set: a name twice is harmless here
      seen[name] = true
      rules[#rules + 1] = { action = act, syscall = name }
    end
  end
  return rules
end

local LIST_OPTIONS = { default = true, arch = true, arches = true, bad_arch = true }
local DENY_OPTIONS = { default = true, deny_action = true, arch = true, arches = true,
                       bad_arch = true }
local RULES_OPTIONS = { arch = true, arches = true, bad_arch = true }

-- Plain lists of names take sx.core's quick path; the rest (numbers, groups, mistakes)
-- comes here.
local quick_list = core.from_list

-- allow_list(names [, opts]): allow these, opts.default (default "kill_process") the rest.
function M.allow_list(names, opts)
  local f = quick_list(names, opts, false)
  if f then return f end
  opts = error_.check_options(opts, LIST_OPTIONS, "allow_list")
  local rules, err = names_to_rules(names, "allow", "allow_list")
  if not rules then return nil, err end
  return filter.compile(rules,
                        opts.default or "kill_process", opts)
end

-- deny_list(names [, opts]): opts.deny_action (default errno(EPERM)) for these,
-- opts.default (default "allow") for the rest.
function M.deny_list(names, opts)
  local f = quick_list(names, opts, true)
  if f then return f end
  opts = error_.check_options(opts, DENY_OPTIONS, "deny_list")
  local deny = opts.deny_action == nil and action.errno("EPERM") or opts.deny_action
  local rules, err = names_to_rules(names, deny, "deny_list")
  if not rules then return nil, err end
  return filter.compile(rules, opts.default or "allow", opts)
end

-- from_rules(rules, default [, opts]): rules as {action, "name"} or
-- {action = a, syscall = "name", args = {{index = 0, op = "eq", value = 1}, ...}}.
-- Wherever a syscall name goes, a group "@name" may (see groups()); wherever conditions
-- go, text may: args = "arg0 == AF_UNIX || arg0 == AF_INET" (see sx.conditions).
-- A group is a set: a syscall's own rules, conditional or not, replace its group's,
-- overlapping groups with one action merge, and groups giving a syscall two actions are
-- duplicate_rule.
-- Plain rule tables take sx.core's quick path (src/lua_rules.c); whatever it leaves
-- (groups, text, mistakes) comes here, where it is read in full and errors name the rule
-- and line.
local quick = core.from_rules

function M.from_rules(rules, default, opts)
  local f = quick(rules, default, opts)
  if f then return f end
  opts = error_.check_options(opts, RULES_OPTIONS, "from_rules")
  if default == nil then
    return nil, error_.new("bad_action", "from_rules needs a default action")
  end
  return filter.compile(rules, default, opts)
end

return M

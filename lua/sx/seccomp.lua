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
local error_ = require "sx.error"
local filter = require "sx.filter"
-- sx.builder and sx.groups are loaded when a policy uses them (sxlua starts faster
-- without them)
local function groups() return require "sx.groups" end
-- sx.rules only desugars rules and finds where a rule came from: loaded when needed
local function rules_() return require "sx.rules" end

local io, type, ipairs, pairs, tostring = io, type, ipairs, pairs, tostring

local M = {}

M.errno = action.errno
M.trace = action.trace
M.load = filter.load
M.to_rules = filter.to_rules
M.is_filter = filter.is
function M.builder(...) return require("sx.builder").new(...) end

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
  return groups().names()
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
  local list, msg = groups().expand(name)
  if not list then return nil, error_.new("unknown_syscall", msg, { syscall = name }) end
  local out = {}
  for _, member in ipairs(list) do
    if core.syscall_number(member, arch) then out[#out + 1] = member end
  end
  return out, groups().help(name)
end

-- A list of names with its groups expanded (a list is a set, so a group's members and
-- names given twice are harmless), and where each name came from.
local function expand_list(names, kind, opts, where)
  local arches, err = filter.arches_of(kind, opts, { where = where, kind = "list" })
  if not arches then return nil, err end
  -- the rows as rules, so sx.rules expands the groups as everywhere
  local act = kind == "deny" and "errno(1)" or "allow"
  local rows = {}
  for i, name in ipairs(names) do rows[i] = { act, name } end
  local expanded, eorigins = rules_().rows(rows, nil, where, function() return arches end)
  if not expanded then return nil, eorigins end
  local out, seen = {}, {}
  local origin = { where = where, kind = "list", rules = {}, wheres = {}, groups = {} }
  for j, r in ipairs(expanded) do
    local name = r.syscall or r[2]
    -- a group's member the list names itself, or an earlier group gave, comes once
    if not seen[name] then
      seen[name] = true
      local n = #out + 1
      out[n] = name
      origin.rules[n], origin.wheres[n], origin.groups[n] = rules_().origin(eorigins, j)
    end
  end
  return out, origin
end

local function list(kind, names, opts)
  local where = error_.where(3)
  return filter.build(kind, names, opts, nil, { where = where, kind = "list" },
                      function() return expand_list(names, kind, opts, where) end)
end

-- allow_list(names [, opts]): allow these, opts.default (default "kill_process") the rest.
function M.allow_list(names, opts)
  local f, err = list("allow", names, opts)   -- (not a tail call: list finds its caller)
  return f, err
end

-- deny_list(names [, opts]): opts.deny_action (default errno(EPERM)) for these,
-- opts.default (default "allow") for the rest.
function M.deny_list(names, opts)
  local f, err = list("deny", names, opts)
  return f, err
end

-- from_rules(rules, default [, opts]): rules as {action, "name"} or
-- {action = a, syscall = "name", args = {{index = 0, op = "eq", value = 1}, ...}}.
-- A list of names, {"allow", {"read", "write"}}, is a rule each, in order, with the
-- rule's action and args. Wherever a syscall name goes, a group "@name" may (see groups()); wherever conditions
-- go, text may: args = "family == AF_UNIX || family == AF_INET" (see sx.conditions), and
-- a condition may name its argument: { arg = "family", op = "eq", value = 1 }.
-- A group is a set: a syscall's own rules, conditional or not, replace its group's,
-- overlapping groups with one action merge, and groups giving a syscall two actions are
-- duplicate_rule. sx.rules rewrites that sugar into plain rows; the one reader in C
-- (src/lua_rules.c) checks and compiles them, and errors name the rule and line.
function M.from_rules(rules, default, opts)
  local where = error_.where(2)
  -- The list to_rules gave knows its filter's arches: build for those, never the host's
  -- by guess, unless opts says otherwise.
  if type(rules) == "table" and getmetatable(rules) == nil and type(rules.arches) == "table" then
    if opts == nil or (type(opts) == "table" and opts.arches == nil and opts.arch == nil) then
      local o = {}
      for k, v in pairs(opts or {}) do o[k] = v end
      o.arches = rules.arches
      opts = o
    end
    local rows = {}                                  -- the rows alone, holes and all: the
    for k, v in pairs(rules) do                      -- reader still checks it is a list
      if k ~= "arches" then rows[k] = v end
    end
    rules = rows
  end
  return filter.build("rules", rules, opts, default, { where = where }, function()
    return rules_().rows(rules, nil, where, function()
      return filter.arches_of("rules", opts, { where = where })
    end)
  end)
end

local EXEC = { execve = true, execveat = true }

-- exec_allowed(f) -> f rebuilt from its rules with execve and execveat allowed
-- unconditionally (`sxlua export --allow-exec`), or nil, err (no_rules for raw BPF).
function M.exec_allowed(f)
  if not filter.is(f) then error_.raise("exec_allowed takes a filter") end
  local rules, default, opts = M.to_rules(f)
  if not rules then return nil, default end
  local out = {}
  for _, r in ipairs(rules) do
    if not EXEC[r.syscall] then out[#out + 1] = r end
  end
  out[#out + 1] = { action = "allow", syscall = "execve" }
  out[#out + 1] = { action = "allow", syscall = "execveat" }
  return M.from_rules(out, default, opts)
end

return M

-- sx.filter: compiled filters. A filter has `arches` (and `arch` when there is one),
-- `bpf` (8 bytes an instruction, as seccomp(2) takes it), `rules` (each with the `where`
-- and `group` it came from), `default` and `bad_arch` (nil for raw BPF), `where` (the
-- policy line that built it, so of its default), and methods eval,
-- explain, disasm and cache_eligible. build() makes one through sx.core.build, the one
-- reader of rule tables, and turns its mistakes into errors naming rule and line.

local core = require "sx.core"
local action = require "sx.action"
local error_ = require "sx.error"
-- sx.rules only desugars rules and finds where a rule came from: loaded when needed
local function rules_() return require "sx.rules" end

local setmetatable, getmetatable, type, ipairs, tostring, tointeger =
  setmetatable, getmetatable, type, ipairs, tostring, math.tointeger
local concat = table.concat

local X32_BIT = 0x40000000

local Filter = { __name = "sx.filter" }

local M = {}

-- A filter built from rules (sx.core.build) holds them in C, in `ruleset`, and gets the
-- Lua fields below from it on first use; `origins` says where each came from
-- (sx.rules.origin), which f.rules[i].where and .group show.
local FROM_RULESET = { rules = true, default = true, bad_arch = true }

-- arches and arch alone, which installing a filter asks for, do not unpack the rules
local function ruleset_arches(f, ruleset)
  local arches = core.ruleset_arches(ruleset)
  rawset(f, "arches", arches)
  rawset(f, "arch", #arches == 1 and arches[1] or nil)
  return arches
end

local function unpack_ruleset(f, ruleset)
  local _, default, bad_arch, rules, from = core.ruleset(ruleset)
  local origins, numbers = rawget(f, "origins") or {}, {}
  local rows = type(origins.rows) == "table" and origins.rows or {}
  for i, r in ipairs(rules) do
    r.action = action.canonical(r.action)
    local number, where, group = rules_().origin(origins, from[i])
    -- a row that says where it came from (one to_rules gave) keeps that
    local row = rows[from[i]]
    if type(row) == "table" and type(row.where) == "string" then
      where, group = row.where, row.group
    end
    r.where, r.group = where, group
    numbers[i] = number
  end
  -- the caller's number of each rule (sx.inspect names "rule 3 at policy.lua:4")
  rawset(f, "rule_numbers", numbers)
  if rawget(f, "arches") == nil then ruleset_arches(f, ruleset) end   -- the same table
  rawset(f, "default", action.canonical(default))
  rawset(f, "bad_arch", action.canonical(bad_arch))
  rawset(f, "rules", rules)     -- (the ruleset stays: tostring counts its syscalls)
end

-- Methods, the fields a ruleset holds, and `summary`, computed on first use (it
-- evaluates every syscall).
function Filter.__index(f, key)
  local ruleset = rawget(f, "ruleset")
  if ruleset and (key == "arches" or key == "arch") then
    local arches = rawget(f, "arches") or ruleset_arches(f, ruleset)
    if key == "arches" then return arches end
    return #arches == 1 and arches[1] or nil
  elseif ruleset and FROM_RULESET[key] then
    unpack_ruleset(f, ruleset)
    return rawget(f, key)
  elseif key == "summary" then
    local summary = require("sx.inspect").summary(f)
    rawset(f, "summary", summary)
    return summary
  elseif key == "where" then       -- the line that built it, where its default was given
    local origins = rawget(f, "origins")
    return origins and origins.where
  end
  return Filter[key]
end

if core.register_type then core.register_type("sx.filter", Filter) end

function M.is(x) return getmetatable(x) == Filter end

function Filter:__tostring()
  local ruleset = rawget(self, "ruleset")
  local n = ruleset and core.ruleset_syscalls(ruleset)
  local what = n and (n == 1 and "1 syscall" or n .. " syscalls") or "raw"
  return ("sx.filter<%s %s, %d BPF insns>"):format(concat(self.arches, "+"), what, #self.bpf // 8)
end

function Filter:__len() return #self.bpf // 8 end

-- The kernel's syscall number for `syscall` (name or number) on `arch`, or nil, err.
local function syscall_number(syscall, arch)
  if type(syscall) == "string" then
    local nr = core.syscall_number(syscall, arch)
    if not nr then
      local msg
      if core.syscall_known(syscall) then
        msg = ("syscall '%s' does not exist on %s"):format(syscall, arch)
      else
        local near = core.syscall_suggest(syscall)
        msg = ("unknown syscall '%s'"):format(syscall) ..
              (near and (" (did you mean '%s'?)"):format(near) or "")
      end
      return nil, error_.new("unknown_syscall", msg, { syscall = syscall, arch = arch })
    end
    syscall = nr
  end
  local nr = tointeger(syscall)
  if not nr then error_.raise("a syscall is a name or an integer, got " .. type(syscall)) end
  if arch == "x32" and nr >= 0 and nr < X32_BIT then nr = nr | X32_BIT end
  return nr
end
M.syscall_number = syscall_number

local function check_arch(arch)
  for _, a in ipairs(core.arches()) do
    if a == arch then return arch end
  end
  error_.raise(("unknown architecture '%s'"):format(tostring(arch)))
end

-- A probe: the arch (checked), the kernel's syscall number, and six 64-bit arguments
-- from a list (args[1] is argument 0); or nil, err for a syscall the arch lacks.
local function probe(self, syscall, args, arch)
  arch = check_arch(arch or self.arches[1])
  if args ~= nil and type(args) ~= "table" then
    error_.raise(("args must be a list of arguments (args[1] is argument 0), got %s")
                 :format(type(args)))
  end
  local nr, err = syscall_number(syscall, arch)
  if not nr then return nil, err end
  local a = {}
  for i = 1, 6 do
    local v = args and args[i]
    a[i] = 0
    if v ~= nil then
      local n, msg = rules_().integer64(v)
      if not n then error_.raise(("argument %d: %s"):format(i - 1, msg)) end
      a[i] = n
    end
  end
  return arch, nr, a
end

-- Syscalls the kernel runs without consulting seccomp at all (x86_64: uretprobe since
-- Linux 6.11, uprobe since 6.16): whatever a filter says, they go through.
local BYPASS = { x86_64 = { [335] = "uretprobe", [336] = "uprobe" } }

local function bypassed(arch, nr)
  local name = BYPASS[arch] and BYPASS[arch][nr]
  return name and ("the kernel runs %s without consulting seccomp (x86_64, Linux 6.11+): "
                   .. "no filter decides it"):format(name)
end

-- eval(syscall [, args [, arch]]) -> the filter's action, instructions executed (by the
-- emulator), and for a syscall the kernel never filters (uretprobe, uprobe) a third
-- value saying so: there the filter's answer never applies. (explain says what happens.)
-- args is a list: args[1] is argument 0.
function Filter:eval(syscall, args, arch)
  local nr, a
  arch, nr, a = probe(self, syscall, args, arch)
  if not arch then return nil, nr end
  local why = bypassed(arch, nr)
  local value, executed = core.emulate(self.bpf, core.audit(arch), nr & 0xffffffff,
                                       a[1], a[2], a[3], a[4], a[5], a[6])
  if why then return action.canonical(value), executed, why end
  return action.canonical(value), executed
end

-- Would the kernel's constant-action cache answer `syscall` on `arch` without running
-- the filter? (The kernel caches its native and compat arches.)
function Filter:cache_eligible(syscall, arch)
  arch = check_arch(arch or self.arches[1])
  local nr, err = syscall_number(syscall, arch)
  if not nr then return nil, err end
  -- the kernel's bitmaps stop at the arch's syscall count: x32 numbers (0x40000000 up)
  -- and anything that large always run the filter
  if not math.ult(nr & 0xffffffff, X32_BIT) then return false end
  return core.cache_eligible(self.bpf, core.audit(arch), nr & 0xffffffff)
end

function Filter:disasm()
  return core.disasm(self.bpf)
end

-- explain(syscall [, args [, arch]]) -> which rule decided, the action, the path taken.
function Filter:explain(syscall, args, arch)
  local nr, a
  arch, nr, a = probe(self, syscall, args, arch)
  if not arch then return nil, nr end
  local e = require("sx.inspect").explain(self, nr, a, arch)
  local why = bypassed(arch, nr)
  if why then           -- the filter's own answer, which never applies, stays beside it
    e.filter_action, e.action, e.rule, e.reason = e.action, action.canonical(0x7fff0000), nil, why
  end
  return e
end

-- An sx.error from a mistake sx.core.build or arches_of reports ({code, message, rule,
-- other, misuse, field, value}), named after the caller's rule (origins) and line; a
-- misuse of the API raises at the caller's line instead.
local function mistake(m, rows, origins)
  if m.misuse then error_.raise(m.message) end
  local fields, message = {}, m.message
  if m.field then fields[m.field] = m.value end
  if m.rule then
    local rule, where, group = rules_().origin(origins, m.rule)
    local row = type(rows) == "table" and rows[m.rule]
    fields.rule, fields.where, fields.row = rule, where, row   -- row: the offending value
    if type(row) == "table" then
      local syscall = row.syscall or row[2]
      if type(syscall) ~= "table" then fields.syscall = fields.syscall or syscall end  -- (a list: the message names it)
      if fields.action == nil then fields.action = row.action or row[1] end
    elseif row ~= nil then
      fields.syscall = fields.syscall or row
    end
    if origins.kind ~= "list" then
      message = ("rule %d%s: %s"):format(rule, group and (" (from " .. group .. ")") or "", message)
    end
    if m.other then
      local orule, owhere = rules_().origin(origins, m.other)
      message = orule == rule and ("%s (both from rule %d)"):format(message, rule)
        or owhere ~= where
        and ("%s (rule %d at %s, then rule %d at %s)"):format(message, orule, owhere, rule, where)
        or ("%s (rules %d and %d)"):format(message, orule, rule)
    end
  end
  if fields.where == nil then fields.where = origins.where end
  return nil, error_.new(m.code, message, fields)
end

-- build(kind, rows, opts, default, origins, rewrite) -> filter | nil, err: sx.core.build,
-- the one reader, with its mistakes as sx.errors. kind: "rules" (default is the default
-- action), "build" (opts.default), "allow" or "deny" (a list of names). When the reader
-- meets sugar, rewrite() gives the plain rows and their origins (sx.rules), which it
-- reads instead: plain rows never wait for a Lua pass over them.
function M.build(kind, rows, opts, default, origins, rewrite)
  local f, m = core.build(kind, rows, opts, default)
  if not f and m.sugar then
    rows, origins = rewrite()
    if not rows then return nil, origins end
    f, m = core.build(kind, rows, opts, default)
    if not f and m.sugar then    -- sx.rules leaves no sugar: this is a bug of sx's
      error("sx.filter: the rule reader still finds sugar after sx.rules rewrote it", 0)
    end
  end
  if not f then return mistake(m, rows, origins) end
  origins.rows = rows         -- (read for the provenance rows carry, when f.rules is)
  rawset(f, "origins", origins)
  return f
end

-- The architectures a constructor's options name (opts.arch or opts.arches, else the
-- host's), checked as build checks them: a list, or nil, err.
function M.arches_of(kind, opts, origins)
  local arches, m = core.arches_of(kind, opts)
  if not arches then return mistake(m, nil, origins or { where = error_.where() }) end
  return arches
end

function M.target_arches(opts)
  return M.arches_of("rules", { arch = opts.arch, arches = opts.arches })
end

-- load(bpf [, arch]): wrap a raw program someone else built.
function M.load(bpf, arch)
  if type(bpf) ~= "string" then error_.raise("load takes the BPF program as a string") end
  local arches, err = M.target_arches({ arch = arch })
  if not arches then return nil, err end
  if #bpf % 8 ~= 0 then
    return nil, error_.new("bad_program", "a BPF program is a multiple of 8 bytes long")
  end
  local ok, code, message = core.check(bpf)
  if not ok then return nil, error_.new(code, message) end
  return setmetatable({ arches = arches, arch = arches[1], bpf = bpf }, Filter)
end

-- The rules (the list also carries .arches), default action and options that rebuild `f`.
function M.to_rules(f)
  if not M.is(f) then error_.raise("to_rules takes a filter") end
  if not f.rules then
    return nil, error_.new("no_rules", "this filter was loaded from raw BPF and has no rules")
  end
  local out = {}
  for i, r in ipairs(f.rules) do out[i] = rules_().copy(r) end
  local arches = {}
  for i, a in ipairs(f.arches) do arches[i] = a end
  out.arches = arches         -- from_rules(rules, default) builds for them again
  return out, f.default, { arches = arches, bad_arch = f.bad_arch }
end

return M

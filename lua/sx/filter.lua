-- sx.filter: compiled filters. A filter has `arches` (and `arch` when there is one),
-- `bpf` (8 bytes an instruction, as seccomp(2) takes it), `rules`, `default` and
-- `bad_arch` (nil for raw BPF), and methods eval, disasm and cache_eligible.

local core = require "sx.core"
local action = require "sx.action"
local error_ = require "sx.error"
local rules_ = require "sx.rules"
local groups = require "sx.groups"

local setmetatable, getmetatable, type, ipairs, tostring, tointeger =
  setmetatable, getmetatable, type, ipairs, tostring, math.tointeger
local concat, tonumber = table.concat, tonumber

local X32_BIT = 0x40000000

local Filter = { __name = "sx.filter" }

local M = {}

-- A filter from sx.core.from_rules (the quick path of seccomp.from_rules) holds its rules
-- in C, in `ruleset`, and gets the Lua fields below from it on first use.
local FROM_RULESET = { rules = true, default = true, bad_arch = true, arches = true, arch = true }

local function unpack_ruleset(f, ruleset)
  local arches, default, bad_arch, rules = core.ruleset(ruleset)
  for _, r in ipairs(rules) do r.action = action.canonical(r.action) end
  rawset(f, "arches", arches)
  rawset(f, "arch", #arches == 1 and arches[1] or nil)
  rawset(f, "default", action.canonical(default))
  rawset(f, "bad_arch", action.canonical(bad_arch))
  rawset(f, "rules", rules)
  rawset(f, "ruleset", nil)
end

-- Methods, the fields a ruleset holds, and `summary`, computed on first use (it
-- evaluates every syscall).
function Filter.__index(f, key)
  local ruleset = rawget(f, "ruleset")
  if ruleset and FROM_RULESET[key] then
    unpack_ruleset(f, ruleset)
    return rawget(f, key)
  elseif key == "summary" then
    local summary = require("sx.inspect").summary(f)
    rawset(f, "summary", summary)
    return summary
  end
  return Filter[key]
end

if core.register_type then core.register_type("sx.filter", Filter) end

function M.is(x) return getmetatable(x) == Filter end

local function count_syscalls(rules)
  local seen, n = {}, 0
  for _, r in ipairs(rules) do
    if not seen[r.syscall] then seen[r.syscall], n = true, n + 1 end
  end
  return n
end

function Filter:__tostring()
  local n = self.rules and count_syscalls(self.rules)
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
  local nr, err = syscall_number(syscall, arch)
  if not nr then return nil, err end
  local a = {}
  for i = 1, 6 do
    local v = args and args[i]
    a[i] = 0
    if v ~= nil then
      local n, msg = rules_.integer64(v)
      if not n then error_.raise(("argument %d: %s"):format(i - 1, msg)) end
      a[i] = n
    end
  end
  return arch, nr, a
end

-- eval(syscall [, args [, arch]]) -> action, instructions executed (by the emulator).
-- args is a list: args[1] is argument 0.
function Filter:eval(syscall, args, arch)
  local nr, a
  arch, nr, a = probe(self, syscall, args, arch)
  if not arch then return nil, nr end
  local value, executed = core.emulate(self.bpf, core.audit(arch), nr & 0xffffffff,
                                       a[1], a[2], a[3], a[4], a[5], a[6])
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
  return require("sx.inspect").explain(self, nr, a, arch)
end

-- The architectures a filter is for: opts.arch or opts.arches, else the host's.
local function target_arches(opts)
  local list
  if opts.arch ~= nil and opts.arches ~= nil then
    error_.raise("give opts.arch or opts.arches, not both")
  elseif opts.arches ~= nil then
    if type(opts.arches) ~= "table" or #opts.arches == 0 then
      return nil, error_.new("unsupported_arch", "opts.arches must be a non-empty list of names",
                             { arch = opts.arches })
    end
    local _, lmsg = rules_.check_list(opts.arches, "opts.arches")
    if lmsg then return nil, error_.new("unsupported_arch", lmsg, { arch = opts.arches }) end
    list = opts.arches
  elseif opts.arch ~= nil then
    list = { opts.arch }
  else
    local host = core.host_arch()
    if not host then
      return nil, error_.new("unsupported_arch", "this machine's architecture is not supported")
    end
    list = { host }
  end
  local known, out, seen = {}, {}, {}
  for _, a in ipairs(core.arches()) do known[a] = true end
  for _, a in ipairs(list) do
    if type(a) ~= "string" or not known[a] then
      return nil, error_.new("unsupported_arch", ("unsupported architecture '%s' (supported: %s)")
                             :format(tostring(a), concat(core.arches(), ", ")), { arch = a })
    end
    if seen[a] then
      return nil, error_.new("unsupported_arch", ("architecture '%s' is listed twice"):format(a),
                             { arch = a })
    end
    seen[a] = true
    out[#out + 1] = a
  end
  return out
end
M.target_arches = target_arches

local function action_value(a, what)
  local v, msg = action.value(a)
  if not v then return nil, error_.new("bad_action", what .. ": " .. msg, { action = a }) end
  return v
end

-- compile(rules, default, opts [, wheres]): rules in any accepted form; wheres[i] is the
-- policy line that made rule i, for error messages.
function M.compile(rules, default, opts, wheres)
  wheres = wheres or {}
  local where = error_.where()
  if type(rules) ~= "table" then
    return nil, error_.new("bad_rule", "rules must be a list, got " .. type(rules))
  end
  local _, lmsg, hole = rules_.check_list(rules, "rules")
  if lmsg then
    return nil, error_.new("bad_rule", lmsg, { rule = hole, where = hole and wheres[hole] or where })
  end
  local arches, err = target_arches(opts)
  if not arches then return nil, err end
  local default_value, bad_arch_value
  default_value, err = action_value(default, "default action")
  if not default_value then return nil, err end
  bad_arch_value, err = action_value(opts.bad_arch or "kill_process", "bad_arch action")
  if not bad_arch_value then return nil, err end
  -- "@group" syscalls and text conditions become plain rules; origin[i] is the caller's
  -- number for expanded rule i
  local origin
  rules, wheres, origin = groups.expand_rules(rules, wheres, where, arches)
  if not rules then return nil, wheres end
  local normal, for_core = {}, {}
  for i = 1, #rules do
    local rule, value = rules_.normalize(rules[i], origin[i], wheres[i] or where)
    if not rule then return nil, value end
    normal[i], for_core[i] = rule, rules_.for_core(rule, value)
  end
  local bpf, code, message, index, other = core.compile(for_core, default_value, bad_arch_value,
                                                       arches)
  if not bpf then
    local r = index and normal[index]
    -- the core counts expanded rules; the caller counts the rules it wrote
    if other then
      local a, b = origin[other], origin[index]
      local wa, wb = wheres[other] or where, wheres[index] or where
      message = wa ~= wb and ("%s (rule %d at %s, then rule %d at %s)"):format(message, a, wa, b, wb)
                or ("%s (rules %d and %d)"):format(message, a, b)
    end
    return nil, error_.new(code, message, {
      rule = index and origin[index], syscall = r and r.syscall, action = r and r.action,
      where = index and wheres[index] or where })
  end
  return setmetatable({
    arches = arches, arch = #arches == 1 and arches[1] or nil, bpf = bpf, rules = normal,
    default = action.canonical(default_value), bad_arch = action.canonical(bad_arch_value),
  }, Filter)
end

-- load(bpf [, arch]): wrap a raw program someone else built.
function M.load(bpf, arch)
  if type(bpf) ~= "string" then error_.raise("load takes the BPF program as a string") end
  local arches, err = target_arches({ arch = arch })
  if not arches then return nil, err end
  if #bpf % 8 ~= 0 then
    return nil, error_.new("bad_program", "a BPF program is a multiple of 8 bytes long")
  end
  local ok, code, message = core.check(bpf)
  if not ok then return nil, error_.new(code, message) end
  return setmetatable({ arches = arches, arch = arches[1], bpf = bpf }, Filter)
end

-- The rules, default action and options that rebuild `f`.
function M.to_rules(f)
  if not M.is(f) then error_.raise("to_rules takes a filter") end
  if not f.rules then
    return nil, error_.new("no_rules", "this filter was loaded from raw BPF and has no rules")
  end
  local out = {}
  for i, r in ipairs(f.rules) do out[i] = rules_.copy(r) end
  local arches = {}
  for i, a in ipairs(f.arches) do arches[i] = a end
  return out, f.default, { arches = arches, bad_arch = f.bad_arch }
end

return M

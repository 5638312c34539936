-- sx.rules: turns what a policy writes into the plain rows sx.core.build reads.
--
-- The sugar, and nothing else, is rewritten here:
--   * a group ("@system-service") wherever a syscall name goes: one row per member that
--     exists on one of the filter's arches;
--   * conditions written as text ("family == AF_UNIX || family == AF_INET"): one row per
--     alternative (sx.conditions);
--   * named arguments, { arg = "family", op = "eq", value = 2 } and in text: the index
--     the name has on every arch of the filter that has the syscall;
--   * values and masks written as strings ("0xffffffffffffffff"): integers.
-- Rules without sugar reach the reader as they are, and everything else about every rule
-- (shapes, actions, names, operators, widths, duplicates, rules that never decide) is
-- checked once, by the reader in C (src/lua_rules.c) and the rule model behind it.
--
-- A syscall's own rules beat its group's: when a policy names a syscall itself, with any
-- rule, that syscall leaves every group entry that would give it a rule. Groups that give
-- one syscall unconditional rules keep the first when the actions agree and are a
-- duplicate_rule error when they do not.
--
-- Each row keeps where it came from (`origins`): the caller's rule number, the policy line
-- and the group, for errors and for f.rules[i].where / .group.

local core = require "sx.core"
local error_ = require "sx.error"

-- sx.groups is loaded when a group or a suggestion needs it: plain names never do (and
-- sxlua starts faster without it)
local function groups() return require "sx.groups" end

local type, tostring, pairs, ipairs, next, math_type, tointeger, ult, concat =
  type, tostring, pairs, ipairs, next, math.type, math.tointeger, math.ult, table.concat

local M = {}

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

-- check_list(t, what) -> n, or nil, a sentence and the index at fault: is `t` a list with
-- keys 1..n and no holes? A hole is what a misspelt variable (nil) in a policy's list
-- looks like; walking the list with ipairs or # would silently drop what follows it.
-- Like the reader in C, this module reads the caller's tables raw: a metatable's __index,
-- __len or __pairs would otherwise make a rule mean one thing here and another there.
function M.check_list(t, what)
  local n, count = 0, 0
  for k in next, t do
    if math_type(k) ~= "integer" or k < 1 then
      return nil, ("%s must be a list, but has the key %s"):format(what,
                   type(k) == "string" and ("'" .. k .. "'") or tostring(k))
    end
    count = count + 1
    if k > n then n = k end
  end
  if count ~= n then
    for i = 1, n do
      if rawget(t, i) == nil then
        return nil, ("%s: item %d is nil (a misspelt variable?), and the items after it would "
                     .. "be lost"):format(what, i), i
      end
    end
  end
  return n
end

-- A deep copy, so users can change what to_rules returns without touching a filter. It
-- keeps where and group, which from_rules takes back, so a filter rebuilt from to_rules
-- still names the policy lines its rules came from.
function M.copy(rule)
  local out = { action = rule.action, syscall = rule.syscall, where = rule.where,
                group = rule.group }
  if rule.args then
    out.args = {}
    for c, cond in ipairs(rule.args) do
      out.args[c] = { index = cond.index, op = cond.op, value = cond.value, mask = cond.mask }
    end
  end
  return out
end

---------------------------------------------------------------------------- named arguments

-- The arguments of `syscall` (a name or a number) on `arch`: a list of six names (false
-- where unknown), or nil when the syscall does not exist there or no name is known.
local function arg_names(syscall, arch)
  local nr = type(syscall) == "number" and syscall or core.syscall_number(syscall, arch)
  if not nr then return nil, false end
  local names, any = {}, false
  for i = 0, 5 do
    names[i + 1] = core.arg(arch, nr, i) or false
    any = any or names[i + 1] ~= false
  end
  return any and names or nil, true
end

-- The index of `name` among `names`: the name itself, or failing that the one argument
-- whose name ends in "_" .. name (flags finds clone_flags, unshare_flags).
local function index_in(names, name)
  for i, n in ipairs(names) do
    if n == name then return i - 1 end
  end
  local found
  for i, n in ipairs(names) do
    if n and n:sub(-#name - 1) == "_" .. name then
      if found then return nil end
      found = i - 1
    end
  end
  return found
end

local function listed(names)
  local out = {}
  for _, n in ipairs(names) do if n then out[#out + 1] = n end end
  return out
end

-- resolver(syscall, arches) -> resolve(name) -> index | nil, message, why ("missing": no
-- argument has the name on some arch; "unknown": an arch has no names for the syscall;
-- "differs": two arches put it at different places). A name must mean one
-- index on every arch of the filter that has the syscall: names are the kernel's, which
-- differ now and then between arches (clone's tls is argument 4 on x86_64 and 3 on i386,
-- i386's mmap takes one pointer), and an arch whose tables have no names for the syscall
-- cannot tell; both are errors that say to write argN.
function M.resolver(syscall, arches)
  local per_arch = {}
  for _, arch in ipairs(arches) do
    local names, exists = arg_names(syscall, arch)
    if exists then per_arch[#per_arch + 1] = { arch = arch, names = names } end
  end
  local label = type(syscall) == "number" and ("syscall " .. syscall) or ("'" .. syscall .. "'")
  local resolver = {}
  function resolver.resolve(name)
    local index, first
    for _, a in ipairs(per_arch) do
      if not a.names then
        return nil, ("the argument names of %s are not known on %s: write arg0..arg5")
                    :format(label, a.arch), "unknown"
      end
      local i = index_in(a.names, name)
      if not i then
        local all = listed(a.names)
        local near = groups().nearest(name, all)
        return nil, ("%s has no argument '%s' on %s%s"):format(label, name, a.arch,
          near and (" (did you mean '%s'?)"):format(near)
               or (" (its arguments there: %s)"):format(concat(all, ", "))), "missing"
      end
      if index and i ~= index then
        return nil, ("'%s' is argument %d of %s on %s but %d on %s: write arg%d, or build a " ..
                     "filter per architecture"):format(name, index, label, first, i, a.arch, index),
               "differs"
      end
      index, first = i, first or a.arch
    end
    if not index then
      return nil, ("%s exists on none of the filter's architectures"):format(label), "unknown"
    end
    return index
  end
  -- the names a misspelt argument may have meant (for suggestions)
  function resolver.names()
    local out, seen = {}, {}
    for _, a in ipairs(per_arch) do
      for _, n in ipairs(a.names or {}) do
        if n and not seen[n] then seen[n] = true; out[#out + 1] = n end
      end
    end
    return out
  end
  return resolver
end

---------------------------------------------------------------------------- rows

local function field(rule, key, pos)
  local v = rawget(rule, key)
  if v == nil then v = rawget(rule, pos) end
  return v
end

-- Does a condition table need rewriting (a named argument, a value or mask as a string)?
local function sugared_cond(c)
  return type(c) == "table" and (rawget(c, "arg") ~= nil or type(rawget(c, "value")) == "string"
                                 or type(rawget(c, "mask")) == "string")
end

-- A syscall given by number as the reader takes it: an integer (or a float with an integer's
-- value) that fits 32 bits.
local function plain_number(v)
  local i = type(v) == "number" and tointeger(v)
  return i and i >= 0 and i <= 0xffffffff
end

-- The names and numbers of a rule's list of syscalls, read raw, or nil and what the reader
-- would say is wrong with the list (this module spreads a list before the reader sees it).
local function syscall_list(t)
  local n, msg = M.check_list(t, "its list of syscalls")
  if not n then return nil, msg end
  if n == 0 then return nil, "its list of syscalls is empty" end
  local out = {}
  for i = 1, n do
    local v = rawget(t, i)
    if type(v) == "number" then
      local int = tointeger(v)
      if not int or int < 0 then
        return nil, ("syscall number %s is not a non-negative integer")
                    :format(math_type(v) == "float" and ("%.14g"):format(v) or tostring(v)), v
      elseif int > 0xffffffff then
        return nil, ("syscall number %d does not fit 32 bits"):format(int), v
      end
      v = int
    elseif type(v) ~= "string" then
      return nil, ("syscall must be a name or a number, got %s"):format(type(v)), v
    end
    out[i] = v
  end
  return out
end

-- Does a rule hold anything this module rewrites?
local function sugared(rule)
  if type(rule) ~= "table" then return false end
  local syscall, args = field(rule, "syscall", 2), field(rule, "args", 3)
  if groups().is_group(syscall) or type(args) == "string" then return true end
  if type(syscall) == "table" then            -- a list of syscalls: a group among them
    for _, s in next, syscall do
      if groups().is_group(s) then return true end
    end
  end
  if type(args) == "table" then
    for _, c in next, args do
      if sugared_cond(c) then return true end
    end
  end
  return false
end

-- A rule that gives a field both ways ({"allow", "read", syscall = "write"}) goes to the
-- reader untouched, which says so.
local function ambiguous(rule)
  local raw = rawget
  return (raw(rule, 1) ~= nil and raw(rule, "action") ~= nil) or
         (raw(rule, 2) ~= nil and raw(rule, "syscall") ~= nil) or
         (raw(rule, 3) ~= nil and raw(rule, "args") ~= nil)
end

-- One condition table with its sugar rewritten, or nil and a message.
local function plain_cond(c, resolver)
  local out = {}
  for k, v in next, c do out[k] = v end
  local arg = out.arg
  if arg ~= nil then
    if type(arg) ~= "string" then
      return nil, ("arg names an argument (a string such as \"family\"), got %s"):format(type(arg))
    end
    if out.index ~= nil then return nil, "give arg or index, not both" end
    local index, msg = resolver.resolve(arg)
    if not index then return nil, msg end
    out.arg, out.index = nil, index
  end
  for _, key in ipairs({ "value", "mask" }) do
    if type(out[key]) == "string" then
      local v, msg = M.integer64(out[key])
      if not v then return nil, ("the %s %s"):format(key, msg) end
      out[key] = v
    end
  end
  return out
end

-- What alternatives gives for a rule without args (args = false is a mistake the reader
-- names, not the same as none).
local NO_ARGS = {}

-- The alternatives (lists of conditions, or NO_ARGS for none) rule args stand for on
-- `syscall`, or nil and a message.
local function alternatives(args, syscall, arches)
  if type(args) == "string" then
    -- LPeg is loaded only for policies that write conditions as text
    local alts, msg = require("sx.conditions").compile(args, arches, M.resolver(syscall, arches))
    if not alts then return nil, "bad condition at " .. msg end
    return alts
  end
  if args == nil then return { NO_ARGS } end
  -- anything but a list goes to the reader as it is, which says what is wrong with it
  local n = type(args) == "table" and M.check_list(args, "args")
  if not n then return { args } end
  local out, resolver = {}, nil
  for c = 1, n do
    local cond = rawget(args, c)
    if sugared_cond(cond) then
      resolver = resolver or M.resolver(syscall, arches)
      local plain, msg = plain_cond(cond, resolver)
      if not plain then return nil, ("condition %d: %s"):format(c, msg) end
      out[c] = plain
    else
      out[c] = cond
    end
  end
  return { out }
end

-- Does `name` exist on at least one of `arches`?
local function on_some_arch(name, arches)
  for _, arch in ipairs(arches) do
    if core.syscall_number(name, arch) then return true end
  end
  return false
end

local function is_unconditional(args)
  return args == nil or args == false or (type(args) == "table" and next(args) == nil)
end

-- rows(rules, wheres, where, get_arches) -> rows, origins | nil, err. rules: the caller's
-- list; wheres[i]: the policy line of rule i (where for all when nil); get_arches():
-- the filter's arches, or nil, err (asked only when there is sugar). origins as below.
function M.rows(rules, wheres, where, get_arches)
  local origins = { where = where, wheres = wheres }
  if type(rules) ~= "table" then return rules, origins end
  local any = false
  for _, rule in next, rules do
    if sugared(rule) then any = true; break end
  end
  -- no sugar, or a list the reader must refuse anyway: as it is
  local n = any and M.check_list(rules, "rules")
  if not n then return rules, origins end
  local arches, aerr = get_arches()
  if not arches then return nil, aerr end
  local out, rule_of, via = {}, {}, {}
  for i = 1, n do
    local rule, w = rawget(rules, i), wheres and wheres[i] or where
    local syscall = type(rule) == "table" and field(rule, "syscall", 2)
    -- a list of syscalls stands for a rule of each, spread here even without sugar: its
    -- names are the caller's own, which a group's rules give way to. What is wrong with
    -- one is said here: the reader might stop at a group in it first.
    local listed, lerr, item
    if type(syscall) == "table" and not ambiguous(rule) then
      listed, lerr, item = syscall_list(syscall)
      if not listed then
        return nil, error_.new("bad_rule", ("rule %d: %s"):format(i, lerr),
                               { rule = i, where = w, syscall = item })
      end
    elseif plain_number(syscall) then
      syscall = tointeger(syscall)
    end
    if (not sugared(rule) and not listed) or ambiguous(rule) or
       (type(syscall) ~= "string" and not plain_number(syscall) and not listed) then
      out[#out + 1], rule_of[#out + 1] = rule, i     -- (the reader says what is wrong)
    else
      local args = field(rule, "args", 3)
      local function fail(code, msg, fields)
        fields = fields or {}
        fields.rule, fields.where, fields.syscall = i, w, fields.syscall or syscall
        return nil, error_.new(code, ("rule %d: %s"):format(i, msg), fields)
      end
      for _, named in ipairs(listed or { syscall }) do
        local members = { named }
        if groups().is_group(named) then
          local all, msg = groups().expand(named)
          if not all then return fail("unknown_syscall", msg, { syscall = named }) end
          members = {}
          for _, name in ipairs(all) do
            if on_some_arch(name, arches) then members[#members + 1] = name end
          end
          if #members == 0 then
            return fail("unknown_syscall", ("no syscall of group '%s' exists on %s")
                        :format(named, concat(arches, ", ")), { syscall = named })
          end
        end
        for _, name in ipairs(members) do
          local alts, msg = alternatives(args, name, arches)
          if not alts then
            return fail("bad_rule", msg, { syscall = name, condition = type(args) == "string" and args or nil })
          end
          for _, alt in ipairs(alts) do
            local copy = {}
            for k, v in next, rule do copy[k] = v end
            copy[2], copy[3] = nil, nil
            copy.syscall, copy.args = name, alt   -- (false stays: the reader refuses it)
            if alt == NO_ARGS then copy.args = nil end
            local j = #out + 1
            out[j], rule_of[j] = copy, i
            if name ~= named then via[j] = named end
          end
        end
      end
    end
  end
  return M.yield_to_own(out, rule_of, via, wheres, where)
end

-- The group rules that give way (see the header), and the rows' origins.
function M.yield_to_own(out, rule_of, via, wheres, where)
  local action = require "sx.action"
  local explicit, first = {}, {}
  for j, rule in ipairs(out) do
    local syscall = not via[j] and type(rule) == "table" and field(rule, "syscall", 2)
    if syscall and syscall == syscall then   -- (NaN, no key, goes to the reader, which refuses it)
      explicit[syscall] = true
    end
  end
  local rows = {}
  local origins = { where = where, wheres = {}, rules = {}, groups = {} }
  local function keep(j)
    local n = #rows + 1
    rows[n] = out[j]
    origins.rules[n] = rule_of[j]
    origins.wheres[n] = wheres and wheres[rule_of[j]] or where
    origins.groups[n] = via[j]
  end
  for j, rule in ipairs(out) do
    if not via[j] then
      keep(j)
    elseif not explicit[rule.syscall] then
      local name = rule.syscall
      if not is_unconditional(rule.args) then
        keep(j)
      elseif not first[name] then
        first[name] = j
        keep(j)
      else
        local k = first[name]
        local a = action.value(field(out[k], "action", 1))
        local b = action.value(field(rule, "action", 1))
        if a and b and a ~= b then
          -- name every syscall the two groups dispute, so one error says it all
          local names = {}
          for m, other in ipairs(out) do
            local f = first[other.syscall]
            if via[m] and f and m > f and rule_of[m] == rule_of[j] and rule_of[f] == rule_of[k]
               and is_unconditional(other.args) and not explicit[other.syscall] then
              local oa = action.value(field(out[f], "action", 1))
              local ob = action.value(field(other, "action", 1))
              if oa ~= ob then names[#names + 1] = other.syscall end
            end
          end
          local wj = wheres and wheres[rule_of[j]] or where
          return nil, error_.new("duplicate_rule", ("rule %d: %s (rule %d, %s) and %s (rule %d, %s) " ..
            "both cover %s; give %s a rule of its own to decide"):format(
              rule_of[j], via[k], rule_of[k], tostring(action.canonical(a)),
              via[j], rule_of[j], tostring(action.canonical(b)), concat(names, ", "),
              #names > 1 and "each" or "it"),
            { rule = rule_of[j], where = wj, syscall = names[1], action = action.canonical(b) })
        end
      end
    end
  end
  return rows, origins
end

-- origin(origins, row) -> the caller's rule number, its policy line, its group (or nil).
function M.origin(origins, row)
  if not origins.rules then
    return row, origins.wheres and origins.wheres[row] or origins.where, nil
  end
  return origins.rules[row], origins.wheres[row], origins.groups[row]
end

return M

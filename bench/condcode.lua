-- bench/condcode.lua: the code for argument conditions, sx against libseccomp's binary tree
-- (issue 15): program sizes, instructions executed on syscalls with conditions, and how
-- many conditional rules fit the kernel's 4096 instructions.
--
--   local condcode = require "condcode"        (with bench/ and spec/ on package.path)
--   condcode.executed(input, sx_bpf, lsc_bpf)  --> per side: avg and max over the calls
--   condcode.until_limit(compile)              --> the most rules of inputs.conditions
--
-- A syscall with conditions is called once for each of its conditional rules with
-- arguments that satisfy that rule (found from the rule's own values), and once with
-- arguments that satisfy none of them. Arguments carry only the bits the syscall reads
-- (zero-extended), where sx and libseccomp mean the same; both programs must give the same
-- answer on every call, and the count of those that do not is reported.

local seccomp = require "sx.seccomp"
local core = require "sx.core"
local reference = require "support.reference"
local inputs = require "inputs"

local ipairs, pairs, sort, unpack, max = ipairs, pairs, table.sort, table.unpack, math.max

local M = {}

local ARCH = "x86_64"
local AUDIT = core.audit(ARCH)

local function low_bits(bits) return bits == 64 and -1 or (1 << bits) - 1 end

-- Values to try for one condition's argument.
local function candidates(c)
  local v, m = c.value, c.mask or -1
  return { v, v + 1, v - 1, v | ~m, v ~ (m & -m), 0, -1, v << 1, v >> 1, 0x80000000,
           0xffffffff, 0x100000000, math.mininteger }
end

-- The syscalls of an input that have conditional rules: number -> {rules = {...}}.
local function conditional(input)
  local by_nr = {}
  for _, r in ipairs(input.rules) do
    local args = r.args or r[3]
    if args and #args > 0 then
      local nr = assert(seccomp.syscall_number(r.syscall or r[2], ARCH))
      by_nr[nr] = by_nr[nr] or { nr = nr, rules = {} }
      local list = by_nr[nr].rules
      list[#list + 1] = args
    end
  end
  local out = {}
  for _, e in pairs(by_nr) do out[#out + 1] = e end
  sort(out, function(a, b) return a.nr < b.nr end)
  return out
end
M.conditional = conditional

-- Does rule `args` hold for the call nr(vec)?
local function rule_holds(nr, args, vec)
  for _, c in ipairs(args) do
    if not reference.holds(c, vec, reference.bits(ARCH, nr, c.index)) then return false end
  end
  return true
end

-- vec with each argument cut to the bits nr reads.
local function narrowed(nr, vec)
  local out = {}
  for i = 1, 6 do out[i] = vec[i] & low_bits(reference.bits(ARCH, nr, i - 1)) end
  return out
end

-- Arguments for nr that satisfy rule `args`, or nil.
local function satisfying(nr, args)
  local vec = { 0, 0, 0, 0, 0, 0 }
  for n, c in ipairs(args) do
    for _, x in ipairs(candidates(c)) do
      local trial = { unpack(vec) }
      trial[c.index + 1] = x
      trial = narrowed(nr, trial)
      local ok = true
      for i = 1, n do ok = ok and rule_holds(nr, { args[i] }, trial) end
      if ok then vec = trial; break end
    end
  end
  return rule_holds(nr, args, vec) and vec or nil
end

-- Arguments for nr that satisfy none of `rules`, or nil.
local function satisfying_none(nr, rules)
  local tries = { { 0, 0, 0, 0, 0, 0 }, { -1, -1, -1, -1, -1, -1 } }
  for _, args in ipairs(rules) do
    for _, c in ipairs(args) do
      for _, x in ipairs(candidates(c)) do
        tries[#tries + 1] = { x, x, x, x, x, x }
        local v = { 0, 0, 0, 0, 0, 0 }
        v[c.index + 1] = x
        tries[#tries + 1] = v
      end
    end
  end
  for _, t in ipairs(tries) do
    local vec, none = narrowed(nr, t), true
    for _, args in ipairs(rules) do
      if rule_holds(nr, args, vec) then none = false; break end
    end
    if none then return vec end
  end
  return nil
end

-- The calls of an input: {nr, args, kind = "rule" | "none"}, and how many rules found no
-- satisfying arguments (or syscalls none that satisfy no rule).
function M.calls(input)
  local calls, missed = {}, 0
  for _, e in ipairs(conditional(input)) do
    for _, args in ipairs(e.rules) do
      local vec = satisfying(e.nr, args)
      if vec then calls[#calls + 1] = { nr = e.nr, args = vec, kind = "rule" }
      else missed = missed + 1 end
    end
    local vec = satisfying_none(e.nr, e.rules)
    if vec then calls[#calls + 1] = { nr = e.nr, args = vec, kind = "none" }
    else missed = missed + 1 end
  end
  return calls, missed
end

-- Instructions executed on the calls by two programs: for each side and kind, avg and max;
-- and the calls where their answers differ.
function M.executed(calls, a, b)
  local s = { a = { rule = {}, none = {} }, b = { rule = {}, none = {} }, differ = 0 }
  for _, side in ipairs({ "a", "b" }) do
    for _, kind in ipairs({ "rule", "none" }) do s[side][kind] = { sum = 0, n = 0, max = 0 } end
  end
  for _, call in ipairs(calls) do
    local ra, na = core.emulate(a, AUDIT, call.nr, unpack(call.args, 1, 6))
    local rb, nb = core.emulate(b, AUDIT, call.nr, unpack(call.args, 1, 6))
    if ra ~= rb then s.differ = s.differ + 1 end
    for side, n in pairs({ a = na, b = nb }) do
      local t = s[side][call.kind]
      t.sum, t.n, t.max = t.sum + n, t.n + 1, max(t.max, n)
    end
  end
  for _, side in ipairs({ "a", "b" }) do
    for _, kind in ipairs({ "rule", "none" }) do
      local t = s[side][kind]
      t.avg = t.n > 0 and t.sum / t.n or 0 / 0
    end
  end
  return s
end

-- The most rules of inputs.conditions(n) whose program `size(input)` (nil when it cannot
-- be made) keeps within 4096 instructions, searched up to `top`; and whether top fitted.
function M.until_limit(size, names, top)
  local function fits(n)
    local s = size(inputs.conditions(n, names))
    return s ~= nil and s <= 4096
  end
  top = top or 8000
  if fits(top) then return top, true end
  local lo, hi = 0, top
  while hi - lo > 1 do
    local mid = (lo + hi) // 2
    if fits(mid) then lo = mid else hi = mid end
  end
  return lo, false
end

return M

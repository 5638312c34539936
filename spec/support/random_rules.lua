-- support.random_rules: seeded random rule sets for the property specs, and a printer
-- that writes a rule set back as Lua source (for reproducers).
--
--   local gen = require "support.random_rules"
--   local case = gen.rule_set(seed)   --> {rules, default, opts, seed}
--   print(gen.source(case))           --> runnable Lua that compiles the same filter

local seccomp = require "sx.seccomp"
local core = require "sx.core"

local ipairs, type, tostring, concat, fmt = ipairs, type, tostring, table.concat, string.format
local math_type = math.type

local M = {}

-- The arch sets the generator draws from: multi-arch x86 with x32, 64-bit only, x32 only,
-- two unrelated ones, a big-endian one, 32-bit ones.
M.ARCH_SETS = {
  { "x86_64", "i386", "x32" }, { "aarch64" }, { "x32" }, { "arm", "riscv64" }, { "s390x" },
  { "x86_64" }, { "i386" }, { "x86_64", "x32" }, { "ppc64le", "loongarch64" },
  { "x86_64", "i386" }, { "s390x", "aarch64" },
  { "x32", "x86_64" }, { "i386", "x32", "x86_64" }, { "x32", "i386" }, { "arm", "aarch64" },
}

-- Values that sit on the edges of 32- and 64-bit comparisons.
M.BOUNDARY = {
  0, 1, 2, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x100000000, 0x100000001,
  0x7fffffffffffffff, math.mininteger, -2, -1, 0xffffffff00000000, 0x80000000ffffffff,
}

local OPS = { "eq", "ne", "lt", "le", "gt", "ge", "masked_eq" }

-- A random generator of its own, so the specs' draws do not depend on who else calls
-- math.random. (xorshift64*, good enough for test data.)
function M.rng(seed)
  local s = seed * 0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
  if s == 0 then s = 1 end
  local r = {}
  function r.u64()
    s = s ~ (s >> 12); s = s ~ (s << 25); s = s ~ (s >> 27)
    return s * 0x2545f4914f6cdd1d
  end
  -- integer in [lo, hi]
  function r.int(lo, hi)
    return lo + (r.u64() >> 1) % (hi - lo + 1)
  end
  function r.pick(list) return list[r.int(1, #list)] end
  function r.chance(p) return r.int(1, 1000) <= p * 1000 end
  return r
end

local function random_value(r)
  local k = r.int(1, 7)
  if k == 1 then return r.pick(M.BOUNDARY)
  elseif k == 2 then return r.int(0, 16)
  elseif k == 3 then return r.u64() & 0xffffffff
  elseif k == 4 then return r.u64()
  elseif k == 5 then return (r.u64() & 0xffffffff) << 32
  elseif k == 6 then return r.pick(M.BOUNDARY) + r.int(-2, 2)
  else return r.int(0, 4096) end
end

local function random_mask(r)
  local k = r.int(1, 7)
  if k == 1 then return -1
  elseif k == 2 then return 0xffffffff
  elseif k == 3 then return 0xffffffff00000000
  elseif k == 4 then return 1 << r.int(0, 63)
  elseif k == 5 then return 0
  elseif k == 6 then return r.u64() & r.u64()
  else return r.u64() end
end

local function random_cond(r, indices)
  local c = { index = r.pick(indices), op = r.pick(OPS) }
  if c.op == "masked_eq" then
    c.mask = random_mask(r)
    -- usually a value the masked argument can equal; sometimes one it never can
    c.value = r.chance(0.8) and (random_value(r) & c.mask) or random_value(r)
  else
    c.value = random_value(r)
  end
  -- values may be written as hex strings; the filter must read them the same
  if r.chance(0.1) then c.value = fmt("0x%x", c.value) end
  return c
end
M.random_cond = random_cond

local function random_action(r)
  local k = r.int(1, 11)
  if k <= 2 then return "allow"
  elseif k == 3 then return "kill_process"
  elseif k == 4 then return "kill_thread"
  elseif k == 5 then return "trap"
  elseif k == 6 then return "log"
  elseif k == 7 then return "notify"
  elseif k == 8 then return seccomp.trace(r.int(0, 0xffff))
  elseif k == 9 then return seccomp.errno(r.pick({ "EPERM", "eacces", "ENOSYS", "EINVAL" }))
  elseif k == 10 then return seccomp.errno(r.int(0, 4095))
  else return "errno(" .. r.int(1, 200) .. ")" end
end
M.random_action = random_action

-- The narrowest bits argument `index` of `sc` has on any of `arches` (64 when none has
-- it narrower), as support.reference reads the argument tables.
local function narrowest(sc, arches, index)
  local bits = 64
  for _, a in ipairs(arches) do
    local nr = type(sc) == "number" and sc or core.syscall_number(sc, a)
    if nr then
      local _, _, b = core.arg(a, nr, index)
      if b < bits then bits = b end
    end
  end
  return bits
end

-- v cut to `bits`: its low bits, now and then sign-extended as `-1` on an int would be.
local function fit(r, v, bits)
  if bits == 64 or math_type(v) ~= "integer" then return v end
  local low = v & ((1 << bits) - 1)
  if low >> (bits - 1) == 1 and r.chance(0.3) then low = low | (-1 << bits) end
  return low
end

-- Mostly, conditions fit the arguments they test on every arch of the filter; now and
-- then one does not, which must be a bad_rule error.
local function fit_conds(r, sc, arches, args)
  if r.chance(0.03) then return end
  for _, c in ipairs(args) do
    local bits = narrowest(sc, arches, c.index)
    local value = type(c.value) == "string" and math.tointeger(tonumber(c.value)) or c.value
    local fitted = fit(r, value, bits)
    if c.mask then c.mask = fit(r, c.mask, bits) end
    if c.mask and r.chance(0.8) then fitted = fit(r, fitted & c.mask, bits) end
    c.value = type(c.value) == "string" and fmt("0x%x", fitted) or fitted
  end
end

-- Names that exist on at least one of `arches`, sorted (so the draw is deterministic).
local function names_on(arches)
  local out = {}
  for _, name in ipairs(seccomp.syscall_names()) do
    for _, a in ipairs(arches) do
      if core.syscall_number(name, a) then out[#out + 1] = name; break end
    end
  end
  return out
end

local names_cache = {}

-- One of ARCH_SETS, and the names that exist on at least one of its arches.
local function draw_arches(r)
  local arches = M.ARCH_SETS[r.int(1, #M.ARCH_SETS)]
  local key = concat(arches, "+")
  names_cache[key] = names_cache[key] or names_on(arches)
  return arches, names_cache[key]
end

-- rule_set(seed [, size]): {rules, default, opts, seed}. `size` scales the number of
-- syscalls (default up to 12).
function M.rule_set(seed, size)
  local r = M.rng(seed)
  -- fitting values to widths draws from a stream of its own, so the rest of a seed's set
  -- stays what it was before widths existed
  local rfit = M.rng(seed * 7919 + 1)
  local arches, names = draw_arches(r)
  -- a few argument indices per set, so conditions of different rules interact
  local indices = {}
  for i = 1, r.int(1, 3) do indices[i] = r.int(0, 5) end
  local nsys = r.int(1, size or 12)
  local syscalls = {}
  for i = 1, nsys do
    if #arches == 1 and r.chance(0.15) then
      -- a number: one the tables know, or one past their end
      local n = r.chance(0.5) and r.int(0, 500) or r.int(1000, 1100)
      -- or the highest number the arch's dispatch takes
      if r.chance(0.1) then
        n = ({ x86_64 = 0x3fffffff, x32 = 0x7fffffff })[arches[1]] or 0xffffffff
      end
      syscalls[i] = n
    else
      syscalls[i] = r.pick(names)
    end
  end
  local rules = {}
  for _, sc in ipairs(syscalls) do
    local nrules = r.int(1, 4)
    local uncond = false
    for _ = 1, nrules do
      local act = random_action(r)
      local rule
      if not uncond and r.chance(0.3) then
        uncond = true
        rule = r.chance(0.5) and { act, sc } or { action = act, syscall = sc }
      else
        local args = {}
        for c = 1, r.int(1, 3) do args[c] = random_cond(r, indices) end
        fit_conds(rfit, sc, arches, args)
        rule = r.chance(0.2) and { act, sc, args } or { action = act, syscall = sc, args = args }
      end
      -- rules of different syscalls interleave
      table.insert(rules, r.int(1, #rules + 1), rule)
    end
  end
  -- now and then a second unconditional rule for a syscall: must be duplicate_rule
  if r.chance(0.03) then rules[#rules + 1] = { action = random_action(r), syscall = syscalls[1] } end
  return {
    seed = seed, rules = rules, default = random_action(r),
    opts = { arches = arches, bad_arch = random_action(r) },
  }
end

-- ---- rule sets whose rules share their arguments ----------------------------------

-- A pool of conditions on one argument that rules of a syscall draw from, so that they
-- test the same words: eq and ne on values that share a high word (or do not), orderings
-- around them, masks over the same bits, values across the 32-bit boundary.
local function shared_pool(r, index)
  local pool = {}
  local hi = r.pick({ 0, 0, 1, 0xffffffff, r.u64() & 0xffffffff }) << 32
  local base = r.pick({ 0, 8, 0x20000, 0x7ffffff0, 0xfffffff0, r.u64() & 0xffffffff })
  local function value()
    local v = hi | ((base + r.int(0, 12)) & 0xffffffff)
    if r.chance(0.15) then v = random_value(r) end
    return v
  end
  for _ = 1, r.int(3, 10) do
    local op = r.pick({ "eq", "eq", "eq", "ne", "lt", "le", "gt", "ge", "masked_eq", "masked_eq" })
    local c = { index = index, op = op, value = value() }
    if op == "masked_eq" then
      c.mask = r.pick({ 0xff, 0xffff, 0xff00, 0xffffffff, -1, 0xffffffff00000000, 1 << r.int(0, 40),
                        random_mask(r) })
      c.value = r.chance(0.85) and (c.value & c.mask) or c.value
    end
    pool[#pool + 1] = c
  end
  return pool
end

-- The pool fitted to the bits its argument has on the filter's arches (now and then not:
-- a bad_rule error), less the entries that became the same condition there.
local function fitted_pool(r, pool, sc, arches)
  fit_conds(r, sc, arches, pool)
  local out, seen = {}, {}
  for _, c in ipairs(pool) do
    local bits = narrowest(sc, arches, c.index)
    local m = bits == 64 and -1 or (1 << bits) - 1
    local function low(v)
      if v == nil then return "" end
      if type(v) == "string" then v = math.tointeger(tonumber(v)) end
      return fmt("%x", v & m)
    end
    local key = fmt("%d %s %s %s", c.index, c.op, low(c.value),
                    c.op == "masked_eq" and low(c.mask) or "")
    if not seen[key] then seen[key] = true; out[#out + 1] = c end
  end
  return out
end

-- Is every condition of `earlier` one of `later`'s (the same index, op, value and mask)?
-- Then `later` can never decide anything: sx refuses it (bad_rule).
local function covered(earlier, later)
  for _, c in ipairs(earlier) do
    local found = false
    for _, d in ipairs(later) do
      found = found or (c.index == d.index and c.op == d.op and c.value == d.value and
                        c.mask == d.mask)
    end
    if not found then return false end
  end
  return true
end
M.covered = covered

-- shared_rule_set(seed): {rules, default, opts, seed} where a few syscalls each have many
-- rules drawing their conditions from small pools on one or two arguments, with a few
-- actions, so the tests the compiler shares and what its paths know get exercised.
function M.shared_rule_set(seed)
  local r = M.rng(seed)
  local rfit = M.rng(seed * 7919 + 3)
  local arches, names = draw_arches(r)
  local actions = {}
  for i = 1, r.int(1, 3) do actions[i] = random_action(r) end
  local rules = {}
  -- now and then one rule behind another that covers it: a bad_rule error
  local shadow = r.chance(0.05)
  for _ = 1, r.int(1, 3) do
    local sc = r.pick(names)
    local pools = {}
    for i = 1, r.int(1, 2) do
      pools[i] = fitted_pool(rfit, shared_pool(r, r.int(0, 5)), sc, arches)
    end
    local mine = {}
    for _ = 1, r.int(2, 24) do
      local args, used = {}, {}
      for _ = 1, r.pick({ 1, 1, 1, 2, 2, 3 }) do
        local c = r.pick(r.pick(pools))
        if not used[c] then used[c] = true; args[#args + 1] = c end
      end
      local ok = true
      for _, earlier in ipairs(mine) do
        if covered(earlier, args) then ok = false; break end
      end
      if not ok and shadow then ok, shadow = true, false end
      if ok then
        mine[#mine + 1] = args
        local copy = {}
        for i, c in ipairs(args) do
          copy[i] = { index = c.index, op = c.op, value = c.value, mask = c.mask }
        end
        rules[#rules + 1] = { action = r.pick(actions), syscall = sc, args = copy }
      end
    end
    if r.chance(0.3) then rules[#rules + 1] = { action = random_action(r), syscall = sc } end
  end
  return {
    seed = seed, rules = rules, default = r.chance(0.5) and r.pick(actions) or random_action(r),
    opts = { arches = arches, bad_arch = random_action(r) },
  }
end

-- ---- Lua source of a rule set ----------------------------------------------------

local function int_source(v)
  if math_type(v) ~= "integer" then return fmt("%q", v) end
  if v >= 0 and v < 0x10000 then return tostring(v) end
  return fmt("0x%x", v)
end

local function action_source(a)
  if type(a) == "string" then return fmt("%q", a) end
  local text = tostring(a)
  local kind, arg = text:match("^(%a+)%((.-)%)$")
  if tonumber(arg) then return fmt("seccomp.%s(%s)", kind, arg) end
  return fmt("seccomp.%s(%q)", kind, arg)
end
M.action_source = action_source

local function value_source(v)
  if type(v) == "string" then return fmt("%q", v) end
  return int_source(v)
end

local function cond_source(c)
  local parts = { "index = " .. c.index, fmt("op = %q", c.op) }
  if c.mask ~= nil then parts[#parts + 1] = "mask = " .. value_source(c.mask) end
  parts[#parts + 1] = "value = " .. value_source(c.value)
  return "{ " .. concat(parts, ", ") .. " }"
end

function M.rule_source(rule)
  local act = rule.action; if act == nil then act = rule[1] end
  local sc = rule.syscall; if sc == nil then sc = rule[2] end
  local args = rule.args; if args == nil then args = rule[3] end
  local parts = { "action = " .. action_source(act),
                  "syscall = " .. (type(sc) == "string" and fmt("%q", sc) or int_source(sc)) }
  if args and #args > 0 then
    local cs = {}
    for i, c in ipairs(args) do cs[i] = cond_source(c) end
    parts[#parts + 1] = "args = { " .. concat(cs, ", ") .. " }"
  end
  return "{ " .. concat(parts, ", ") .. " }"
end

-- Runnable Lua that compiles the same filter as `case`.
function M.source(case)
  local lines = { 'local seccomp = require "sx.seccomp"', "local rules = {" }
  for _, rule in ipairs(case.rules) do lines[#lines + 1] = "  " .. M.rule_source(rule) .. "," end
  local arches = {}
  for i, a in ipairs(case.opts.arches) do arches[i] = fmt("%q", a) end
  lines[#lines + 1] = "}"
  lines[#lines + 1] = fmt("local f = assert(seccomp.from_rules(rules, %s, { arches = { %s }, " ..
                          "bad_arch = %s }))", action_source(case.default), concat(arches, ", "),
                          action_source(case.opts.bad_arch or "kill_process"))
  return concat(lines, "\n")
end

return M

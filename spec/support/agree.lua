-- support.agree: does a compiled filter decide like the reference evaluator?
--
-- check(case) compiles a rule set ({rules, default, opts}) through the public API and
-- compares the emulator's verdict (f:eval, or sx.core.emulate for raw audit values)
-- with support.reference's on every syscall number of every arch of the filter (and a
-- margin past the tables), on unknown and out-of-range numbers, on x32-bit numbers
-- under the x86_64 audit arch, on foreign audit arches, and, for each syscall that has
-- rules, on argument vectors built from boundary values and each rule's own values.
-- A mismatch is shrunk to a small rule set and reported as runnable Lua source.

local seccomp = require "sx.seccomp"
local core = require "sx.core"
local reference = require "support.reference"
local gen = require "support.random_rules"
local shrink_rules = require("support.shrink").rules

local ipairs, pairs, type, tostring, unpack, fmt, concat =
  ipairs, pairs, type, tostring, table.unpack, string.format, table.concat

local M = {}

local X32_BIT = 0x40000000

-- The reference's own reading of a rule list: positional or named fields, values as
-- integers (hex strings read by Lua, which wraps them to two's complement as wanted).
local function plain_rules(rules)
  local out = {}
  for i, r in ipairs(rules) do
    local act = r.action; if act == nil then act = r[1] end
    local sc = r.syscall; if sc == nil then sc = r[2] end
    local args = r.args; if args == nil then args = r[3] end
    local conds
    if args and #args > 0 then
      conds = {}
      for c, a in ipairs(args) do
        local v, m = a.value, a.mask
        if type(v) == "string" then v = math.tointeger(tonumber(v)) end
        if type(m) == "string" then m = math.tointeger(tonumber(m)) end
        conds[c] = { index = a.index, op = a.op, value = v, mask = m }
      end
    end
    out[i] = { action = act, syscall = sc, args = conds }
  end
  return out
end
M.plain_rules = plain_rules

function M.reference_for(case)
  return reference.new({ rules = plain_rules(case.rules), default = case.default,
                         bad_arch = case.opts.bad_arch, arches = case.opts.arches })
end

-- Highest number the tables give any syscall on `arch` below ARM's private range.
local max_cache = {}
local function table_max(arch)
  if max_cache[arch] then return max_cache[arch] end
  local m = 0
  for _, name in ipairs(seccomp.syscall_names()) do
    local n = core.syscall_number(name, arch)
    if n and n < 0x0f0000 and n > m then m = n end
  end
  max_cache[arch] = m
  return m
end

local UNKNOWN = { 1000, 4095, 4096, 0xffff, 0xf0000, 0xf0005, 0x3fffffff, 0x40000000,
                  0x40000001, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff }
local FOREIGN_AUDITS = { 0, 1, 0x12345678, 0xffffffff, 0x4000003e, 0x8000003e, 0xc0000003 }
local SPOT = { 0, 1, 2, 39, 59, 60, 231, 1000, 0x40000000, 0xffffffff }

-- Candidate argument values around one condition.
local function cond_values(c)
  local v = c.value
  local out = { v, v - 1, v + 1, v ~ (1 << 32), v & 0xffffffff, v & ~0xffffffff,
                v ~ 0x80000000, v ~ (1 << 63), (v & 0xffffffff) + 1, (v | 0xffffffff) + 1,
                0, -1, 0x80000000, 0xffffffff, 0x100000000, math.mininteger }
  if c.mask then
    local m = c.mask
    out[#out + 1] = v | ~m
    out[#out + 1] = (v | ~m) ~ (m & -m)     -- flips the lowest bit the mask looks at
    out[#out + 1] = v ~ (m & -m)
    out[#out + 1] = m
    out[#out + 1] = ~m
    out[#out + 1] = v ~ (m & 0xffffffff00000000)
  end
  return out
end

local function copy6(v) return { v[1], v[2], v[3], v[4], v[5], v[6] } end

-- Argument vectors for the rules of one syscall number.
local function arg_vectors(list, r)
  local vecs = { { 0, 0, 0, 0, 0, 0 } }
  for _, b in ipairs(gen.BOUNDARY) do vecs[#vecs + 1] = { b, b, b, b, b, b } end
  local pool = {}
  for _, rule in ipairs(list) do
    if rule.args then
      -- a base vector that tries to satisfy every condition of the rule, then each
      -- condition's argument swept over its edge values while the others hold
      local base = { 0, 0, 0, 0, 0, 0 }
      for _, c in ipairs(rule.args) do
        for _, x in ipairs(cond_values(c)) do
          pool[#pool + 1] = x
          local trial = copy6(base)
          trial[c.index + 1] = x
          if reference.holds(c, trial) then base = trial; break end
        end
      end
      vecs[#vecs + 1] = base
      for _, c in ipairs(rule.args) do
        for _, x in ipairs(cond_values(c)) do
          local v = copy6(base)
          v[c.index + 1] = x
          vecs[#vecs + 1] = v
        end
      end
    end
  end
  if #pool > 0 then
    for _ = 1, 12 do
      local v = {}
      for i = 1, 6 do v[i] = pool[r.int(1, #pool)] end
      vecs[#vecs + 1] = v
    end
  end
  return vecs
end
M.arg_vectors = arg_vectors

local function args_source(args)
  local parts = {}
  for i = 1, 6 do parts[i] = fmt("0x%x", args[i] or 0) end
  return "{ " .. concat(parts, ", ") .. " }"
end

local function action_text(v)
  return fmt("%s (0x%08x)", core.action_string(v), v)
end

-- One probe: nil when filter and reference agree, else a description.
local function compare(f, ref, where, nr, args)
  local want = reference.eval(ref, where, nr, args)
  local got
  if type(where) == "string" then
    local a = f:eval(nr, args, where)
    got = reference.action_value(a)
  else
    got = core.emulate(f.bpf, where, nr, unpack(args, 1, 6))
  end
  if got ~= want then
    return { where = where, nr = nr, args = copy6(args), got = got, want = want }
  end
end

-- Every probe for a filter of this case; stops at the first mismatch and returns it.
local function run_probes(f, case, ref, rseed)
  local r = gen.rng(rseed or 1)
  local zero = { 0, 0, 0, 0, 0, 0 }
  local arches = case.opts.arches
  local in_filter = {}
  for _, a in ipairs(arches) do in_filter[a] = true end
  local bad
  -- every number of every arch, and past the table's end; x86_64 and x32 share an audit
  -- arch, so both halves are probed under it whichever of them the filter has
  local audits_done = {}
  for _, arch in ipairs(arches) do
    local name = arch == "x32" and "x86_64" or arch
    if not audits_done[name] then
      audits_done[name] = true
      local top = table_max(arch) + 64
      if name == "x86_64" then top = math.max(table_max("x86_64"), table_max("x32")) + 64 end
      for nr = 0, top do
        bad = compare(f, ref, name, nr, zero); if bad then return bad end
        if name == "x86_64" then
          bad = compare(f, ref, name, nr | X32_BIT, zero); if bad then return bad end
        end
      end
      if arch == "arm" then
        for nr = 0x0f0000, 0x0f0010 do
          bad = compare(f, ref, name, nr, zero); if bad then return bad end
        end
      end
      for _, nr in ipairs(UNKNOWN) do
        bad = compare(f, ref, name, nr, zero); if bad then return bad end
        bad = compare(f, ref, name, nr, { -1, -1, -1, -1, -1, -1 }); if bad then return bad end
      end
    end
  end
  -- x32 numbers given without the bit to an x32 eval get it added
  if in_filter.x32 then
    for _, nr in ipairs({ 0, 1, 39, 512, 520, 547 }) do
      local want = reference.eval(ref, "x86_64", nr | X32_BIT, zero)
      local got = reference.action_value(f:eval(nr, zero, "x32"))
      if got ~= want then
        return { where = "x32", nr = nr, args = zero, got = got, want = want }
      end
    end
  end
  -- foreign arches, by name and by raw audit value
  for _, arch in ipairs(seccomp.arches()) do
    if not in_filter[arch] and not (arch == "x32" and in_filter.x86_64)
       and not (arch == "x86_64" and in_filter.x32) then
      for _, nr in ipairs(SPOT) do
        bad = compare(f, ref, arch, nr, zero); if bad then return bad end
      end
    end
  end
  for _, audit in ipairs(FOREIGN_AUDITS) do
    for _, nr in ipairs(SPOT) do
      bad = compare(f, ref, audit, nr, zero); if bad then return bad end
    end
  end
  -- the syscalls that have rules, with argument vectors around their conditions
  for _, arch in ipairs(arches) do
    local name = arch == "x32" and "x86_64" or arch
    local numbers = {}
    for nr in pairs(ref.by_arch[arch]) do numbers[#numbers + 1] = nr end
    table.sort(numbers)
    for _, nr in ipairs(numbers) do
      for _, args in ipairs(arg_vectors(ref.by_arch[arch][nr], r)) do
        bad = compare(f, ref, name, nr, args); if bad then return bad end
      end
    end
  end
  return nil
end

-- Compile a case: filter, or nil and a failure description.
local function compile(case)
  local ok, f, err = pcall(seccomp.from_rules, case.rules, case.default, case.opts)
  if not ok then return nil, { raised = tostring(f) } end
  local want_err = reference.expected_error({ rules = plain_rules(case.rules),
                                              arches = case.opts.arches, default = case.default })
  if want_err then
    if f or not want_err[err.code] then
      local codes = {}
      for code in pairs(want_err) do codes[#codes + 1] = code end
      table.sort(codes)
      return nil, { compile = f and "compiled" or (err.code .. ": " .. tostring(err)),
                    want = concat(codes, " or ") }
    end
    return nil, nil     -- the expected error: nothing more to check
  end
  if not f then return nil, { compile = err.code .. ": " .. tostring(err), want = "a filter" } end
  return f
end

-- Does `case` fail (compile wrongly, or disagree on a probe)? Returns the failure.
local function failure(case, only_probe)
  local f, cfail = compile(case)
  if not f then return cfail end
  local ref = M.reference_for(case)
  if only_probe then
    return compare(f, ref, only_probe.where, only_probe.nr, only_probe.args)
  end
  return run_probes(f, case, ref, case.seed)
end

-- Make a failing case smaller while it still fails the same way (support.shrink).
local function shrink(case, fail)
  local probe = fail.nr and fail or nil
  return shrink_rules(case, function(c) return failure(c, probe) ~= nil end,
    function(c, rules)
      return { seed = c.seed, rules = rules, default = c.default, opts = c.opts }
    end)
end

local function describe(case, fail)
  local lines = { fmt("rule set (seed %s) fails:", tostring(case.seed)), gen.source(case) }
  if fail.nr then
    local where = type(fail.where) == "string" and fmt("%q", fail.where) or fmt("0x%08x", fail.where)
    lines[#lines + 1] = fmt("-- probe: arch %s, nr 0x%x, args %s", where, fail.nr,
                            args_source(fail.args))
    if type(fail.where) == "string" then
      lines[#lines + 1] = fmt("print(f:eval(0x%x, %s, %s))", fail.nr, args_source(fail.args), where)
    end
    lines[#lines + 1] = fmt("-- filter gives %s, reference says %s", action_text(fail.got),
                            action_text(fail.want))
  elseif fail.raised then
    lines[#lines + 1] = "-- compiling raised: " .. fail.raised
  else
    lines[#lines + 1] = fmt("-- compile gave %s, expected %s", tostring(fail.compile),
                            tostring(fail.want))
  end
  return concat(lines, "\n")
end

-- check(case) -> true, or false and a reproducer (shrunk) as text.
function M.check(case)
  local fail = failure(case)
  if not fail then return true end
  local small = shrink(case, fail)
  local small_fail = failure(small, fail.nr and fail or nil) or fail
  return false, describe(small, small_fail)
end

-- For specs that build their own filter: compare on every probe, no shrinking.
function M.check_filter(f, case)
  local fail = run_probes(f, case, M.reference_for(case), case.seed or 1)
  if not fail then return true end
  return false, describe(case, fail)
end

return M

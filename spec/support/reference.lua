-- support.reference: what a rule set means, written out plainly and independently of
-- the compiler. The property, compiler and kernel specs compare the compiled program's
-- verdicts (emulator and real kernel) with this evaluator's.
--
-- The semantics (issue 2 / the shared brief):
--   * seccomp_data.arch is checked first: an audit arch none of the filter's arches has
--     gets the bad-arch action;
--   * x86_64 and x32 share an audit arch: numbers below 0x40000000 belong to x86_64,
--     numbers from 0x40000000 up to x32; a half the filter was not built for gets the
--     bad-arch action;
--   * then the rules for that syscall number on that arch: conditional rules in the order
--     given, the first whose conditions all hold decides; else the syscall's unconditional
--     rule; else the default action.
--   * conditions compare unsigned values on the bits of the argument the syscall reads:
--     16 or 32 for a 2- or 4-byte argument on any ABI, 32 for every argument on the
--     32-bit ABIs (i386, arm), else 64; only those low bits of argument, value and mask
--     count. A value (or a masked_eq's mask) that does not fit those bits (neither zero
--     nor a sign extension above them) makes the rule set a bad_rule error.
--   * a conditional rule whose conditions include all of an earlier conditional rule's
--     of the same syscall (compared on those bits) can never decide: a bad_rule error.
--
-- Nothing here reuses the compiler: the audit values are written out from
-- <linux/audit.h>, action values from <linux/seccomp.h>, and only the syscall tables
-- (names to numbers) come from sx.seccomp.

local seccomp = require "sx.seccomp"

local type, ipairs, pairs, next, tostring, ult = type, ipairs, pairs, next, tostring, math.ult

local M = {}

local X32_BIT = 0x40000000

-- AUDIT_ARCH_* from <linux/audit.h>: EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
M.AUDIT = {
  x86_64 = 0xc000003e, x32 = 0xc000003e, i386 = 0x40000003, aarch64 = 0xc00000b7,
  arm = 0x40000028, riscv64 = 0xc00000f3, loongarch64 = 0xc0000102,
  s390x = 0x80000016, ppc64le = 0xc0000015,
}

-- SECCOMP_RET_* from <linux/seccomp.h>.
local PLAIN = {
  kill_process = 0x80000000, kill_thread = 0x00000000, trap = 0x00030000,
  notify = 0x7fc00000, log = 0x7ffc0000, allow = 0x7fff0000,
}

-- The kernel's 32-bit value of an action as f.rules / f.default hold it: a plain name,
-- or an action object (errno / trace) whose text is "errno(EPERM)" or "trace(7)".
function M.action_value(a)
  if type(a) == "string" and PLAIN[a] then return PLAIN[a] end
  local text = tostring(a)
  local kind, arg = text:match("^(%a+)%((.-)%)$")
  assert(kind, "not an action: " .. text)
  local n = math.tointeger(tonumber(arg))
  if kind == "errno" then
    if not n then   -- a name: ask the C library's table through the public API
      n = require("sx.core").errno_number(arg)
    end
    assert(n and n >= 0 and n <= 4095, "bad errno in " .. text)
    return 0x00050000 + n
  elseif kind == "trace" then
    assert(n and n >= 0 and n <= 0xffff, "bad trace data in " .. text)
    return 0x7ff00000 + n
  end
  error("not an action: " .. text)
end

-- How many bits of argument `index` of syscall number `nr` a condition compares on
-- `arch`: the argument tables' width in bytes (seccomp.syscall_args), read here as the
-- brief says: 2 and 4 bytes are 16 and 32 bits, a 32-bit ABI's register is 32 bits, and
-- anything else 64.
local NARROW = { i386 = true, arm = true }
local width_cache = {}
function M.bits(arch, nr, index)
  local key = arch .. ":" .. nr
  local widths = width_cache[key]
  if not widths then
    widths = {}
    local list = seccomp.syscall_args(nr, arch)
    for i = 1, 6 do widths[i] = list and list[i].width or 0 end
    width_cache[key] = widths
  end
  local w = widths[index + 1]
  if w == 2 then return 16 end
  if w == 4 or NARROW[arch] then return 32 end
  return 64
end

local function low_bits(bits) return bits == 64 and -1 or (1 << bits) - 1 end

-- Does a value fit `bits`: zero or a sign extension above them?
function M.fits(v, bits)
  return bits == 64 or v >> bits == 0 or v >> (bits - 1) == -1 >> (bits - 1)
end

-- Does condition `cond` hold for the six arguments `args` (args[1] is argument 0) when
-- its argument is `bits` wide (64 when not given)?
local function holds(cond, args, bits)
  local a, v = args[cond.index + 1] or 0, cond.value
  local op = cond.op
  local mask = cond.mask
  if bits and bits < 64 then
    local low = low_bits(bits)
    a, v = a & low, v & low
    mask = mask and mask & low
  end
  if op == "eq" then return a == v
  elseif op == "ne" then return a ~= v
  elseif op == "lt" then return ult(a, v)
  elseif op == "le" then return a == v or ult(a, v)
  elseif op == "gt" then return ult(v, a)
  elseif op == "ge" then return a == v or ult(v, a)
  elseif op == "masked_eq" then return (a & mask) == v
  end
  error("unknown op " .. tostring(op))
end
M.holds = holds

-- The kernel number (as seccomp_data.nr, 32 bits unsigned) a rule's syscall has on
-- `arch`, or nil when the syscall does not exist there.
local function rule_number(syscall, arch)
  if type(syscall) == "number" then
    if arch == "x32" then return syscall | X32_BIT end
    return syscall
  end
  return (seccomp.syscall_number(syscall, arch))
end
M.rule_number = rule_number

-- A prepared filter description: spec = {rules, default, bad_arch, arches}, with rules
-- in normal form (as f.rules: {action, syscall, args}).
-- Returns a table usable by M.eval; prepares per-arch lists of rules by number.
function M.new(spec)
  local by_arch = {}
  for _, arch in ipairs(spec.arches) do
    local t = {}
    for _, r in ipairs(spec.rules) do
      local nr = rule_number(r.syscall, arch)
      if nr then
        t[nr] = t[nr] or {}
        local list = t[nr]
        list[#list + 1] = r
      end
    end
    by_arch[arch] = t
  end
  return {
    arches = spec.arches, by_arch = by_arch,
    default = M.action_value(spec.default),
    bad_arch = M.action_value(spec.bad_arch or "kill_process"),
  }
end

-- The same comparison, on `bits`?
local function same_cond(a, b, bits)
  local low = low_bits(bits)
  return a.index == b.index and a.op == b.op and a.value & low == b.value & low
     and (a.op ~= "masked_eq" or a.mask & low == b.mask & low)
end

-- Does every condition of `earlier` appear among `later`'s (on syscall nr of arch)?
local function subsumes(earlier, later, arch, nr)
  for _, c in ipairs(earlier.args) do
    local found = false
    for _, d in ipairs(later.args) do
      local bits = M.bits(arch, nr, c.index)
      if same_cond(c, d, bits) then found = true; break end
    end
    if not found then return false end
  end
  return true
end

-- The error codes compiling `spec` may give (a set, code -> true), or nil when it must
-- compile: two unconditional rules for one syscall number on one arch are a
-- duplicate_rule; a value or mask that does not fit its argument, or a conditional rule
-- that an earlier one of its syscall always beats, is a bad_rule. (Which of several
-- mistakes a compile reports first is its own business.)
function M.expected_error(spec)
  local ref = M.new(spec)
  local codes
  local function add(code) codes = codes or {}; codes[code] = true end
  for _, arch in ipairs(spec.arches) do
    for nr, list in pairs(ref.by_arch[arch]) do
      local uncond, conditional = 0, {}
      for _, r in ipairs(list) do
        if not r.args or #r.args == 0 then
          uncond = uncond + 1
        else
          for _, c in ipairs(r.args) do
            local bits = M.bits(arch, nr, c.index)
            if not M.fits(c.value, bits) or (c.op == "masked_eq" and not M.fits(c.mask, bits)) then
              add("bad_rule")
            end
          end
          for _, earlier in ipairs(conditional) do
            if subsumes(earlier, r, arch, nr) then add("bad_rule") end
          end
          conditional[#conditional + 1] = r
        end
      end
      if uncond > 1 then add("duplicate_rule") end
    end
  end
  return codes
end

-- Which arch of the filter handles (audit, nr), or nil for the bad-arch action.
local function dispatch_arch(ref, audit, nr)
  local has = {}
  for _, a in ipairs(ref.arches) do
    if M.AUDIT[a] == audit then has[a] = true end
  end
  if audit == M.AUDIT.x86_64 then
    if ult(nr, X32_BIT) then return has.x86_64 and "x86_64" or nil end
    return has.x32 and "x32" or nil
  end
  return (next(has))
end

-- eval(ref, arch_or_audit, nr, args) -> the action value the filter must return.
-- arch_or_audit is an arch name (its audit value is used) or a raw audit value;
-- nr is seccomp_data.nr as an unsigned 32-bit value; args a list of six integers.
function M.eval(ref, arch_or_audit, nr, args)
  local audit = type(arch_or_audit) == "string" and M.AUDIT[arch_or_audit] or arch_or_audit
  nr = nr & 0xffffffff
  local arch = dispatch_arch(ref, audit, nr)
  if not arch then return ref.bad_arch end
  local list = ref.by_arch[arch][nr]
  if not list then return ref.default end
  local fallback = ref.default
  for _, r in ipairs(list) do
    if r.args and #r.args > 0 then
      local all = true
      for _, c in ipairs(r.args) do
        if not holds(c, args, M.bits(arch, nr, c.index)) then all = false; break end
      end
      if all then return M.action_value(r.action) end
    else
      fallback = M.action_value(r.action)
    end
  end
  return fallback
end

return M

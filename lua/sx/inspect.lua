-- sx.inspect: what a filter does, for people.
-- explain(f, syscall, args, arch): one decision, the rule that made it and the
-- instructions executed; summary(f): per architecture, which syscalls get which action,
-- which depend on arguments, and which the kernel's constant-action cache can answer.

local core = require "sx.core"
local action = require "sx.action"

local ipairs, tostring, type, ult, concat, sort =
  ipairs, tostring, type, math.ult, table.concat, table.sort

local M = {}

local X32_BIT = 0x40000000
-- The kernel caches the native arch and, on x86_64 and arm64, the compat one.
local CACHED = { x86_64 = { x86_64 = true, i386 = true }, aarch64 = { aarch64 = true, arm = true } }

-- Does `cond` hold for syscall `nr` on `arch`? Only the bits of the argument the syscall
-- reads count (core.arg), of argument, value and mask alike, as the compiler emits them.
local function holds(cond, args, arch, nr)
  local a, v, mask = args[cond.index + 1] or 0, cond.value, cond.mask
  local _, _, bits = core.arg(arch, nr, cond.index)
  if bits < 64 then
    local low = (1 << bits) - 1
    a, v = a & low, v & low
    mask = mask and mask & low
  end
  local op = cond.op
  if op == "eq" then return a == v
  elseif op == "ne" then return a ~= v
  elseif op == "lt" then return ult(a, v)
  elseif op == "le" then return a == v or ult(a, v)
  elseif op == "gt" then return ult(v, a)
  elseif op == "ge" then return a == v or ult(v, a)
  else return (a & mask) == v end
end

local function covers(f, arch)
  for _, a in ipairs(f.arches) do if a == arch then return true end end
  return false
end

-- How a rule is named for people: where it was written (and the group it came from),
-- or its place in f.rules when that is not known.
local function rule_name(f, i)
  local r = f.rules[i]
  local shared = false          -- does another rule come from the same line?
  for j, other in ipairs(f.rules) do
    if j ~= i and other.where == r.where then shared = true; break end
  end
  local number = rawget(f, "rule_numbers") and f.rule_numbers[i] or i
  local name = not r.where and ("rule " .. i)
               or shared and ("rule %d at %s"):format(number, r.where) or ("rule at " .. r.where)
  if r.group then name = name .. " (from " .. r.group .. ")" end
  return name
end
M.rule_name = rule_name

-- Which rule decides (index into f.rules, or nil for the default) and why.
local function deciding_rule(f, arch, nr, args)
  if not covers(f, arch) then
    return nil, ("the filter is not built for %s: the bad-arch action applies"):format(arch)
  end
  local name = core.syscall_name(nr, arch)
  local bare = arch == "x32" and nr - X32_BIT or nr
  local fallback
  for i, r in ipairs(f.rules) do
    if r.syscall == name or r.syscall == bare then
      if r.args then
        local all = true
        for _, c in ipairs(r.args) do all = all and holds(c, args, arch, nr) end
        if all then return i, ("%s: its conditions hold"):format(rule_name(f, i)) end
      elseif not fallback then
        fallback = i
      end
    end
  end
  if fallback then
    return fallback, ("%s, the syscall's unconditional rule"):format(rule_name(f, fallback))
  end
  return nil, "no rule matches: the default action applies"
end

local function arch_of_probe(f, arch, nr)
  arch = arch or f.arches[1]
  -- an x32 number probed on x86_64 is an x32 call
  if arch == "x86_64" and nr >= X32_BIT and nr < 2 * X32_BIT then return "x32" end
  return arch
end

-- deciding_rule(f, nr, args, arch) -> the index in f.rules of the rule that decides the
-- call, or nil for the default; without explain's trace (a supervisor asks it per call).
function M.deciding_rule(f, nr, args, arch)
  return (deciding_rule(f, arch_of_probe(f, arch, nr), nr, args))
end

-- explain(f, nr, args, arch): nr is the kernel's number (x32 with its bit), args a list.
function M.explain(f, nr, args, arch)
  arch = arch_of_probe(f, arch, nr)
  local a = {}
  for i = 1, 6 do a[i] = args and args[i] or 0 end
  local value, path = core.trace(f.bpf, core.audit(arch), nr & 0xffffffff, a[1], a[2], a[3],
                                 a[4], a[5], a[6])
  local lines, text = {}, {}
  for line in core.disasm(f.bpf):gmatch("[^\n]+") do text[#text + 1] = line end
  for i, pc in ipairs(path) do lines[i] = text[pc + 1] end
  local result = {
    arch = arch, nr = nr, syscall = core.syscall_name(nr, arch) or "unknown", args = a,
    action = action.canonical(value), executed = #path, path = path, lines = lines,
  }
  if f.rules then
    result.rule, result.reason = deciding_rule(f, arch, nr, a)
    local expected = result.rule and f.rules[result.rule].action
                     or (covers(f, arch) and f.default or f.bad_arch)
    if action.value(expected) ~= value then
      error(("sx.inspect: the program says %s but the rules say %s for %s on %s: please report")
            :format(tostring(result.action), tostring(expected), result.syscall, arch))
    end
  end
  return result
end

function M.format_explain(e)
  local args = {}
  local known = core.syscall_name(e.nr, e.arch) ~= nil
  for i, v in ipairs(e.args) do
    local name = known and core.arg(e.arch, e.nr, i - 1)
    args[i] = (name and (name .. "=") or "") .. ("0x%x"):format(v)
  end
  local out = {
    ("%s(%s) on %s, syscall number %d"):format(e.syscall, concat(args, ", "), e.arch, e.nr),
    ("action: %s"):format(tostring(e.action)),
  }
  if e.reason then out[#out + 1] = "decided by: " .. e.reason end
  out[#out + 1] = ("path: %d instructions"):format(e.executed)
  for _, line in ipairs(e.lines) do out[#out + 1] = "  " .. line end
  return concat(out, "\n") .. "\n"
end

local function arch_summary(f, arch, host)
  local audit, actions, conditional, cache_no = core.audit(arch), {}, {}, {}
  local cached = CACHED[host] and CACHED[host][arch] or arch == host
  local eligible = 0
  for _, name in ipairs(core.syscall_names()) do
    local nr = core.syscall_number(name, arch)
    if nr then
      if arch == "x32" then nr = nr | X32_BIT end
      local value = core.constant_action(f.bpf, audit, nr)
      if value then
        local key = tostring(action.canonical(value))
        actions[key] = actions[key] or {}
        actions[key][#actions[key] + 1] = name
        if value == 0x7fff0000 then eligible = eligible + 1 end
      else
        conditional[#conditional + 1] = name
        cache_no[#cache_no + 1] = { syscall = name,
          reason = "its decision depends on the arguments, which the cache cannot see" }
      end
    end
  end
  return { arch = arch, actions = actions, conditional = conditional,
           cache = { kernel_caches_arch = cached, eligible = eligible, not_eligible = cache_no } }
end

-- summary(f) -> { insns = n, arches = { {arch=, actions={[action]={names}}, conditional=
-- {names}, cache={kernel_caches_arch=, eligible=n, not_eligible={{syscall=, reason=}}}}... } }
function M.summary(f)
  local host = core.host_arch()
  local out = { insns = #f.bpf // 8, arches = {} }
  for i, arch in ipairs(f.arches) do out.arches[i] = arch_summary(f, arch, host) end
  return out
end

function M.format_summary(s)
  local out = { ("%d BPF instructions"):format(s.insns) }
  for _, a in ipairs(s.arches) do
    out[#out + 1] = ""
    out[#out + 1] = a.arch .. ":"
    local keys = {}
    for k in pairs(a.actions) do keys[#keys + 1] = k end
    sort(keys)
    for _, k in ipairs(keys) do
      out[#out + 1] = ("  %s (%d): %s"):format(k, #a.actions[k], concat(a.actions[k], " "))
    end
    if #a.conditional > 0 then
      out[#out + 1] = ("  depends on arguments (%d): %s"):format(#a.conditional,
                                                            concat(a.conditional, " "))
    end
    if a.cache.kernel_caches_arch then
      out[#out + 1] = ("  constant-action cache: %d syscalls allowed without running the filter")
                      :format(a.cache.eligible)
      for _, n in ipairs(a.cache.not_eligible) do
        out[#out + 1] = ("    not cached: %s (%s)"):format(n.syscall, n.reason)
      end
    else
      out[#out + 1] = "  constant-action cache: the kernel does not cache this architecture here"
    end
  end
  return concat(out, "\n") .. "\n"
end

return M

-- sx.oci_export: a filter's rules written as a Docker / OCI seccomp profile (for sx.oci).
--
-- sx and libseccomp read rules differently. In sx, the rules for one syscall are tried
-- in order and the first whose conditions hold decides, then the unconditional rule, then
-- the default. libseccomp (under runc or crun) refuses a rule with the default action,
-- lets an unconditional rule wipe out every conditional one, refuses two conditions on
-- one argument in a rule (runc then splits them into alternatives), and orders
-- overlapping conditional rules of different actions by its own tree. So the export does
-- not copy rules: for each syscall it computes, for every action other than the default,
-- the exact set of argument vectors that get that action, and writes each set as
-- conditional entries that
--   * never use one argument index twice,
--   * never overlap an entry of another action (so no order can matter),
--   * are unconditional only when one action decides the whole syscall.
-- Sets are unions of conjunctions of comparisons; where a conjunction compares one
-- argument twice (or negates a masked compare) the values are split into "cubes"
-- ((arg & mask) == value), which SCMP_CMP_MASKED_EQ and SCMP_CMP_EQ express. And since
-- libseccomp compares all 64 bits of an argument the kernel reads on 32 (an int), every
-- comparison of such an argument is written as cubes masked to its bits (below).

local cjson = require "cjson"
local core = require "sx.core"
local error_ = require "sx.error"
local filter = require "sx.filter"
local action = require "sx.action"
local doors = require "sx.doors"

local type, ipairs, next, tostring, fmt, concat, sort, unpack, remove, ult =
  type, ipairs, next, tostring, string.format, table.concat, table.sort, table.unpack, table.remove,
  math.ult

local M = {}

local ALL = -1               -- all 64 bits
-- Beyond this many entries no runtime could load the profile: a BPF program holds at most
-- 4096 instructions, and every entry with arguments takes more than one.
local MAX_TERMS = 4096

-- ---- sets of argument vectors ------------------------------------------------------------
-- An atom is {index, op, value [, mask]} as in sx rules; a term is a list of atoms that all
-- hold; a set is a list of terms (any may hold): {} is empty, {{}} everything.

-- Values of one argument are unsigned 64-bit; `ult` orders them.
local function ule(a, b) return a == b or ult(a, b) end

-- The values where a comparison holds, as sorted disjoint intervals {lo, hi}.
local function intervals(atom)
  local op, c = atom.op, atom.value
  if op == "eq" then return { { c, c } } end
  if op == "ne" then
    local out = {}
    if c ~= 0 then out[#out + 1] = { 0, c - 1 } end
    if c ~= ALL then out[#out + 1] = { c + 1, ALL } end
    return out
  end
  if op == "lt" then return c == 0 and {} or { { 0, c - 1 } } end
  if op == "le" then return { { 0, c } } end
  if op == "gt" then return c == ALL and {} or { { c + 1, ALL } } end
  if op == "ge" then return { { c, ALL } } end
end

local function intersect_intervals(a, b)
  local out, i, j = {}, 1, 1
  while i <= #a and j <= #b do
    local lo = ult(a[i][1], b[j][1]) and b[j][1] or a[i][1]
    local hi = ult(a[i][2], b[j][2]) and a[i][2] or b[j][2]
    if ule(lo, hi) then out[#out + 1] = { lo, hi } end
    if ult(a[i][2], b[j][2]) then i = i + 1 else j = j + 1 end
  end
  return out
end

-- [lo, hi] as the fewest aligned blocks, each a cube (mask, value).
local function interval_cubes(lo, hi, out)
  while true do
    local k = 0
    while k < 63 do
      local size = 1 << (k + 1)
      if lo & (size - 1) ~= 0 or ult(ALL - (size - 1), lo) or ult(hi, lo + size - 1) then break end
      k = k + 1
    end
    if k == 63 and lo == 0 and hi == ALL then out[#out + 1] = { 0, 0 }; return out end
    out[#out + 1] = { ALL << k, lo }
    local last = lo + (1 << k) - 1
    if last == hi or last == ALL then return out end
    lo = last + 1
  end
end

-- The cubes (mask, value) whose union is the set of 64-bit x with `atom`.
local function cubes(atom)
  if atom.op == "masked_eq" then
    if atom.value & ~atom.mask ~= 0 then return {} end
    return { { atom.mask, atom.value } }
  end
  local out = {}
  for _, iv in ipairs(intervals(atom)) do interval_cubes(iv[1], iv[2], out) end
  return out
end

-- Fewer cubes for the same set: drop cubes inside others, join pairs that differ in
-- one masked bit.
local function merge_cubes(list)
  local changed = true
  while changed do
    changed = false
    for i = #list, 1, -1 do
      local a = list[i]
      for j = 1, #list do
        local b = list[j]
        if i ~= j and b[1] & a[1] == b[1] and a[2] & b[1] == b[2] then
          remove(list, i); changed = true; break
        end
      end
    end
    for i = 1, #list do
      for j = i + 1, #list do
        local a, b = list[i], list[j]
        local d = a[2] ~ b[2]
        if a[1] == b[1] and d ~= 0 and d & (d - 1) == 0 and d & a[1] ~= 0 then
          list[i] = { a[1] & ~d, a[2] & ~d }
          remove(list, j)
          changed = true
          break
        end
      end
      if changed then break end
    end
  end
  return list
end

local function cube_atom(index, m, v)
  if m == ALL then return { index = index, op = "eq", value = v } end
  if m == 0 then return nil end   -- everything
  return { index = index, op = "masked_eq", mask = m, value = v }
end

-- The atoms for argument `index` whose union is the cubes in `list`, fewest first merged;
-- nil when a cube has no atom.
local function cube_atoms(index, list)
  local out = {}
  for _, c in ipairs(merge_cubes(list)) do
    local a = cube_atom(index, c[1], c[2])
    if not a then return nil end
    out[#out + 1] = a
  end
  return out
end

-- Atoms (alternatives) for an interval set on one index; nil when it is everything.
local function interval_atoms(index, list)
  if #list == 1 and list[1][1] == 0 and list[1][2] == ALL then return nil end
  if #list == 2 and list[1][1] == 0 and list[2][2] == ALL and list[1][2] + 2 == list[2][1] then
    return { { index = index, op = "ne", value = list[1][2] + 1 } }
  end
  local out = {}
  for _, iv in ipairs(list) do
    local lo, hi = iv[1], iv[2]
    if lo == hi then out[#out + 1] = { index = index, op = "eq", value = lo }
    elseif lo == 0 then out[#out + 1] = { index = index, op = "le", value = hi }
    elseif hi == ALL then out[#out + 1] = { index = index, op = "ge", value = lo }
    else
      for _, c in ipairs(interval_cubes(lo, hi, {})) do out[#out + 1] = cube_atom(index, c[1], c[2]) end
    end
  end
  return out
end

-- true when the atom always holds, false when never, nil otherwise
local function trivial(a)
  if a.op == "masked_eq" then
    if a.value & ~a.mask ~= 0 then return false end
    if a.mask == 0 then return true end
  elseif a.op == "lt" and a.value == 0 then return false
  elseif a.op == "ge" and a.value == 0 then return true
  elseif a.op == "le" and a.value == ALL then return true
  elseif a.op == "gt" and a.value == ALL then return false
  end
  return nil
end

local function atom_key(a)
  return fmt("%d%s%x/%x", a.index, a.op, a.value, a.mask or 0)
end

local function term_key(t)
  local keys = {}
  for i, a in ipairs(t) do keys[i] = atom_key(a) end
  sort(keys)
  return concat(keys, ",")
end

-- The alternatives (atoms) for several atoms that all hold on one index: {} when they
-- never do, nil when always.
local function one_index(index, atoms)
  local masked = false
  for _, a in ipairs(atoms) do if a.op == "masked_eq" then masked = true end end
  if not masked then
    local set = intervals(atoms[1])
    for k = 2, #atoms do set = intersect_intervals(set, intervals(atoms[k])) end
    return interval_atoms(index, set)
  end
  local acc = cubes(atoms[1])
  for k = 2, #atoms do
    local next_, have = {}, {}
    for _, c2 in ipairs(cubes(atoms[k])) do
      for _, c1 in ipairs(acc) do
        if (c1[2] ~ c2[2]) & c1[1] & c2[1] == 0 then
          local m, v = c1[1] | c2[1], c1[2] | c2[2]
          local key = m .. ":" .. v
          if not have[key] then have[key] = true; next_[#next_ + 1] = { m, v } end
        end
      end
    end
    acc = next_
    if #acc == 0 then return {} end
  end
  return cube_atoms(index, acc)
end

-- The terms made by taking one atom from each list of alternatives.
local function product(choices)
  local out = { {} }
  for _, alts in ipairs(choices) do
    local grown = {}
    for _, t in ipairs(out) do
      for _, a in ipairs(alts) do
        local nt = { unpack(t) }
        nt[#nt + 1] = a
        grown[#grown + 1] = nt
      end
    end
    out = grown
  end
  return out
end

-- A term in canonical shape: at most one atom per index, as a set (several terms when a
-- doubly constrained index splits, none when the term is empty).
local function normalize(term)
  local by_index = {}
  for _, a in ipairs(term) do
    local t = trivial(a)
    if t == false then return {} end
    if t == nil then
      local list = by_index[a.index] or {}
      by_index[a.index] = list
      list[#list + 1] = a
    end
  end
  local choices = {}   -- per index: list of atoms (alternatives)
  for index = 0, 5 do
    local list = by_index[index]
    if list then
      local seen, uniq = {}, {}
      for _, a in ipairs(list) do
        local k = atom_key(a)
        if not seen[k] then seen[k] = true; uniq[#uniq + 1] = a end
      end
      if #uniq == 1 then
        choices[#choices + 1] = { uniq[1] }
      else
        local alts = one_index(index, uniq)
        if alts and #alts == 0 then return {} end
        if alts then choices[#choices + 1] = alts end
      end
    end
  end
  return product(choices)
end

-- The set where atom `a` does not hold.
local NEG = { eq = "ne", ne = "eq", lt = "ge", ge = "lt", le = "gt", gt = "le" }
local function negate_atom(a)
  local t = trivial(a)
  if t == true then return {} end
  if t == false then return { {} } end
  if NEG[a.op] then return { { { index = a.index, op = NEG[a.op], value = a.value } } } end
  -- (x & m) != v: some bit of m differs from v
  local out = {}
  for b = 0, 63 do
    local bit = 1 << b
    if a.mask & bit ~= 0 then
      out[#out + 1] = { { index = a.index, op = "masked_eq", mask = bit, value = (~a.value) & bit } }
    end
  end
  return out
end

-- The set where not all of `atoms` hold.
local function negate_term(atoms)
  local out = {}
  for _, a in ipairs(atoms) do
    for _, t in ipairs(negate_atom(a)) do out[#out + 1] = t end
  end
  return out
end

local function is_empty(term)
  return #normalize(term) == 0
end

-- Can the conditions `a` and `b` (lists of sx conditions) hold at once?
function M.overlap(a, b)
  local both = {}
  for _, c in ipairs(a) do both[#both + 1] = c end
  for _, c in ipairs(b) do both[#both + 1] = c end
  return not is_empty(both)
end

local merge_terms   -- below

-- set ∩ (where not all of `atoms` hold)
local function without(set, atoms, syscall)
  local neg = negate_term(atoms)
  local out, seen = {}, {}
  local function add(t)
    local k = term_key(t)
    if not seen[k] then seen[k] = true; out[#out + 1] = t end
  end
  for _, t in ipairs(set) do
    -- t misses `atoms` entirely: keep it whole
    local both = { unpack(t) }
    for _, a in ipairs(atoms) do both[#both + 1] = a end
    if is_empty(both) then add(t)
    else
      for _, n in ipairs(neg) do
        local joined = { unpack(t) }
        for _, a in ipairs(n) do joined[#joined + 1] = a end
        for _, nt in ipairs(normalize(joined)) do add(nt) end
      end
    end
    if #out > MAX_TERMS then
      out = merge_terms(out)
      seen = {}
      for _, kept in ipairs(out) do seen[term_key(kept)] = true end
    end
    if #out > MAX_TERMS then
      return nil, error_.new("too_big", fmt("the rules for '%s' need more than %d profile " ..
        "entries to write without overlaps, more than one BPF program can hold",
        tostring(syscall), MAX_TERMS), { syscall = syscall })
    end
  end
  return #out > 16 and merge_terms(out) or out
end

-- Union of interval lists, sorted and joined where they touch.
local function union_intervals(list)
  sort(list, function(a, b) return ult(a[1], b[1]) end)
  local out = {}
  for _, iv in ipairs(list) do
    local last = out[#out]
    if last and (last[2] == ALL or ule(iv[1], last[2] + 1)) then
      if ult(last[2], iv[2]) then last[2] = iv[2] end
    else
      out[#out + 1] = { iv[1], iv[2] }
    end
  end
  return out
end

-- Atoms for the union of `atoms` on one index: nil when that is everything.
local function union_atoms(index, atoms)
  local masked = false
  for _, a in ipairs(atoms) do if a.op == "masked_eq" then masked = true end end
  if not masked then
    local ivs = {}
    for _, a in ipairs(atoms) do
      for _, iv in ipairs(intervals(a)) do ivs[#ivs + 1] = iv end
    end
    return interval_atoms(index, union_intervals(ivs))
  end
  local list = {}
  for _, a in ipairs(atoms) do
    for _, c in ipairs(cubes(a)) do list[#list + 1] = c end
  end
  return cube_atoms(index, list)
end

-- Fewer terms for the same set: terms equal but for one index are joined when the union
-- of their atoms there takes fewer atoms (adjacent ranges, a value and its complement).
function merge_terms(set)
  local changed = true
  while changed do
    changed = false
    for index = 0, 5 do
      local groups, order = {}, {}
      for _, t in ipairs(set) do
        local rest, here = {}, false
        for _, a in ipairs(t) do
          if a.index == index then here = a else rest[#rest + 1] = a end
        end
        local key = term_key(rest)
        local g = groups[key]
        if not g then g = { rest = rest, atoms = {}, whole = false }; groups[key] = g; order[#order + 1] = key end
        if here then g.atoms[#g.atoms + 1] = here else g.whole = true end
        g.n = (g.n or 0) + 1
      end
      local out = {}
      for _, key in ipairs(order) do
        local g = groups[key]
        local atoms = g.atoms
        if g.whole then atoms = nil
        elseif #atoms > 1 then atoms = union_atoms(index, atoms) end
        if atoms == nil then
          out[#out + 1] = g.rest
          if g.n > 1 then changed = true end
        elseif #atoms < g.n then
          changed = true
          for _, a in ipairs(atoms) do
            local t = { unpack(g.rest) }
            t[#t + 1] = a
            out[#out + 1] = t
          end
        else
          for _, a in ipairs(g.atoms) do
            local t = { unpack(g.rest) }
            t[#t + 1] = a
            out[#out + 1] = t
          end
        end
      end
      set = out
    end
  end
  return set
end

-- ---- one syscall ---------------------------------------------------------------------------

-- For the rules of one syscall (in order), the sets per action value other than `default`:
-- returns { {value, set}, ... } in first-seen order.
local function decide_sets(list, default, syscall)
  local conds, uncond = {}, nil
  for _, r in ipairs(list) do
    if r.args and #r.args > 0 then conds[#conds + 1] = r else uncond = r end
  end
  local by_action, order = {}, {}
  local function add(value, set)
    if #set == 0 then return end
    if not by_action[value] then by_action[value] = {}; order[#order + 1] = value end
    local dst = by_action[value]
    for _, t in ipairs(set) do dst[#dst + 1] = t end
  end
  for i, r in ipairs(conds) do
    if r.value ~= default then
      local set = normalize(r.args)
      for j = 1, i - 1 do
        if #set == 0 then break end
        if conds[j].value ~= r.value then
          local err
          set, err = without(set, conds[j].args, syscall)
          if not set then return nil, err end
        end
      end
      add(r.value, set)
    end
  end
  if uncond and uncond.value ~= default then
    local set = { {} }
    for _, c in ipairs(conds) do
      if #set == 0 then break end
      local err
      set, err = without(set, c.args, syscall)
      if not set then return nil, err end
    end
    add(uncond.value, set)
  end
  local out = {}
  for _, value in ipairs(order) do out[#out + 1] = { value, merge_terms(by_action[value]) } end
  return out
end

-- ---- argument widths ---------------------------------------------------------------------
-- A condition compares the bits of its argument the syscall reads (sx.core.arg): an int's
-- low 32, every argument's low 32 on i386 and arm, a umode_t's low 16. So per arch the sets
-- are worked out on those bits of the rules' values and masks (lows[index + 1], -1 for all
-- 64), then kept to [0, low] per argument, where every atom left means the same once a
-- runtime reads the profile with the same widths.

local function narrowed_rules(list, lows)
  local out = {}
  for i, r in ipairs(list) do
    local args
    if r.args then
      args = {}
      for k, c in ipairs(r.args) do
        local low = lows[c.index + 1]
        args[k] = { index = c.index, op = c.op, value = c.value & low, mask = c.mask and c.mask & low }
        -- a mask of every bit the argument has is an equality (the sets need not know
        -- that an argument stays below low, which a mask of all 64 bits would)
        if c.op == "masked_eq" and c.mask & low == low then args[k].op, args[k].mask = "eq", nil end
      end
    end
    out[i] = { value = r.value, args = args }
  end
  return out
end

-- The part of each term inside [0, low] per argument: an atom about values above it
-- either holds for every value the argument can have (ne, lt, le: dropped) or for none
-- (the term goes); a mask keeps the argument's bits (those above test bits that are 0,
-- as the value's are: a negation's masks have them set).
local function within_widths(set, lows)
  local out = {}
  for _, term in ipairs(set) do
    local kept, empty = {}, false
    for _, a in ipairs(term) do
      local low = lows[a.index + 1]
      if not ult(low, a.value) then
        if a.op == "masked_eq" and a.mask & low ~= a.mask then
          a = a.mask & low == low and { index = a.index, op = "eq", value = a.value }
              or { index = a.index, op = "masked_eq", value = a.value, mask = a.mask & low }
        end
        kept[#kept + 1] = a
      elseif a.op ~= "ne" and a.op ~= "lt" and a.op ~= "le" then empty = true; break end
    end
    if not empty then out[#out + 1] = kept end
  end
  return out
end

local function sets_for(list, default, syscall, lows)
  local sets, err = decide_sets(narrowed_rules(list, lows), default, syscall)
  if not sets then return nil, err end
  local out = {}
  for _, s in ipairs(sets) do
    -- (merging can make masks with bits above the argument's again: kept within it after)
    local set = within_widths(s[2], lows)
    if #set > 0 then set = within_widths(merge_terms(set), lows) end
    if #set > 0 then out[#out + 1] = { s[1], set } end
  end
  return out
end

-- The low bits each argument of `syscall` has on `arch` (-1: all 64), and a key for them.
local function widths_on(syscall, arch)
  local nr = core.syscall_number(syscall, arch)
  local lows, parts = {}, {}
  for i = 1, 6 do
    local bits = nr and select(3, core.arg(arch, nr, i - 1)) or 64
    lows[i] = bits == 64 and -1 or (1 << bits) - 1
    parts[i] = tostring(bits)
  end
  return lows, concat(parts, ",")
end

local function sets_key(sets)
  local parts = {}
  for _, s in ipairs(sets) do
    local terms = {}
    for _, t in ipairs(s[2]) do terms[#terms + 1] = term_key(t) end
    table.sort(terms)
    parts[#parts + 1] = s[1] .. ":" .. concat(terms, "|")
  end
  return concat(parts, ";")
end

-- The sets for one syscall on the filter's arches, one per way of reading its arguments;
-- when two of those disagree one profile cannot say both.
local function syscall_sets(list, default, syscall, arches)
  local first, first_arch, done = nil, nil, {}
  for _, arch in ipairs(arches) do
    local lows, key = widths_on(syscall, arch)
    if not done[key] then
      done[key] = true
      local sets, err = sets_for(list, default, syscall, lows)
      if not sets then return nil, err end
      if not first then
        first, first_arch = sets, arch
      elseif sets_key(sets) ~= sets_key(first) then
        return nil, error_.new("bad_rule", fmt("the conditions on '%s' mean different things " ..
          "on %s and %s, whose arguments have different widths, which one profile cannot " ..
          "say: export one profile per architecture", syscall, first_arch, arch),
          { syscall = syscall })
      end
    end
  end
  return first
end

-- ---- what libseccomp compares ----------------------------------------------------------
-- runc and crun hand a profile to libseccomp, which compares all 64 bits of an argument on
-- 64-bit ABIs and 32 on i386, arm and x32, where the kernel reads an int's low 32 (and a
-- umode_t's 16): a plain SCMP_CMP_EQ of 17 on socket's family misses socket(0x100000011),
-- an AF_PACKET socket, and an NE of 40 lets socket(0x100000028) make an AF_VSOCK one. So
-- an atom on an argument narrower than libseccomp's compare is written as masked_eq over
-- the argument's bits, which ignores the rest: eq as one, a range as the aligned blocks
-- that make it up (a term then becomes one entry per block). sx's own import reads those
-- the same.

local LIBSECCOMP_BITS = { i386 = 32, arm = 32, x32 = 32 }     -- 64 elsewhere

-- Atoms (alternatives) for `a` on an argument of low bits `low`: masked_eq within them;
-- {} when it never holds there, nil when it always does.
local function masked_atoms(a, low)
  if a.op == "masked_eq" then
    if a.mask & low == 0 then return nil end
    return { { index = a.index, op = "masked_eq", mask = a.mask & low, value = a.value & low } }
  end
  if a.op == "eq" then return { { index = a.index, op = "masked_eq", mask = low, value = a.value } } end
  local list = {}
  for _, iv in ipairs(intersect_intervals(intervals(a), { { 0, low } })) do
    for _, c in ipairs(interval_cubes(iv[1], iv[2], {})) do list[#list + 1] = { c[1] & low, c[2] } end
  end
  local out = {}
  for _, c in ipairs(merge_cubes(list)) do
    if c[1] == 0 then return nil end
    out[#out + 1] = { index = a.index, op = "masked_eq", mask = c[1], value = c[2] }
  end
  return out
end

-- The low bits to mask each argument of `syscall` to, per index (false: none): those of
-- an argument some arch reads on fewer bits than libseccomp compares there, which must
-- then be the same on every arch (a mask of all the bits libseccomp compares changes
-- nothing there); or nil, err.
local function libseccomp_masks(syscall, arches, used)
  local masks, lows_of, have = {}, {}, {}          -- (arches that lack the syscall: none)
  for _, arch in ipairs(arches) do
    if core.syscall_number(syscall, arch) then
      have[#have + 1] = arch
      lows_of[#have] = widths_on(syscall, arch)
    end
  end
  for i = 1, 6 do
    local by
    masks[i] = false
    for a, arch in ipairs(used[i] and have or {}) do
      local low, bits = lows_of[a][i], LIBSECCOMP_BITS[arch] or 64
      if low ~= -1 and (bits == 64 or ult(low, (1 << bits) - 1)) then masks[i], by = low, arch end
    end
    for a, arch in ipairs(masks[i] and have or {}) do
      if lows_of[a][i] ~= masks[i] then
        return nil, error_.new("bad_rule", fmt("argument %d of '%s' is read on different " ..
          "widths on %s and %s, which one profile for libseccomp cannot say: export one " ..
          "profile per architecture", i - 1, syscall, by, arch), { syscall = syscall })
      end
    end
  end
  return masks
end

-- A term's atoms on narrow arguments as masked_eq atoms: a list of terms (their union).
local function masked_terms(term, masks)
  local choices = {}
  for _, a in ipairs(term) do
    local low, alts = masks[a.index + 1], { a }
    if low then alts = masked_atoms(a, low) end        -- nil: it always holds there
    if alts then
      if #alts == 0 then return {} end
      choices[#choices + 1] = alts
    end
  end
  return product(choices)
end

-- Does term a hold whenever term b does (its atoms a subset of b's)? Such a b decides
-- nothing after a of the same action: the importer refuses it as a rule that never does.
local function covers(a, b)
  local have = {}
  for _, x in ipairs(b) do have[atom_key(x)] = true end
  for _, x in ipairs(a) do if not have[atom_key(x)] then return false end end
  return true
end

-- On x32 libseccomp compares only an argument's low 32 bits, where the kernel reads a
-- long or a pointer of the native calls on 64: prctl(4, 0x100000005) passes its EQ of 5.
-- A condition there that looks at the high word (anything but a masked_eq within the low
-- 32 bits) cannot be said, and the profile would be wider than the filter: refused.
local function high_word_unsaid(sets, syscall, arches)
  for _, arch in ipairs(arches) do
    if LIBSECCOMP_BITS[arch] == 32 and core.syscall_number(syscall, arch) then
      local lows = widths_on(syscall, arch)
      for _, s in ipairs(sets) do
        for _, t in ipairs(s[2]) do
          for _, a in ipairs(t) do
            if lows[a.index + 1] == -1 and not (a.op == "masked_eq" and a.mask >> 32 == 0) then
              return error_.new("bad_rule", fmt("argument %d of '%s' is read on 64 bits on " ..
                "%s, where libseccomp compares only its low 32, so a profile cannot say a " ..
                "condition on all of it: export without %s, or test the argument with a " ..
                "mask within its low 32 bits", a.index, syscall, arch, arch),
                { syscall = syscall, arch = arch })
            end
          end
        end
      end
    end
  end
end

local function for_libseccomp(sets, syscall, arches)
  local unsaid = high_word_unsaid(sets, syscall, arches)
  if unsaid then return nil, unsaid end
  local used = {}                                   -- the arguments a condition tests
  for _, s in ipairs(sets) do
    for _, t in ipairs(s[2]) do
      for _, a in ipairs(t) do used[a.index + 1] = true end
    end
  end
  local masks, err = libseccomp_masks(syscall, arches, used)
  if not masks then return nil, err end
  local any = false
  for i = 1, 6 do any = any or masks[i] end
  if not any then return sets end
  local out = {}
  for _, s in ipairs(sets) do
    local terms = {}
    for _, t in ipairs(s[2]) do
      for _, mt in ipairs(masked_terms(t, masks)) do
        local dup = false
        for _, kept in ipairs(terms) do dup = dup or covers(kept, mt) end
        if not dup then
          for k = #terms, 1, -1 do if covers(mt, terms[k]) then remove(terms, k) end end
          terms[#terms + 1] = mt
        end
      end
    end
    if #terms > 0 then out[#out + 1] = { s[1], merge_terms(terms) } end
  end
  return out
end

-- ---- what runc and crun add: the host's architecture, socketcall and ipc ---------------------
-- runc and crun keep the host's own architecture in the filter they build from a profile
-- (libseccomp's native arch) and give it the profile's rules: a profile for i386 alone
-- runs on an x86_64 host with the rules applied to x86_64 calls too, which a filter built
-- for i386 gives its bad-arch action.
local SIBLING = { i386 = "x86_64", x32 = "x86_64", arm = "aarch64" }

local function host_unsaid(arches)
  local have = {}
  for _, a in ipairs(arches) do have[a] = true end
  for _, a in ipairs(arches) do
    local host = SIBLING[a]
    if host and not have[host] then
      return error_.new("bad_rule", fmt("runc and crun add the host's own architecture to a " ..
        "profile's, with its rules: one for %s runs on a %s host with the rules applied to %s " ..
        "calls, which this filter gives its bad-arch action; build the filter for %s too " ..
        "(arches = { \"%s\", \"%s\" })", a, host, host, host, host, a))
    end
  end
end

-- On i386, ppc64le and s390x libseccomp gives a rule for socket, bind, ..., semctl, shmget,
-- ... to the multiplexer too (socketcall(SYS_SOCKET, args), ipc(SEMCTL, ...)), with the
-- condition on arg0 replaced by the call's number and the others tested on the
-- multiplexer's own registers (the real arguments lie in memory there): a conditional
-- allow of socket lets socketcall(SYS_SOCKET, ...) through whatever the family (checked
-- through libseccomp 2.5.4 on i386 and ppc64le; s390x has the same code). Such a rule is
-- refused where it would be more permissive than the filter's own answer to that call.
local MUX_ARCHES, SUBCALL = doors.ARCHES, doors.SUBCALL

local rank = action.rank     -- the kernel takes the lowest (the most restrictive)

local function mux_unsaid(f, name, sets)
  local sub = SUBCALL[name]
  if not sub then return end
  local mux, n = sub[1], sub[2]
  local mux_conditional = false
  for _, r in ipairs(f.rules) do
    if r.syscall == mux and r.args and next(r.args) then mux_conditional = true end
  end
  for _, arch in ipairs(f.arches) do
    if MUX_ARCHES[arch] and core.syscall_number(mux, arch) then
      local theirs = action.value(f:eval(mux, { n, 0, 0, 0, 0, 0 }, arch))
      for _, s in ipairs(sets) do
        local conditional = false
        for _, t in ipairs(s[2]) do conditional = conditional or #t > 0 end
        if conditional and (mux_conditional or rank(s[1]) > rank(theirs)) then
          return error_.new("bad_rule", fmt("on %s libseccomp gives the rules for '%s' to " ..
            "%s(%d, ...) too, whose arguments lie in memory there: it would test this rule's " ..
            "conditions on other registers, and let that call through where this filter " ..
            "answers %s; export without %s", arch, name, mux, n,
            tostring(action.canonical(theirs)), arch), { syscall = name, arch = arch })
        end
      end
    end
  end
end

-- ---- JSON ---------------------------------------------------------------------------------

local function u64(v)
  if v >= 0 then return fmt("%d", v) end
  local q = (v >> 1) // 5
  return fmt("%d%d", q, v - q * 10)
end

local OP_NAME = { eq = "SCMP_CMP_EQ", ne = "SCMP_CMP_NE", lt = "SCMP_CMP_LT", le = "SCMP_CMP_LE",
                  gt = "SCMP_CMP_GT", ge = "SCMP_CMP_GE", masked_eq = "SCMP_CMP_MASKED_EQ" }

local PLAIN = { [0x7fff0000] = "SCMP_ACT_ALLOW", [0x80000000] = "SCMP_ACT_KILL_PROCESS",
                [0x00000000] = "SCMP_ACT_KILL_THREAD", [0x00030000] = "SCMP_ACT_TRAP",
                [0x7ffc0000] = "SCMP_ACT_LOG", [0x7fc00000] = "SCMP_ACT_NOTIFY" }

-- The SCMP_ACT_* name for a kernel action value, and its errnoRet (ERRNO and TRACE).
local function action_of(value)
  if PLAIN[value] then return PLAIN[value] end
  if value & 0xffff0000 == 0x00050000 then return "SCMP_ACT_ERRNO", value & 0xffff end
  if value & 0xffff0000 == 0x7ff00000 then return "SCMP_ACT_TRACE", value & 0xffff end
  return nil
end

-- An entry's args: by index, masked_eq as value = mask, valueTwo = the masked value.
local function args_of(term)
  sort(term, function(a, b) return a.index < b.index end)
  local out = {}
  for i, a in ipairs(term) do
    local value, two = a.value, 0
    if a.op == "masked_eq" then value, two = a.mask, a.value end
    out[i] = { index = a.index, value = value, valueTwo = two, op = OP_NAME[a.op] }
  end
  return out
end

local function args_key(args)
  local parts = {}
  for i, a in ipairs(args) do parts[i] = fmt("%d %s %d %d", a.index, a.op, a.value, a.valueTwo) end
  return concat(parts, ",")
end

-- profile(f, scmp_arch_names) -> the profile as data, or nil, err:
--   { defaultAction =, defaultErrnoRet = n|nil, architectures = { "SCMP_ARCH_..." },
--     syscalls = { { names = {...}, action =, errnoRet = n|nil, args = { {index, value,
--     valueTwo, op}, ... } }, ... } }
-- The JSON and YAML writers (export here, sx.spo) only print it.
function M.profile(f, scmp_arch)
  if not f.rules then
    return nil, error_.new("no_rules", "this filter was loaded from raw BPF and has no rules to export")
  end
  local default = action.value(f.default)
  local primary = f.arches[1]
  local unsaid = host_unsaid(f.arches)
  if unsaid then return nil, unsaid end

  -- rules grouped by syscall name, in first-seen order
  local groups, order = {}, {}
  for i, r in ipairs(f.rules) do
    local name = r.syscall
    if type(name) ~= "string" then
      name = core.syscall_name(name, primary)
      if not name then
        return nil, error_.new("bad_rule", fmt("rule %d: syscall number %d has no name on %s, " ..
          "and profiles name syscalls", i, r.syscall, primary), { rule = i, syscall = r.syscall })
      end
    end
    if not groups[name] then groups[name] = {}; order[#order + 1] = name end
    local g = groups[name]
    g[#g + 1] = { value = action.value(r.action), args = r.args }
  end

  -- entries keyed by action + args, names gathered in first-seen order
  local entries, by_key = {}, {}
  for _, name in ipairs(order) do
    local sets, err = syscall_sets(groups[name], default, name, f.arches)
    if sets then sets, err = for_libseccomp(sets, name, f.arches) end
    if sets then err = mux_unsaid(f, name, sets); if err then sets = nil end end
    if not sets then return nil, err end
    local count = #entries
    for _, s in ipairs(sets) do count = count + #s[2] end
    if count > MAX_TERMS then
      return nil, error_.new("too_big", fmt("the profile needs more than %d entries (at '%s'), " ..
        "more than one BPF program can hold", MAX_TERMS, name), { syscall = name })
    end
    for _, s in ipairs(sets) do
      local value, set = s[1], s[2]
      local uncond = false
      for _, t in ipairs(set) do if #t == 0 then uncond = true end end
      if uncond then set = { {} } end
      local seen = {}
      for _, t in ipairs(set) do
        local args = args_of(t)
        local key = value .. "|" .. args_key(args)
        if not seen[key] then
          seen[key] = true
          local e = by_key[key]
          if not e then
            local act, ret = action_of(value)
            e = { names = {}, action = act, errnoRet = ret, args = args }
            by_key[key] = e
            entries[#entries + 1] = e
          end
          e.names[#e.names + 1] = name
        end
      end
    end
  end

  local arches = {}
  for i, a in ipairs(f.arches) do arches[i] = scmp_arch[a] end
  local act, ret = action_of(default)
  return { defaultAction = act, defaultErrnoRet = ret, architectures = arches, syscalls = entries }
end

-- '"action": "SCMP_ACT_ERRNO", "errnoRet": 1'
local function action_json(key, act, ret_key, ret)
  if ret then return fmt('"%s": "%s", "%s": %d', key, act, ret_key, ret) end
  return fmt('"%s": "%s"', key, act)
end

-- export(f [, opts], scmp_arch_names) -> JSON text or nil, err
function M.export(f, opts, scmp_arch)
  if not filter.is(f) then error_.raise("oci.export takes a filter") end
  error_.check_options(opts, {}, "oci.export")
  local p, err = M.profile(f, scmp_arch)
  if not p then return nil, err end
  local arches = {}
  for i, a in ipairs(p.architectures) do arches[i] = cjson.encode(a) end
  local out = { "{", "  " .. action_json("defaultAction", p.defaultAction, "defaultErrnoRet", p.defaultErrnoRet) .. ",",
                '  "architectures": [' .. concat(arches, ", ") .. "],",
                '  "syscalls": [' }
  for i, e in ipairs(p.syscalls) do
    local names = {}
    for k, n in ipairs(e.names) do names[k] = cjson.encode(n) end
    local head = action_json("action", e.action, "errnoRet", e.errnoRet)
    out[#out + 1] = "    {"
    out[#out + 1] = '      "names": [' .. concat(names, ", ") .. "],"
    if #e.args == 0 then
      out[#out + 1] = "      " .. head
    else
      out[#out + 1] = "      " .. head .. ","
      out[#out + 1] = '      "args": ['
      for k, a in ipairs(e.args) do
        out[#out + 1] = fmt('        { "index": %d, "value": %s, "valueTwo": %s, "op": "%s" }%s',
                            a.index, u64(a.value), u64(a.valueTwo), a.op, k < #e.args and "," or "")
      end
      out[#out + 1] = "      ]"
    end
    out[#out + 1] = "    }" .. (i < #p.syscalls and "," or "")
  end
  out[#out + 1] = "  ]"
  out[#out + 1] = "}"
  return concat(out, "\n") .. "\n"
end

return M

-- sx.conditions: argument conditions written as text, parsed with LPeg.
--
--   "arg0 == AF_UNIX || arg0 == AF_INET"     "arg2 & PROT_EXEC == 0"
--   "arg0 & CLONE_NEWUSER"                   "!(arg1 >= 0x1000 && arg1 < 0x2000)"
--
-- An argument is argN (0..5) or its name ("family", "flags" for clone_flags: see
-- sx.rules.resolver), which must mean one index on every arch of the filter.
-- Comparisons are == != < <= > >= on the argument, unsigned (on the bits the syscall reads
-- of it: see the compiler). `argN & M == V`
-- means (argN & M) == V (the mask binds tighter than the comparison, unlike C); `argN & M`
-- alone means (argN & M) != 0 and `argN` alone argN != 0. Values are numbers (decimal,
-- 0x hex, 0o or C-style leading-zero octal, 0b binary; a leading - is two's complement),
-- named constants from the build machine's headers (sx.constants), and | ~ and parentheses
-- between them. && || ! and parentheses combine conditions. O_*, MAP_* and ioctl names
-- have values that differ between architectures; for a filter with an architecture outside
-- the build machine's family (x86_64/i386/x32, aarch64/arm) they are refused: write numbers.
--
-- compile(text) turns the expression into disjunctive normal form over what a seccomp rule
-- can test (eq ne lt le gt ge masked_eq, all of which must hold): a list of alternatives,
-- each a list of conditions; `||` becomes several rules with the same action. Two things
-- have no single-condition form and are lowered exactly:
--   (a & M) != V  ->  one alternative per bit b of M: masked_eq(b, ~V & b)  (some bit differs)
--   (a & M) != 0  ->  one alternative per bit b of M: masked_eq(b, b)       (some bit is set)
-- Negation is pushed down to the comparisons (De Morgan), where every operator has an
-- opposite. A masked argument can only be compared with == and !=.

local lpeg = require "lpeg"
local groups = require "sx.groups"
local rules_ = require "sx.rules"

local P, R, S, C, Cc, Cp, Ct, Cmt, Carg, V =
  lpeg.P, lpeg.R, lpeg.S, lpeg.C, lpeg.Cc, lpeg.Cp, lpeg.Ct, lpeg.Cmt, lpeg.Carg, lpeg.V
local type, ipairs, pairs, tostring, tointeger, concat, sort, pcall, require =
  type, ipairs, pairs, tostring, math.tointeger, table.concat, table.sort, pcall, require

local M = {}

M.MAX_ALTERNATIVES = 256

-- Named constants, generated at build time; conditions without names work without them.
local constants
local function constant_module()
  if constants == nil then
    local ok, t = pcall(require, "sx.constants")
    constants = ok and type(t) == "table" and type(t.values) == "table" and t or false
  end
  return constants or nil
end

-- constants() -> name -> value, and the architecture the values are for.
function M.constants()
  local c = constant_module()
  if not c then return {}, nil end
  return c.values, c.arch
end

-- These families have values that differ between architectures (O_DIRECTORY on arm,
-- MAP_NORESERVE and the tty ioctls on ppc64le, ...): the headers' value is only right for
-- the build machine's architecture family.
local ARCH_DEPENDENT = { "^O_", "^MAP_", "^TIOC", "^FIO", "^TC[A-Z]", "^SIOC" }
local FAMILY = { x86_64 = "x86", i386 = "x86", x32 = "x86", aarch64 = "arm", arm = "arm" }

local function foreign_arch(name, arches, host)
  local dependent = false
  for _, pat in ipairs(ARCH_DEPENDENT) do
    if name:find(pat) then dependent = true end
  end
  if not dependent then return nil end
  for _, a in ipairs(arches or {}) do
    if (FAMILY[a] or a) ~= (FAMILY[host] or host) then return a end
  end
  return nil
end

---------------------------------------------------------------------------- parsing

-- Each token notes how far the parse got and what it expected there, for the error.
local function note(what)
  return Cmt(Carg(1), function(_, i, st)
    if i > st.far then st.far, st.expect = i, { what }
    elseif i == st.far then st.expect[#st.expect + 1] = what end
    return true
  end)
end

local space = S(" \t\r\n")^0
local idchar = R("az", "AZ", "09") + P"_"
local function tok(p, what) return space * note(what) * p end

local function fold_left(tag)
  return function(first, ...)
    local node = first
    local rest = { ... }
    for k = 1, #rest do node = { tag = tag, node, rest[k] } end
    return node
  end
end

local number = Cp() * C(
    P"0" * S"xX" * R("09", "af", "AF")^1
  + P"0" * S"bB" * S"01"^1
  + P"0" * S"oO" * R"07"^1
  + R"09"^1) * -idchar / function(pos, text) return { tag = "num", text = text, pos = pos } end
local name = Cp() * -(P"arg" * R"09"^1 * -idchar) * C((R("az", "AZ") + P"_") * idchar^0) /
  function(pos, text) return { tag = "name", name = text, pos = pos } end
-- a name, when it is not the start of a value (a | b): an argument's name, or a constant
-- the lowering tells apart
local bare_name = name * -(space * P"|" * -P"|")
local arg = Cp() * P"arg" * C(R"09"^1) * -idchar /
  function(pos, n) return { tag = "arg", index = tointeger(n), pos = pos } end

local OPS = { ["=="] = "eq", ["!="] = "ne", ["<"] = "lt", ["<="] = "le", [">"] = "gt",
              [">="] = "ge" }
local cmpop = Cp() * C(P"==" + P"!=" + P"<=" + P">=" + P"<" + P">")

local grammar = P{ "Cond",
  Cond = V"Or" * tok(P(-1), "end of condition"),
  Or = V"And" * (tok(P"||", "'||'") * V"And")^0 / fold_left("or"),
  And = V"Not" * (tok(P"&&", "'&&'") * V"Not")^0 / fold_left("and"),
  Not = tok(Cp() * P"!" * -P"=", "'!'") * V"Not" / function(pos, x) return { tag = "not", x, pos = pos } end
      + V"Primary",
  -- a comparison first, so "(arg0 & 3) == 1" reads as C programmers mean it
  Primary = V"Compare"
          + tok(P"(", "'('") * V"Or" * tok(P")", "')'"),
  Compare = V"Operand" * (tok(cmpop, "a comparison (== != < <= > >=)") * V"Operand")^-1 /
    function(lhs, pos, op, rhs)
      if not op then return { tag = "truth", lhs, pos = lhs.pos } end
      return { tag = "cmp", op = OPS[op], lhs, rhs, pos = pos }
    end,
  Operand = V"ArgTerm" + V"NameTerm" + V"ArgParen" + V"Value",
  ArgParen = tok(P"(", "'('") * (V"ArgTerm" + V"NameTerm" + V"ArgParen") * tok(P")", "')'"),
  ArgTerm = tok(arg, "an argument (arg0..arg5 or its name)") *
            (tok(P"&" * -P"&", "'&'") * V"Value")^-1 /
              function(a, mask) a.mask = mask; return a end,
  NameTerm = tok(bare_name, "an argument's name") *
             (tok(P"&" * -P"&", "'&'") * V"Value")^-1 /
               function(a, mask) a.mask = mask; return a end,
  Value = V"Atom" * (tok(P"|" * -P"|", "'|'") * V"Atom")^0 / fold_left("bor"),
  Atom = tok(Cp() * P"~", "'~'") * V"Atom" / function(pos, x) return { tag = "bnot", x, pos = pos } end
       + tok(Cp() * P"-", "'-'") * V"Atom" / function(pos, x) return { tag = "neg", x, pos = pos } end
       + tok(P"(", "'('") * V"Value" * tok(P")", "')'")
       + tok(number, "a number")
       + tok(name, "a constant name"),
}

-- The error text: the sentence, then the condition and a caret under the column.
local function located(text, pos, msg)
  local line = text:gsub("[\r\n\t]", " ")
  return ("column %d: %s\n    %s\n    %s^"):format(pos, msg, line, (" "):rep(pos - 1)), pos
end

local function syntax_error(text, st)
  local pos = st.far
  local found
  if pos > #text then found = "the condition ends"
  else found = ("unexpected '%s'"):format(text:match("^[%w_]+", pos) or text:sub(pos, pos)) end
  local seen, list = {}, {}
  for _, w in ipairs(st.expect) do
    if not seen[w] then seen[w] = true; list[#list + 1] = w end
  end
  return located(text, pos, ("syntax error: %s; expected %s"):format(
    found, #list > 1 and ("one of " .. concat(list, ", ")) or list[1] or "more"))
end

-- parse(text) -> tree, or nil, message, column.
local parsed = setmetatable({}, { __mode = "v" })   -- trees, kept while in use
function M.parse(text)
  if type(text) == "string" and parsed[text] then return parsed[text] end
  local tree, msg, pos = M.parse_fresh(text)
  if tree then parsed[text] = tree end
  return tree, msg, pos
end

function M.parse_fresh(text)
  if type(text) ~= "string" then return nil, "a condition is a string", 1 end
  local st = { far = 1, expect = {} }
  local ok, tree = pcall(lpeg.match, grammar, text, 1, st)
  if not ok then   -- LPeg's backtrack stack: hundreds of nested parentheses or !s
    return nil, located(text, 1, "the condition is nested too deeply")
  end
  if not tree then return nil, syntax_error(text, st) end
  return tree
end

---------------------------------------------------------------------------- values

local function parse_number(text)
  local digits, base = text:match("^0[xX](%x+)$"), 16
  if not digits then digits, base = text:match("^0[bB]([01]+)$"), 2 end
  if not digits then digits, base = text:match("^0[oO]([0-7]+)$"), 8 end
  if not digits then digits, base = text:match("^0([0-7]+)$"), 8 end
  if not digits then
    if text:match("^0%d+$") then return nil, "a number starting with 0 is octal: digits 0-7" end
    return rules_.integer64(text)
  end
  local v, bits = 0, ({ [2] = 1, [8] = 3, [16] = 4 })[base]
  for d in digits:gmatch(".") do
    if v >> (64 - bits) ~= 0 then return nil, ("'%s' does not fit 64 bits"):format(text) end
    v = (v << bits) | tointeger(tonumber(d, base))
  end
  return v
end

-- An argument name's index for the rule's syscall, or nil.
local function arg_index(node, ctx)
  if node.tag ~= "name" or not ctx.resolver then return nil end
  return (ctx.resolver.resolve(node.name))
end

-- value(node, ctx) -> integer, or nil, message, pos. ctx: {arches, resolver}.
local function value(node, ctx)
  local arches = ctx.arches
  local tag = node.tag
  if node.mask and tag == "name" then
    return nil, ("'%s' is no argument here, and only an argument takes a mask")
                :format(node.name), node.pos
  end
  if tag == "num" then
    local v, msg = parse_number(node.text)
    if not v then return nil, msg, node.pos end
    return v
  elseif tag == "name" then
    if node.name:match("^arg%d+$") then
      return nil, ("there is no '%s': the arguments are arg0..arg5"):format(node.name), node.pos
    end
    local c = constant_module()
    if not c then
      return nil, ("named constants are not available (the build makes sx.constants), " ..
                   "so '%s' is unknown"):format(node.name), node.pos
    end
    local t = c.values
    local v = t[node.name]
    local other = v ~= nil and foreign_arch(node.name, arches, c.arch)
    if other then
      return nil, ("'%s' has the value %s headers give it, which may differ on %s: " ..
                   "write the number for %s"):format(node.name, c.arch, other, other), node.pos
    end
    if v == nil then
      local names = {}
      for k in pairs(t) do names[#names + 1] = k end
      sort(names)
      local near = groups.nearest(node.name, names)
      if ctx.resolver then
        local index, msg, why = ctx.resolver.resolve(node.name)
        if index then return nil, "an argument cannot be part of a value", node.pos end
        -- an argument's name that these arches cannot agree on, or a lower-case name (a
        -- misspelt argument) unless it is closer to a constant than to any argument
        local near_arg = groups.nearest(node.name, ctx.resolver.names())
        if why == "differs" or (not node.name:find("%u") and not node.name:find("^arg%d")
                                and (near_arg or not near)) then
          return nil, msg, node.pos
        end
      end
      local hint = near and (" (did you mean '%s'?)"):format(near)
                   or node.name:find("^arg") and " (the arguments are arg0..arg5)" or ""
      return nil, ("unknown constant '%s'"):format(node.name) .. hint, node.pos
    end
    return v
  elseif tag == "bor" then
    local a, msg, pos = value(node[1], ctx)
    if not a then return nil, msg, pos end
    local b
    b, msg, pos = value(node[2], ctx)
    if not b then return nil, msg, pos end
    return a | b
  elseif tag == "bnot" or tag == "neg" then
    local a, msg, pos = value(node[1], ctx)
    if not a then return nil, msg, pos end
    return tag == "bnot" and ~a or -a
  elseif tag == "arg" then
    return nil, "an argument cannot be part of a value", node.pos
  end
  return nil, "a value is a number or a constant", node.pos or 1
end

---------------------------------------------------------------------------- lowering

local TRUE, FALSE = { {} }, {}
local OPPOSITE = { eq = "ne", ne = "eq", lt = "ge", ge = "lt", le = "gt", gt = "le" }
local MIRROR = { eq = "eq", ne = "ne", lt = "gt", gt = "lt", le = "ge", ge = "le" }

local Fail = {}   -- raised (as a table) inside the lowering, caught in compile

local function fail(msg, pos) error({ Fail, msg, pos }, 0) end

local function check_arg(a)
  if a.index < 0 or a.index > 5 then
    fail(("there is no 'arg%d': the arguments are arg0..arg5"):format(a.index), a.pos)
  end
end

local function get_value(node, ctx)
  local v, msg, pos = value(node, ctx)
  if not v then fail(msg, pos) end
  return v
end

-- The argument node stands for, when it is one: argN, or a name the syscall has.
local function as_arg(node, ctx)
  if node.tag == "arg" then return node end
  local index = arg_index(node, ctx)
  if index then return { tag = "arg", index = index, mask = node.mask, pos = node.pos } end
  return nil
end

-- (a & mask) != v, exactly: some bit of the mask differs from v's.
local function masked_ne(index, mask, v)
  if v & ~mask ~= 0 then return TRUE end   -- v has a bit the mask clears: never equal
  local out = {}
  for b = 0, 63 do
    local bit = 1 << b
    if mask & bit ~= 0 then
      out[#out + 1] = { { index = index, op = "masked_eq", mask = bit, value = ~v & bit } }
    end
  end
  return out
end

-- One comparison of argument `a` (with a.mask or not) against v, as DNF.
local function comparison(a, op, v, pos, ctx)
  if not a.mask then
    -- unsigned: nothing is below 0 or above all ones
    if (op == "lt" and v == 0) or (op == "gt" and v == -1) then return FALSE end
    if (op == "ge" and v == 0) or (op == "le" and v == -1) then return TRUE end
    return { { { index = a.index, op = op, value = v } } }
  end
  local mask = get_value(a.mask, ctx)
  if op == "eq" then
    if v & ~mask ~= 0 then return FALSE end
    return { { { index = a.index, op = "masked_eq", mask = mask, value = v } } }
  elseif op == "ne" then
    return masked_ne(a.index, mask, v)
  end
  fail("a masked argument can only be compared with == or != " ..
       "(seccomp has no ordered masked comparison)", pos)
end

local function product(x, y, pos)
  if #x * #y > M.MAX_ALTERNATIVES then
    fail(("the condition expands to more than %d rules"):format(M.MAX_ALTERNATIVES), pos)
  end
  local out = {}
  for _, p in ipairs(x) do
    for _, q in ipairs(y) do
      local conj = {}
      for _, c in ipairs(p) do conj[#conj + 1] = c end
      for _, c in ipairs(q) do conj[#conj + 1] = c end
      out[#out + 1] = conj
    end
  end
  return out
end

local function union(x, y, pos)
  if #x + #y > M.MAX_ALTERNATIVES then
    fail(("the condition expands to more than %d rules"):format(M.MAX_ALTERNATIVES), pos)
  end
  local out = {}
  for _, p in ipairs(x) do out[#out + 1] = p end
  for _, q in ipairs(y) do out[#out + 1] = q end
  return out
end

-- dnf(node, negated, ctx) -> list of alternatives, each a list of conditions.
local function dnf(node, neg, ctx)
  local tag = node.tag
  if tag == "not" then return dnf(node[1], not neg, ctx) end
  if tag == "and" or tag == "or" then
    local x, y = dnf(node[1], neg, ctx), dnf(node[2], neg, ctx)
    if (tag == "and") ~= neg then return product(x, y, node[2].pos) end
    return union(x, y, node[2].pos)
  end
  if tag == "truth" then
    local a = as_arg(node[1], ctx)
    if not a then
      get_value(node[1], ctx)   -- a misspelt name ("arg0x", "AF_UNX") says so first
      fail("a condition tests an argument (arg0..arg5 or its name), e.g. 'arg0 == 1'", node.pos)
    end
    check_arg(a)
    return comparison(a, neg and "eq" or "ne", 0, node.pos, ctx)
  end
  if tag == "cmp" then
    local lhs, rhs, op = as_arg(node[1], ctx), as_arg(node[2], ctx), node.op
    local lnode, rnode = node[1], node[2]
    if not lhs and rhs then
      lhs, rhs, op, lnode, rnode = rhs, lhs, MIRROR[op], rnode, lnode
    end
    if not lhs then
      get_value(lnode, ctx)
      get_value(rnode, ctx)
      fail("a comparison needs an argument (arg0..arg5 or its name) on one side", node.pos)
    end
    if rhs then
      fail("an argument can only be compared with a value, not with another argument", rhs.pos)
    end
    check_arg(lhs)
    if neg then op = OPPOSITE[op] end
    return comparison(lhs, op, get_value(rnode, ctx), node.pos, ctx)
  end
  fail("a condition tests an argument (arg0..arg5), e.g. 'arg0 == 1'", node.pos or 1)
end

local function key(c)
  return ("%d %s %d %d"):format(c.index, c.op, c.value, c.mask or 0)
end

-- Does the alternative with condition keys `a` (a set) hold whenever `b` does?
local function absorbs(a, b)
  for k in pairs(a) do
    if not b[k] then return false end
  end
  return true
end

-- Drop repeated conditions inside an alternative, and alternatives that an earlier or
-- smaller one makes redundant (x || x && y is x): the rule such an alternative becomes
-- could never decide anything, which the compiler refuses.
local function tidy(alts)
  local out, sets = {}, {}
  for _, conj in ipairs(alts) do
    local conds, here = {}, {}
    for _, c in ipairs(conj) do
      local k = key(c)
      if not here[k] then here[k] = true; conds[#conds + 1] = c end
    end
    out[#out + 1], sets[#sets + 1] = conds, here
  end
  local kept = {}
  for i = 1, #out do
    local redundant = false
    for j = 1, #out do
      if j ~= i and absorbs(sets[j], sets[i]) and (#out[j] < #out[i] or j < i) then
        redundant = true
        break
      end
    end
    if not redundant then kept[#kept + 1] = out[i] end
  end
  return kept
end

-- compile(text [, arches [, resolver]]) -> alternatives ({{cond, ...}, ...}), or nil,
-- message, column. The message names the column and shows it with a caret under the
-- condition. With `arches`, the filter's architectures, constants whose value differs
-- between architectures are refused unless every one is in the build machine's family.
-- With `resolver` (sx.rules.resolver for the rule's syscall), arguments may be named.
function M.compile(text, arches, resolver)
  local tree, msg, pos = M.parse(text)
  if not tree then return nil, msg, pos end
  local ok, result = pcall(dnf, tree, false, { arches = arches, resolver = resolver })
  if not ok then
    if type(result) == "table" and result[1] == Fail then
      return nil, located(text, result[3] or 1, result[2])
    end
    error(result, 0)
  end
  result = tidy(result)
  if #result == 0 then
    return nil, located(text, 1, "this condition is never true " ..
                                 "(comparisons are unsigned 64-bit: nothing is < 0)")
  end
  for _, conj in ipairs(result) do
    if #conj == 0 then
      return nil, located(text, 1, "this condition is always true; leave it out instead")
    end
  end
  return result
end

return M

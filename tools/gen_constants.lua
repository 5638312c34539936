-- tools/gen_constants.lua: make the Lua module sx.constants, the named constants text
-- conditions may use (AF_*, SOCK_*, PROT_*, MAP_*, O_*, CLONE_*, PR_*, personality values,
-- common ioctl requests), from the system headers, so no value is typed by hand.
--
--   lua5.4 tools/gen_constants.lua CC OUTPUT.lua
--
-- It asks the C compiler for the macros the headers define (`CC -E -dM`) and for the
-- preprocessed text (`CC -E`, for the enums glibc uses for SOCK_* and personality values),
-- then evaluates each candidate as a simple integer expression: numbers with C suffixes,
-- other macros and enumerators, casts to integer types, parentheses and | & ^ << >> + - ~.
-- A candidate it cannot evaluate (function-like macros, pointers) is left out. It fails
-- when a constant policies depend on is missing, rather than build a module without it.

local io, os, string, table, ipairs, pairs, tonumber, tointeger, error =
  io, os, string, table, ipairs, pairs, tonumber, math.tointeger, error

local HEADERS = {
  "sys/socket.h", "netinet/in.h", "sys/mman.h", "fcntl.h", "sched.h", "linux/sched.h",
  "sys/prctl.h", "sys/personality.h", "sys/ioctl.h",
}

-- The families kept, as Lua patterns over the name.
local FAMILIES = {
  "^AF_", "^SOCK_", "^PROT_", "^MAP_", "^O_", "^CLONE_", "^PR_", "^PER_",
  "^TIOC", "^FIO", "^TC[A-Z]", "^SIOC",
  -- personality flags
  "^UNAME26$", "^ADDR_NO_RANDOMIZE$", "^FDPIC_FUNCPTRS$", "^MMAP_PAGE_ZERO$",
  "^ADDR_COMPAT_LAYOUT$", "^READ_IMPLIES_EXEC$", "^ADDR_LIMIT_32BIT$", "^SHORT_INODE$",
  "^WHOLE_SECONDS$", "^STICKY_TIMEOUTS$", "^ADDR_LIMIT_3GB$",
}

-- Without these the module is not worth having: fail the build instead.
local MUST_HAVE = {
  "AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "SOCK_STREAM", "SOCK_DGRAM",
  "SOCK_CLOEXEC", "PROT_READ", "PROT_WRITE", "PROT_EXEC", "MAP_SHARED", "MAP_PRIVATE",
  "MAP_ANONYMOUS", "O_RDONLY", "O_WRONLY", "O_RDWR", "O_CREAT", "O_CLOEXEC",
  "CLONE_NEWUSER", "CLONE_NEWNS", "CLONE_THREAD", "PR_SET_NO_NEW_PRIVS",
  "PR_SET_SECCOMP", "PER_LINUX", "ADDR_NO_RANDOMIZE", "TIOCSTI", "TIOCGWINSZ",
  "FIONREAD", "FIOCLEX", "TCGETS",
}

local function fail(msg)
  io.stderr:write("gen_constants: ", msg, "\n")
  os.exit(1)
end

local cc, output = arg[1], arg[2]
if not cc or not output then fail("usage: gen_constants.lua CC OUTPUT.lua") end

local source = output .. ".h.c"
do
  local f = assert(io.open(source, "w"))
  f:write("#define _GNU_SOURCE 1\n")
  for _, h in ipairs(HEADERS) do f:write("#include <", h, ">\n") end
  f:close()
end

local function run(flags)
  local p = assert(io.popen(("'%s' %s '%s'"):format(cc, flags, source)))
  local text = p:read("a")
  local ok = p:close()
  if not ok then fail(("'%s %s' failed"):format(cc, flags)) end
  return text
end

-- Object-like macros: name -> replacement text.
local defs = {}
for name, body in run("-E -dM"):gmatch("#define ([%a_][%w_]*) ([^\n]*)") do
  defs[name] = body
end

-- Enumerators: name -> expression text (or the previous one's + 1).
local enums = {}
local pre = run("-E"):gsub("\n#[^\n]*", "\n")
for body in pre:gmatch("enum%s*[%w_]*%s*(%b{})") do
  local prev
  for item in body:sub(2, -2):gmatch("[^,]+") do
    local name, expr = item:match("^%s*([%a_][%w_]*)%s*=%s*(.-)%s*$")
    if not name then name = item:match("^%s*([%a_][%w_]*)%s*$") end
    if name then
      if not expr then expr = prev and ("(" .. prev .. ") + 1") or "0" end
      enums[name] = expr
      prev = name
    end
  end
end

-- Evaluate one expression in the small C subset above; nil when it cannot.
local value_of
local function evaluate(text, depth)
  local toks, i = {}, 1
  while i <= #text do
    local c = text:sub(i, i)
    if c:match("%s") then i = i + 1
    else
      local num = text:match("^0[xX]%x+", i) or text:match("^%d+", i)
      if num then
        local j = i + #num
        local suffix = text:match("^[uUlL]*", j)
        j = j + #suffix
        local v
        if num:match("^0[xX]") then v = tointeger(tonumber(num))
        elseif num:match("^0%d") then v = tointeger(tonumber(num:sub(2), 8))
        else v = tointeger(tonumber(num)) end
        if not v then return nil end
        toks[#toks + 1] = { "num", v }
        i = j
      else
        local id = text:match("^[%a_][%w_]*", i)
        if id then toks[#toks + 1] = { "id", id }; i = i + #id
        else
          local op = text:match("^<<", i) or text:match("^>>", i) or text:match("^[()|&^~+%-]", i)
          if not op then return nil end
          toks[#toks + 1] = { op }
          i = i + #op
        end
      end
    end
  end
  local pos = 1
  local function peek() return toks[pos] and toks[pos][1] end
  local TYPES = { int = true, unsigned = true, long = true, short = true, char = true,
                  signed = true, __u32 = true, __u64 = true, __s32 = true, __s64 = true,
                  uint32_t = true, uint64_t = true, int32_t = true, int64_t = true }
  local binary
  local function unary()
    local t = toks[pos]
    if not t then return nil end
    if t[1] == "num" then pos = pos + 1; return t[2] end
    if t[1] == "id" then
      pos = pos + 1
      return value_of(t[2], depth + 1)
    end
    if t[1] == "~" then pos = pos + 1; local v = unary(); return v and ~v end
    if t[1] == "-" then pos = pos + 1; local v = unary(); return v and -v end
    if t[1] == "+" then pos = pos + 1; return unary() end
    if t[1] == "(" then
      -- a cast to an integer type, or a parenthesised expression
      local j, cast = pos + 1, false
      while toks[j] and toks[j][1] == "id" and TYPES[toks[j][2]] do j, cast = j + 1, true end
      if cast and toks[j] and toks[j][1] == ")" then pos = j + 1; return unary() end
      pos = pos + 1
      local v = binary(0)
      if not v or peek() ~= ")" then return nil end
      pos = pos + 1
      return v
    end
    return nil
  end
  local PREC = { ["|"] = 1, ["^"] = 2, ["&"] = 3, ["<<"] = 4, [">>"] = 4, ["+"] = 5, ["-"] = 5 }
  function binary(min)
    local left = unary()
    if not left then return nil end
    while true do
      local op = peek()
      local p = PREC[op]
      if not p or p <= min then return left end
      pos = pos + 1
      local right = binary(p)
      if not right then return nil end
      if op == "|" then left = left | right
      elseif op == "^" then left = left ~ right
      elseif op == "&" then left = left & right
      elseif op == "<<" then left = left << right
      elseif op == ">>" then left = left >> right
      elseif op == "+" then left = left + right
      else left = left - right end
    end
  end
  local v = binary(0)
  if pos ~= #toks + 1 then return nil end
  return v
end

local cache, busy = {}, {}
function value_of(name, depth)
  if cache[name] ~= nil then return cache[name] or nil end
  if busy[name] or depth > 50 then return nil end   -- SOCK_STREAM is #defined to itself
  busy[name] = true
  local v
  if defs[name] then v = evaluate(defs[name], depth) end
  if v == nil and enums[name] then v = evaluate(enums[name], depth) end
  busy[name] = nil
  cache[name] = v or false
  return v
end

local function wanted(name)
  for _, pat in ipairs(FAMILIES) do
    if name:match(pat) then return true end
  end
  return false
end

local out, names = {}, {}
for _, set in ipairs({ defs, enums }) do
  for name in pairs(set) do
    if not out[name] and wanted(name) then
      local v = value_of(name, 0)
      if v then out[name] = v; names[#names + 1] = name end
    end
  end
end
table.sort(names)

local missing = {}
for _, name in ipairs(MUST_HAVE) do
  if not out[name] then missing[#missing + 1] = name end
end
if #missing > 0 then
  fail("the headers gave no value for " .. table.concat(missing, ", "))
end

-- The architecture the values are for, in sx's names: some families (O_*, MAP_*, ioctl
-- requests) differ between architectures, and sx.conditions refuses them for others.
local function defined(name) return defs[name] ~= nil end
local arch = "unknown"
if defined("__x86_64__") then arch = defined("__ILP32__") and "x32" or "x86_64"
elseif defined("__i386__") then arch = "i386"
elseif defined("__aarch64__") then arch = "aarch64"
elseif defined("__arm__") then arch = "arm"
elseif defined("__riscv") and value_of("__riscv_xlen", 0) == 64 then arch = "riscv64"
elseif defined("__loongarch64") then arch = "loongarch64"
elseif defined("__s390x__") then arch = "s390x"
elseif defined("__powerpc64__") and defined("__LITTLE_ENDIAN__") then arch = "ppc64le" end

local lines = {
  "-- sx.constants: named constants for text conditions, generated by",
  "-- tools/gen_constants.lua from the system headers. Do not edit: the build makes it again.",
  "return {",
  ("  arch = %q,"):format(arch),
  "  headers = { " .. table.concat((function()
      local q = {}
      for i, h in ipairs(HEADERS) do q[i] = ("%q"):format(h) end
      return q
    end)(), ", ") .. " },",
  "  values = {",
}
for _, name in ipairs(names) do
  lines[#lines + 1] = ("    %s = 0x%x,"):format(name, out[name])
end
lines[#lines + 1] = "  },"
lines[#lines + 1] = "}"
local f = assert(io.open(output .. ".tmp", "w"))
f:write(table.concat(lines, "\n"), "\n")
f:close()
os.remove(source)
assert(os.rename(output .. ".tmp", output))

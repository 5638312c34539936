-- Text conditions ("arg0 == AF_UNIX || arg0 == AF_INET"): the compiled filter must decide
-- exactly as the expression reads. Every check compares f:eval with a direct evaluation of
-- the expression written here, independently of the parser and its lowering.
local seccomp = require "sx.seccomp"
local core = require "sx.core"
local constants_module = require "sx.constants"
local constants = constants_module.values

local ult = math.ult
local HOST = seccomp.arch()

-- The filter under test: `expr` allows mmap, anything else about mmap is an errno.
-- (mmap's arguments are all 64 bits wide on the 64-bit ABIs, so every bit counts.)
local DENIED = seccomp.errno("EIO")
local function build(expr)
  return seccomp.builder():allow("mmap", expr):build({ default = DENIED })
end

local function decides(f, args)
  return (f:eval("mmap", args)) == "allow"
end

-- Values where comparisons and masks tend to go wrong, and some random ones.
local BOUNDARY = { 0, 1, 2, 3, 4, 7, 8, 0xff, 0x100, 0x7fffffff, 0x80000000, 0xffffffff,
                   0x100000000, 0x7fffffffffffffff, math.mininteger, -1, -2 }

local function random64(rng)
  local r = rng(4)
  if r == 1 then return BOUNDARY[rng(#BOUNDARY)] end
  if r == 2 then return rng(0, 16) end
  if r == 3 then return (rng(0, 0xffffffff) << 32) | rng(0, 0xffffffff) end
  return 1 << rng(0, 63)
end

-- Unsigned comparisons, as seccomp compares the 64-bit argument.
local CMP = {
  ["=="] = function(a, b) return a == b end, ["!="] = function(a, b) return a ~= b end,
  ["<"] = function(a, b) return ult(a, b) end, ["<="] = function(a, b) return not ult(b, a) end,
  [">"] = function(a, b) return ult(b, a) end, [">="] = function(a, b) return not ult(a, b) end,
}
local MIRROR = { ["=="] = "==", ["!="] = "!=", ["<"] = ">", [">"] = "<", ["<="] = ">=",
                 [">="] = "<=" }
local OPS = { "==", "!=", "<", "<=", ">", ">=" }

-- A value and a way to write it: decimal, hex, octal (two spellings), binary, a constant.
local NAMES = { "AF_UNIX", "AF_INET", "PROT_EXEC", "PROT_WRITE", "CLONE_NEWUSER", "O_CLOEXEC",
                "MAP_SHARED", "SOCK_NONBLOCK" }
local function binary(v)
  local bits = {}
  repeat bits[#bits + 1] = tostring(v & 1); v = v >> 1 until v == 0
  return "0b" .. table.concat(bits):reverse()
end
local function written(rng, v)
  local r = rng(6)
  if r == 1 and v >= 0 then return tostring(v) end
  if r == 2 then return ("0x%x"):format(v) end
  if r == 3 then return ("0%o"):format(v) end
  if r == 4 then return ("0o%o"):format(v) end
  if r == 5 then return binary(v) end
  return ("0X%X"):format(v)
end
local function value(rng)
  local r = rng(3)
  if r == 1 then
    local name = NAMES[rng(#NAMES)]
    if rng(3) == 1 then
      local other = NAMES[rng(#NAMES)]
      return constants[name] | constants[other], name .. "|" .. other
    end
    return constants[name], name
  end
  local v = random64(rng)
  return v, written(rng, v)
end

-- A random comparison: text and a function of the argument list (args[1] is arg0).
local function comparison(rng)
  local i = rng(0, 2)
  local get = function(args) return args[i + 1] end
  local kind = rng(6)
  if kind <= 2 then
    local op, v, vt = OPS[rng(#OPS)], value(rng)
    if kind == 1 then
      return ("arg%d %s %s"):format(i, op, vt), function(a) return CMP[op](get(a), v) end
    end
    return ("%s %s arg%d"):format(vt, MIRROR[op], i), function(a) return CMP[op](get(a), v) end
  elseif kind <= 4 then
    -- (arg & M) == V or != V, with V inside the mask most of the time
    local m, mt = value(rng)
    if rng(2) == 1 then m, mt = 0xff << (8 * rng(0, 7)), nil end
    mt = mt or ("0x%x"):format(m)
    local v = rng(4) == 1 and random64(rng) or (random64(rng) & m)
    local op = rng(2) == 1 and "==" or "!="
    local form = rng(2) == 1 and "arg%d & %s %s %s" or "(arg%d & %s) %s %s"
    return form:format(i, mt, op, written(rng, v)),
           function(a) return CMP[op](get(a) & m, v) end
  elseif kind == 5 then
    local m, mt = value(rng)
    return ("arg%d & %s"):format(i, mt), function(a) return get(a) & m ~= 0 end
  end
  return ("arg%d"):format(i), function(a) return get(a) ~= 0 end
end

-- A random expression of && || ! and parentheses over comparisons.
local function expression(rng, depth)
  if depth == 0 or rng(3) == 1 then return comparison(rng) end
  local r = rng(3)
  local at, af = expression(rng, depth - 1)
  if r == 1 then
    return "!(" .. at .. ")", function(a) return not af(a) end
  end
  local bt, bf = expression(rng, depth - 1)
  if r == 2 then
    return "(" .. at .. ") && (" .. bt .. ")", function(a) return af(a) and bf(a) end
  end
  return "(" .. at .. ") || (" .. bt .. ")", function(a) return af(a) or bf(a) end
end

-- Argument vectors that hit the expression's own constants as well as random ones.
local function samples(rng, n)
  local out = {}
  for s = 1, n do
    out[s] = { random64(rng), random64(rng), random64(rng) }
  end
  return out
end

local function agree(text, fn, args_list)
  local f, err = build(text)
  if not f and err.message:find("this condition is never true", 1, true) then
    for _, args in ipairs(args_list) do assert.is_false(fn(args), text) end
    return
  elseif not f and err.message:find("this condition is always true", 1, true) then
    for _, args in ipairs(args_list) do assert.is_true(fn(args), text) end
    return
  end
  assert(f, tostring(err))
  for _, args in ipairs(args_list) do
    local want = fn(args)
    if decides(f, args) ~= want then
      error(("'%s' with args %x %x %x: filter says %s, the expression %s"):format(
        text, args[1], args[2], args[3], tostring(not want), tostring(want)), 0)
    end
  end
end

describe("text conditions", function()
  it("gives each comparison operator its unsigned meaning", function()
    local args = {}
    for _, v in ipairs(BOUNDARY) do args[#args + 1] = { v, 0, 0 } end
    for _, op in ipairs(OPS) do
      for _, v in ipairs({ 0, 1, 0x80000000, 0xffffffff, -1, math.mininteger }) do
        local text = ("arg0 %s 0x%x"):format(op, v)
        agree(text, function(a) return CMP[op](a[1], v) end, args)
        -- the value may stand on the left
        agree(("0x%x %s arg0"):format(v, MIRROR[op]), function(a) return CMP[op](a[1], v) end, args)
      end
    end
  end)

  it("reads numbers in every base, negative numbers as two's complement", function()
    local f = assert(build("arg0 == 42 && arg1 == 0x2a && arg2 == 052"))
    assert.is_true(decides(f, { 42, 42, 42 }))
    assert.is_false(decides(f, { 42, 42, 52 }))
    f = assert(build("arg0 == 0b101010 && arg1 == 0o52 && arg2 == 0X2A"))
    assert.is_true(decides(f, { 42, 42, 42 }))
    f = assert(build("arg0 == -1 && arg1 == 18446744073709551615 && arg2 == 0xffffffffffffffff"))
    assert.is_true(decides(f, { -1, -1, -1 }))
    assert.is_false(decides(f, { -1, -1, 0xffffffff }))
    f = assert(build("arg0 == ~0"))
    assert.is_true(decides(f, { -1 }))
  end)

  it("knows the constants people filter on, from the headers", function()
    for _, name in ipairs({ "AF_UNIX", "AF_INET", "AF_INET6", "SOCK_STREAM", "SOCK_CLOEXEC",
                            "PROT_EXEC", "MAP_SHARED", "O_RDONLY", "O_CLOEXEC",
                            "CLONE_NEWUSER", "PR_SET_NO_NEW_PRIVS", "PER_LINUX",
                            "ADDR_NO_RANDOMIZE", "TIOCSTI", "FIONREAD", "TCGETS" }) do
      assert.is_number(constants[name], name)
      local f = assert(build("arg1 == " .. name))
      assert.is_true(decides(f, { 0, constants[name] }), name)
      assert.is_false(decides(f, { 0, constants[name] + 1 }), name)
    end
    assert.equal(1, constants.AF_UNIX)
    assert.equal(0, constants.O_RDONLY)
    local f = assert(build("arg1 == (SOCK_STREAM | SOCK_CLOEXEC)"))
    assert.is_true(decides(f, { 0, constants.SOCK_STREAM | constants.SOCK_CLOEXEC }))
  end)

  it("has the constants' values the C compiler has", function()
    local cc = os.getenv("CC") or "cc"
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    local src = io.open(dir .. "/c.c", "w")
    src:write("#define _GNU_SOURCE 1\n")
    for _, h in ipairs(constants_module.headers) do src:write("#include <", h, ">\n") end
    src:write("#include <stdio.h>\n")
    src:write("int main(void) {\n")
    local names = {}
    for name in pairs(constants) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      src:write(('  printf("%%s %%llx\\n", "%s", (unsigned long long)(%s));\n'):format(name, name))
    end
    src:write("  return 0;\n}\n")
    src:close()
    assert(os.execute(("%s -w -o %s/c %s/c.c"):format(cc, dir, dir)))
    local p = io.popen(dir .. "/c")
    local n = 0
    for line in p:lines() do
      local name, hex = line:match("^(%S+) (%x+)$")
      assert.equal(("%x"):format(constants[name]), hex, name)
      n = n + 1
    end
    p:close()
    os.execute("rm -rf " .. dir)
    assert.equal(#names, n)
    assert.is_true(n > 200)
  end)

  it("installs the constants with the modules", function()
    local build_dir = assert(os.getenv("SX_BUILD_DIR"), "run through ctest")
    local prefix = os.tmpname()
    os.remove(prefix)
    local p = io.popen(("cmake --install %q --prefix %q 2>&1"):format(build_dir, prefix))
    local out = p:read("a")
    assert(p:close(), out)
    local lmod = assert(io.popen(("ls -d %q/share/lua/*/sx"):format(prefix)):read("l"))
    local installed = dofile(lmod .. "/constants.lua")
    os.execute(("rm -rf %q"):format(prefix))
    assert.same(constants_module, installed)
    assert.equal(HOST, installed.arch)
  end)

  it("lowers masks exactly: == and != against a value, and bare truth", function()
    local rng = math.random
    math.randomseed(4)
    local args = samples(rng, 300)
    for _, v in ipairs(BOUNDARY) do args[#args + 1] = { v, v, v } end
    for _, case in ipairs({
      { "arg2 & PROT_EXEC == 0", function(a) return a[3] & constants.PROT_EXEC == 0 end },
      { "arg0 & CLONE_NEWUSER", function(a) return a[1] & constants.CLONE_NEWUSER ~= 0 end },
      -- several bits: true when any is set, so one rule per bit
      { "arg0 & (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET)",
        function(a) return a[1] & (constants.CLONE_NEWUSER | constants.CLONE_NEWNS |
                                   constants.CLONE_NEWNET) ~= 0 end },
      { "arg0 & 0xf0 != 0x30", function(a) return a[1] & 0xf0 ~= 0x30 end },
      { "(arg1 & 0xffffffff00000000) != 0", function(a) return a[2] >> 32 ~= 0 end },
      { "!(arg1 & 0x81)", function(a) return a[2] & 0x81 == 0 end },
      { "!(arg1 & 0x81 != 0x80)", function(a) return a[2] & 0x81 == 0x80 end },
      { "arg0 & -1", function(a) return a[1] ~= 0 end },
      { "arg0 & 0x8000000000000000", function(a) return a[1] < 0 end },
      { "arg1", function(a) return a[2] ~= 0 end },
      { "!arg1", function(a) return a[2] == 0 end },
    }) do
      agree(case[1], case[2], args)
    end
    -- a mask over many bits is one rule a bit
    local f = assert(build("arg0 & 0xff"))
    assert.equal(8, #f.rules)
    -- a comparison that always holds drops out of a conjunction
    f = assert(build("arg0 >= 0 && arg1 == 3"))
    assert.equal(1, #f.rules)
    assert.equal(1, #f.rules[1].args)
  end)

  it("combines with && || ! and parentheses as written", function()
    local rng = math.random
    math.randomseed(7)
    local args = samples(rng, 200)
    for _, case in ipairs({
      { "arg0 == AF_UNIX || arg0 == AF_INET", function(a) return a[1] == 1 or a[1] == 2 end },
      { "arg0 == 1 && arg1 == 2 || arg2 == 3",
        function(a) return (a[1] == 1 and a[2] == 2) or a[3] == 3 end },
      { "arg0 == 1 && (arg1 == 2 || arg2 == 3)",
        function(a) return a[1] == 1 and (a[2] == 2 or a[3] == 3) end },
      { "!(arg0 == 1 || arg1 < 5)", function(a) return a[1] ~= 1 and not ult(a[2], 5) end },
      { "!!(arg0 >= 0x10)", function(a) return not ult(a[1], 0x10) end },
      { "!(arg0 > 4 && arg0 <= 10) && arg1 != 0",
        function(a) return not (ult(4, a[1]) and not ult(10, a[1])) and a[2] ~= 0 end },
      -- parentheses around a masked argument, as C programmers write them
      { "((arg0 & 0x30)) == 0x10", function(a) return a[1] & 0x30 == 0x10 end },
      { "(((arg1))) != 7 && ((arg2 & 1) || (arg2 & 4))",
        function(a) return a[2] ~= 7 and a[3] & 5 ~= 0 end },
      { "((1 | 2)) == arg0", function(a) return a[1] == 3 end },
    }) do
      agree(case[1], case[2], args)
    end
    local f = assert(build("arg0 == AF_UNIX || arg0 == AF_INET || arg0 == AF_INET6"))
    assert.equal(3, #f.rules)   -- || is several rules with the same action
    for _, r in ipairs(f.rules) do assert.equal("allow", r.action) end
  end)

  it("agrees with direct evaluation on many random expressions", function()
    local rng = math.random
    math.randomseed(2024)
    local checked, refused = 0, 0
    for _ = 1, 300 do
      local text, fn = expression(rng, 3)
      local args = samples(rng, 60)
      local f, err = build(text)
      if f then
        for _, a in ipairs(args) do
          local want = fn(a)
          if decides(f, a) ~= want then
            error(("'%s' with args 0x%x 0x%x 0x%x: filter %s, expression %s"):format(
              text, a[1], a[2], a[3], tostring(not want), tostring(want)), 0)
          end
        end
        checked = checked + 1
      else
        -- refused only as never true, always true or too large; the first two must hold
        assert.equal("bad_rule", err.code, text)
        refused = refused + 1
        if err.message:find("never true") then
          for _, a in ipairs(args) do assert.is_false(fn(a), text) end
        elseif err.message:find("always true") then
          for _, a in ipairs(args) do assert.is_true(fn(a), text) end
        else
          assert.matches("more than %d+ rules", err.message, 1, false, text)
        end
      end
    end
    assert.is_true(checked > 200, "only " .. checked .. " expressions compiled")
  end)

  it("is accepted wherever conditions are", function()
    local f = assert(seccomp.from_rules({
      { action = "allow", syscall = "socket", args = "arg0 == AF_UNIX" },
      { "log", "socket", "arg0 == AF_INET" },
    }, "kill_process"))
    assert.equal("allow", (f:eval("socket", { 1 })))
    assert.equal("log", (f:eval("socket", { 2 })))
    assert.equal("kill_process", (f:eval("socket", { 10 })))
    local b = seccomp.builder()
      :allow("mmap", "arg2 & PROT_EXEC == 0")
      :deny("clone", "arg0 & CLONE_NEWUSER")
      :deny("unshare", "arg0 & CLONE_NEWUSER", "kill_process")
      :deny("ptrace", seccomp.errno("EACCES"))
      :deny("kill")
      :rule("trap", "prctl", "arg0 == PR_SET_NO_NEW_PRIVS")
      :allow({ "clone", "unshare" })
    f = assert(b:build({ default = "log" }))
    assert.equal("allow", (f:eval("mmap", { 0, 4096, constants.PROT_READ })))
    assert.equal("log", (f:eval("mmap", { 0, 4096, constants.PROT_READ | constants.PROT_EXEC })))
    assert.equal(seccomp.errno("EPERM"), (f:eval("clone", { constants.CLONE_NEWUSER | 0x11 })))
    assert.equal("allow", (f:eval("clone", { 0x11 })))
    assert.equal("kill_process", (f:eval("unshare", { constants.CLONE_NEWUSER })))
    assert.equal("allow", (f:eval("unshare", { constants.CLONE_NEWNS })))
    assert.equal(seccomp.errno("EACCES"), (f:eval("ptrace")))
    assert.equal(seccomp.errno("EPERM"), (f:eval("kill")))
    assert.equal("trap", (f:eval("prctl", { constants.PR_SET_NO_NEW_PRIVS })))
    -- and with a group: the condition holds for every member
    f = assert(seccomp.builder():allow("@network-io", "arg0 == 3"):build())
    assert.equal("allow", (f:eval("sendmsg", { 3 })))
    assert.equal("kill_process", (f:eval("sendmsg", { 4 })))
  end)

  it("points a syntax error at its column, at the policy line", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local f, err = seccomp.builder():allow("read"):allow("socket", "arg0 == = 1"):build()
    assert.is_nil(f)
    assert.equal("bad_rule", err.code)
    assert.equal(2, err.rule)
    assert.equal("socket", err.syscall)
    assert.matches(":" .. line .. "$", err.where)
    assert.matches("column 9: syntax error", err.message)
    -- the condition, then a caret under column 9
    assert.matches("\n    arg0 == = 1\n            %^$", err.message)
    for text, column in pairs({ ["arg0 =="] = 8, ["(arg0 == 1"] = 11, ["arg0 == 1)"] = 10,
                                ["arg0 === 1"] = 8, ["arg0 == 1 & arg1"] = 11,
                                ["arg0 == 0x"] = 9, ["arg0 == 1 ||"] = 13, [""] = 1 }) do
      f, err = build(text)
      assert.is_nil(f, text)
      assert.equal("bad_rule", err.code, text)
      assert.matches("column " .. column .. ":", err.message, 1, false, text)
    end
  end)

  it("suggests the nearest name for an unknown constant", function()
    local f, err = build("arg0 == AF_UNX")
    assert.is_nil(f)
    assert.equal("bad_rule", err.code)
    assert.matches("column 9: unknown constant 'AF_UNX' %(did you mean 'AF_UNIX'%?%)", err.message)
    f, err = build("arg2 & PROT_EXCE")
    assert.matches("did you mean 'PROT_EXEC'", err.message)
    f, err = build("arg0 == clone_newuser")
    assert.matches("did you mean 'CLONE_NEWUSER'", err.message)
    f, err = build("arg0 == QQQQQQQQQQQQQQQQ")
    assert.matches("unknown constant 'QQQQQQQQQQQQQQQQ'", err.message)
    assert.not_matches("did you mean", err.message)
  end)

  it("refuses constants whose value differs on a filter's other architectures", function()
    local FAMILY = { x86_64 = "x86", i386 = "x86", x32 = "x86", aarch64 = "arm", arm = "arm" }
    local other
    for _, a in ipairs(seccomp.arches()) do
      if (FAMILY[a] or a) ~= (FAMILY[HOST] or HOST) then other = a; break end
    end
    local function on(arches, expr)
      return seccomp.builder():allow("openat", expr):build({ arches = arches })
    end
    -- O_DIRECTORY is 0200000 on x86 but 040000 on arm: the host's value is only for its family
    local f, err = on({ HOST, other }, "arg2 & O_DIRECTORY")
    assert.is_nil(f)
    assert.equal("bad_rule", err.code)
    assert.matches("'O_DIRECTORY' has the value " .. HOST .. " headers give it, which may " ..
                   "differ on " .. other, err.message, 1, true)
    assert.matches("column 8", err.message)
    assert.is_truthy(on({ HOST }, "arg2 & O_DIRECTORY"))
    -- the same for MAP_* and ioctl requests; numbers and arch-neutral names are fine
    assert.is_nil((on({ other }, "arg3 & MAP_SHARED")))
    assert.is_nil((on({ other }, "arg1 == TIOCSTI")))
    assert.is_truthy(on({ HOST, other }, "arg0 == AF_UNIX || arg2 & CLONE_NEWUSER || arg1 == 0x5412"))
    assert.is_truthy(on({ HOST, other }, "arg0 == PR_SET_NO_NEW_PRIVS && arg2 & PROT_EXEC"))
    if HOST == "x86_64" then
      assert.is_truthy(on({ "x86_64", "i386", "x32" }, "arg2 & O_DIRECTORY"))
    end
  end)

  it("refuses what seccomp cannot test, or what cannot be meant", function()
    for text, why in pairs({
      ["arg6 == 1"] = "arguments are arg0..arg5",
      ["arg0x == 1"] = "unknown constant 'arg0x' %(the arguments are arg0%.%.arg5%)",
      ["1 == AF_UNX"] = "did you mean 'AF_UNIX'",
      ["arg0 == arg1"] = "not with another argument",
      ["1 == 1"] = "needs an argument",
      ["AF_UNIX"] = "tests an argument",
      ["arg0 & 0xf0 < 3"] = "only be compared with == or !=",
      ["arg0 & 1 == 2"] = "never true",
      ["arg0 == 1 && !(arg0 == 1) && arg0 & 0"] = "never true",
      ["arg0 & 1 != 2"] = "always true",
      ["arg0 < 0"] = "never true %(comparisons are unsigned",
      ["arg0 > -1 || arg1 < 0"] = "never true",
      ["arg0 >= 0"] = "always true",
      ["arg0 <= 0xffffffffffffffff"] = "always true",
      ["arg0 == 18446744073709551616"] = "not a 64%-bit number",
      ["arg0 == 0x10000000000000000"] = "does not fit 64 bits",
      ["arg0 == 08"] = "octal",
      ["arg0 & -1 && arg1 & -1"] = "more than 256 rules",
      [("("):rep(1000) .. "arg0 == 1" .. (")"):rep(1000)] = "nested too deeply",
      [("!"):rep(300) .. "arg0"] = "nested too deeply",
    }) do
      local f, err = build(text)
      assert.is_nil(f, text)
      assert.equal("bad_rule", err.code, text)
      assert.matches(why, err.message, 1, false, text)
    end
  end)

  it("is enforced by the kernel", function()
    local EACCES = seccomp.errno("EACCES")
    local f = assert(seccomp.builder()
      :deny("socket", "arg0 == AF_INET || arg0 == AF_INET6", EACCES)
      :deny("dup3", "arg2 & O_CLOEXEC", EACCES)
      :build({ default = "allow" }))
    local socket = seccomp.syscall_number("socket", HOST)
    local kind, v = core.probe(f.bpf, socket, constants.AF_INET, constants.SOCK_STREAM, 0)
    assert.equal("errno", kind)
    assert.equal(13, v)
    kind, v = core.probe(f.bpf, socket, constants.AF_INET6, constants.SOCK_DGRAM, 0)
    assert.same({ "errno", 13 }, { kind, v })
    kind, v = core.probe(f.bpf, socket, constants.AF_UNIX, constants.SOCK_STREAM, 0)
    assert.equal("returned", kind)
    local dup3 = seccomp.syscall_number("dup3", HOST)
    kind, v = core.probe(f.bpf, dup3, 0, 100, constants.O_CLOEXEC)
    assert.same({ "errno", 13 }, { kind, v })
    kind, v = core.probe(f.bpf, dup3, 0, 100, 0)
    assert.same({ "returned", 100 }, { kind, v })
  end)
end)

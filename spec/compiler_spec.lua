-- The compiler's limits and promises: jumps longer than 255 instructions, the kernel's
-- 4096-instruction limit, deterministic output, and a disassembly a person can read.
local seccomp = require "sx.seccomp"
local core = require "sx.core"
local agree = require "support.agree"
local gen = require "support.random_rules"

local BPF_JA = 0x05

local function insns(bpf)
  local out = {}
  for i = 1, #bpf, 8 do
    local code, jt, jf, k = string.unpack("<I2BBI4", bpf, i)
    out[#out + 1] = { code = code, jt = jt, jf = jf, k = k }
  end
  return out
end

-- Every x86_64 syscall gets a conditional errno rule; the harmless argument-ignoring
-- ones are also allowed unconditionally. Nothing but those can run under the default.
local HARMLESS = { getpid = true, getppid = true, getuid = true, sched_yield = true }

-- Does argument `index` of `name` have fewer than 64 bits on one of `arches`?
local function narrow(name, arches, index)
  for _, a in ipairs(arches) do
    local nr = core.syscall_number(name, a)
    if nr and select(3, core.arg(a, nr, index)) < 64 then return true end
  end
  return false
end

-- (Values use both words of a 64-bit argument, and fit a narrower one.)
local function wide_rules(arches, stride)
  local rules, nth, seen = {}, 0, 0
  for _, name in ipairs(seccomp.syscall_names()) do
    local on = false
    for _, a in ipairs(arches) do on = on or core.syscall_number(name, a) ~= nil end
    if on then seen = seen + 1 end
    if on and (seen % (stride or 1) == 0 or HARMLESS[name]) then
      nth = nth + 1
      local index = nth % 6
      local value = narrow(name, arches, index) and nth or nth * 0x100000001
      rules[#rules + 1] = { action = seccomp.errno(nth % 4000 + 2), syscall = name,
                            args = { { index = index, op = "eq", value = value } } }
      if HARMLESS[name] then rules[#rules + 1] = { action = "allow", syscall = name } end
    end
  end
  return rules
end

describe("the compiler", function()
  it("handles conditional jumps longer than 255 instructions", function()
    for _, arches in ipairs({ { "x86_64" }, { "x86_64", "i386", "x32" }, { "s390x", "arm" } }) do
      local rules = wide_rules(arches, #arches)
      local case = { seed = 1, rules = rules, default = seccomp.errno(1),
                     opts = { arches = arches, bad_arch = "kill_process" } }
      local f = assert(seccomp.from_rules(rules, case.default, case.opts))
      -- the dispatch tree's first comparisons jump over far more than 255 instructions,
      -- so the compiler must have gone through JA trampolines
      local has_ja = false
      for _, insn in ipairs(insns(f.bpf)) do has_ja = has_ja or insn.code == BPF_JA end
      assert.is_true(#f > 1000, "only " .. #f .. " instructions")
      assert.is_true(has_ja, "no long jump in a program of " .. #f .. " instructions")
      assert.is_true(core.check(f.bpf))
      local ok, why = agree.check_filter(f, case)
      assert(ok, why)
    end
  end)

  if seccomp.supported() and seccomp.arch() == "x86_64" then
    it("and the kernel decides such a program as the emulator does", function()
      local rules = wide_rules({ "x86_64" })
      local f = assert(seccomp.from_rules(rules, seccomp.errno(1), { arch = "x86_64" }))
      local checked = 0
      -- a spread of syscalls across the whole number range, with matching arguments
      -- (the errno rule fires, so nothing runs) and without (default errno(1))
      for i, r in ipairs(rules) do
        if r.args and (i % 23 == 0 or HARMLESS[r.syscall]) then
          local nr = assert(seccomp.syscall_number(r.syscall, "x86_64"))
          local args = { 0, 0, 0, 0, 0, 0 }
          args[r.args[1].index + 1] = r.args[1].value
          local want = f:eval(nr, args)
          assert.equal(r.action, want)
          assert.same({ "errno", want.value & 0xffff },
                      { core.probe(f.bpf, nr, table.unpack(args)) }, r.syscall)
          args[r.args[1].index + 1] = r.args[1].value + 1
          want = f:eval(nr, args)
          if HARMLESS[r.syscall] then
            assert.equal("allow", want)
            assert.equal("returned", (core.probe(f.bpf, nr, table.unpack(args))), r.syscall)
          else
            assert.equal(seccomp.errno(1), want)
            assert.same({ "errno", 1 }, { core.probe(f.bpf, nr, table.unpack(args)) }, r.syscall)
          end
          checked = checked + 1
        end
      end
      assert.is_true(checked >= 15)
    end)
  end

  it("refuses programs over 4096 instructions with too_big, and takes one just under", function()
    local function eq_rules(n)
      local rules = {}
      for i = 1, n do
        rules[i] = { action = seccomp.errno(i % 4000 + 1), syscall = "getppid",
                     args = { { index = 0, op = "eq", value = i * 0x100000001 } } }
      end
      return rules
    end
    local f, err = seccomp.from_rules(eq_rules(2000), "allow", { arch = "x86_64" })
    assert.is_nil(f)
    assert.equal("too_big", err.code)
    assert.matches("4096", err.message)
    -- the biggest that fits
    local lo, hi = 1, 2000
    while lo < hi do
      local mid = (lo + hi + 1) // 2
      if seccomp.from_rules(eq_rules(mid), "allow", { arch = "x86_64" }) then lo = mid else hi = mid - 1 end
    end
    local big = assert(seccomp.from_rules(eq_rules(lo), "allow", { arch = "x86_64" }))
    assert.is_true(#big <= 4096 and #big > 4000, #big .. " instructions")
    local _, err2 = seccomp.from_rules(eq_rules(lo + 1), "allow", { arch = "x86_64" })
    assert.equal("too_big", err2.code)
    if seccomp.supported() and seccomp.arch() == "x86_64" then
      local nr = assert(seccomp.syscall_number("getppid", "x86_64"))
      assert.same({ "errno", lo % 4000 + 1 }, { core.probe(big.bpf, nr, lo * 0x100000001) })
      assert.equal("returned", (core.probe(big.bpf, nr, 5)))
    end
  end)

  it("is deterministic, within a process and across processes", function()
    for seed = 1, 40 do
      local case = gen.rule_set(seed)
      local a = seccomp.from_rules(case.rules, case.default, case.opts)
      local b = seccomp.from_rules(case.rules, case.default, case.opts)
      if a then assert.equal(a.bpf, b.bpf) end
    end
    local script = [[
      local gen = require "support.random_rules"
      local seccomp = require "sx.seccomp"
      local case = gen.rule_set(%d)
      local f = seccomp.from_rules(case.rules, case.default, case.opts)
      io.write(f and (f.bpf:gsub(".", function(c) return ("%%02x"):format(c:byte()) end)) or "error")
    ]]
    for _, seed in ipairs({ 3, 11, 29 }) do
      local path = os.tmpname()
      local h = assert(io.open(path, "w"))
      h:write(script:format(seed))
      h:close()
      local p = assert(io.popen((os.getenv("SX_LUA") or "lua5.4") .. " " .. path))
      local other = p:read("a")
      p:close()
      os.remove(path)
      local case = gen.rule_set(seed)
      local f = seccomp.from_rules(case.rules, case.default, case.opts)
      local here = f and (f.bpf:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) or "error"
      assert.equal(here, other)
    end
  end)

  describe("makes what rules of one syscall test in common once", function()
    -- How often each instruction occurs: "ld 28" (a word's offset), "jeq 8", "jset 4294967295".
    local function counts(f)
      local t = {}
      for line in f:disasm():gmatch("[^\n]+") do
        local op, arg = line:match("^%s*%d+: (%a+)%s+[#%[]?([%xx]*)")
        local key = op .. " " .. tostring(math.tointeger(tonumber(arg)))
        t[key] = (t[key] or 0) + 1
      end
      return t
    end
    local function build(name, conds_list, arch)
      local rules = {}
      for i, conds in ipairs(conds_list) do
        rules[i] = { action = seccomp.errno(i), syscall = name, args = conds }
      end
      return assert(seccomp.from_rules(rules, "allow", { arch = arch or "x86_64" }))
    end
    local function eq(index, value) return { index = index, op = "eq", value = value } end

    it("eq on one 64-bit argument: its high word tested once, each word loaded once", function()
      local list = {}
      for v = 1, 10 do list[v] = { eq(1, v) } end         -- mmap's len: 64 bits on x86_64
      local f = build("mmap", list)
      local c = counts(f)
      assert.equal(1, c["ld 28"])                          -- arg1's high word
      assert.equal(1, c["jset 4294967295"])                -- high word == 0, once
      assert.equal(1, c["ld 24"])                          -- arg1's low word
      for v = 1, 10 do assert.equal(1, c["jeq " .. v]) end
      local nr = seccomp.syscall_number("mmap", "x86_64")
      local _, first = f:eval(nr, { 0, 1 })
      local _, last = f:eval(nr, { 0, 10 })
      assert.equal(first + 9, last)                        -- one more test a value down the chain
      assert.equal("allow", (f:eval(nr, { 0, 1 << 32 | 1 })))
    end)

    it("eq on a 32-bit argument (personality): one load, one test a value", function()
      local list = {}
      for i, v in ipairs({ 0, 8, 0x20000, 0x20008, 0xffffffff }) do list[i] = { eq(0, v) } end
      local c = counts(build("personality", list))
      assert.equal(1, c["ld 16"])
      assert.is_nil(c["ld 20"])                            -- an unsigned int: no high word
      assert.equal(1, c["jset 4294967295"])                -- == 0
      for _, v in ipairs({ 8, 0x20000, 0x20008, 0xffffffff }) do
        assert.equal(1, c["jeq " .. v], v)
      end
    end)

    it("a shared first condition is tested once; a rule that fails on its second goes on " ..
       "to the next rule's second", function()
      local f = build("socket", { { eq(0, 1), eq(1, 1) }, { eq(0, 1), eq(1, 2) },
                                  { eq(0, 2), eq(1, 1) } })
      local c = counts(f)
      assert.equal(1, c["ld 16"])                          -- family: loaded once,
      assert.equal(2, c["ld 24"])                          -- type: once under each family
      assert.equal(3, c["jeq 1"])                          -- family 1; type 1 under each
      assert.equal(2, c["jeq 2"])                          -- family 2; type 2 under family 1
      local nr = seccomp.syscall_number("socket", "x86_64")
      assert.equal("errno(ENOENT)", tostring((f:eval(nr, { 1, 2 }))))
      assert.equal("errno(ESRCH)", tostring((f:eval(nr, { 2, 1 }))))
      assert.equal("allow", (f:eval(nr, { 2, 2 })))
      assert.equal("allow", (f:eval(nr, { 1, 3 })))
    end)

    it("what an ordering found decides a later eq on the same argument", function()
      local f = build("mmap", { { { index = 1, op = "lt", value = 1000 } }, { eq(1, 2000) } })
      local c = counts(f)
      assert.equal(1, c["ld 28"])
      assert.equal(1, c["jgt 0"])                          -- high word above 0: neither holds
      assert.is_nil(c["jset 4294967295"])                  -- (so == 0 after it needs no test)
      assert.equal(1, c["ld 24"])
      assert.equal(1, c["jge 1000"])
      assert.equal(1, c["jeq 2000"])
    end)

    it("the same on big-endian s390x and with 32-bit registers (i386)", function()
      local list = {}
      for v = 1, 6 do list[v] = { eq(1, v) } end
      local c = counts(build("mmap", list, "s390x"))
      assert.equal(1, c["ld 24"])                          -- big-endian: the high word first
      assert.equal(1, c["ld 28"])
      assert.equal(1, c["jset 4294967295"])
      c = counts(build("mmap", list, "i386"))
      assert.equal(1, c["ld 24"])
      assert.is_nil(c["ld 28"])
    end)
  end)

  it("disassembles one line an instruction, naming syscalls and arches", function()
    local f = assert(seccomp.from_rules({
      { "allow", "read" }, { "allow", "getpid" },
      { seccomp.errno(1), "openat", { { index = 2, op = "masked_eq", mask = 3, value = 1 } } },
    }, "kill_process", { arches = { "x86_64", "i386", "aarch64" } }))
    local text = f:disasm()
    local lines = {}
    for line in text:gmatch("([^\n]*)\n?") do if line ~= "" then lines[#lines + 1] = line end end
    assert.equal(#f, #lines)
    for i, line in ipairs(lines) do
      assert.equal(i - 1, tonumber(line:match("^%s*(%d+):")), line)
    end
    for _, word in ipairs({ "getpid", "openat", "x86_64", "i386", "aarch64", "errno%(EPERM%)",
                            "kill_process", "allow", "arg2" }) do
      assert.matches(word, text)
    end
    -- raw programs disassemble too
    local raw = assert(seccomp.load(f.bpf, "x86_64"))
    assert.equal(text, raw:disasm())
  end)
end)

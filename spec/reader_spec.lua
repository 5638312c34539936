-- The one reader of rule tables (src/lua_rules.c, sx.core.build): every constructor's rows
-- go through it, sugar or not, and every mistake comes back naming the rule as the caller
-- wrote it and the policy line.
local seccomp = require "sx.seccomp"
local core = require "sx.core"

local function here() return debug.getinfo(2, "Sl").short_src .. ":" .. debug.getinfo(2, "l").currentline end

describe("the rule reader", function()
  it("takes the plain forms: positional rules, action objects, any case, no opts", function()
    local args = { { index = 1, op = "masked_eq", mask = 0xff, value = 3 },
                   { index = 5, op = "le", value = -1 } }
    local cases = {
      { { { "allow", "read" }, { "ERRNO(eacces)", "write" }, { "Trace(7)", "close", args } },
        "kill_process" },
      { { { action = seccomp.errno("EPERM"), syscall = "openat" },
          { action = seccomp.trace(3), syscall = "openat", args = { args[2] } } }, "errno(38)" },
      { { { action = "log", syscall = 0 }, { action = "notify", syscall = 999 } }, "allow",
        { arch = "x86_64", bad_arch = "kill_thread" } },
      { { { action = "allow", syscall = "read", args = {} } }, "trap",
        { arches = { "aarch64", "x32", "i386" } } },
      { {}, "allow" },
    }
    for i, c in ipairs(cases) do
      local f = assert(seccomp.from_rules(c[1], c[2], c[3]), "case " .. i)
      local g = assert(seccomp.from_rules(seccomp.to_rules(f)))
      assert.equal(f.bpf, g.bpf, "case " .. i)
    end
  end)

  it("reads lists of names as sets, numbers and arm's private calls included", function()
    local f = assert(seccomp.allow_list({ "read", "write", "read", "@basic-io" }, { arch = "x86_64" }))
    local seen = {}
    for _, r in ipairs(f.rules) do
      assert.is_nil(seen[r.syscall], r.syscall)
      seen[r.syscall] = true
    end
    assert.equal("allow", (f:eval("pread64")))
    f = assert(seccomp.deny_list({ 101, "mount", 101 }, { arch = "x86_64" }))
    assert.equal(2, #f.rules)
    assert.equal(seccomp.errno("EPERM"), (f:eval("ptrace")))
    for _, deny in ipairs({ false, true }) do
      local list = { "read", "cacheflush", "write", "read" }
      local make = deny and seccomp.deny_list or seccomp.allow_list
      local g = assert(make(list, { arches = { "arm", "x86_64" } }))
      assert.equal(deny and "errno(EPERM)" or "allow", tostring((g:eval("cacheflush", nil, "arm"))))
      assert.equal(deny and "allow" or "kill_process", tostring((g:eval("usr26", nil, "arm"))))
    end
  end)

  local mistakes = {
    { "a misspelt rule field", "bad_rule", "unknown field 'sycall'", { { action = "allow", sycall = "read" } } },
    { "a misspelt args field (would widen the rule)", "bad_rule", "unknown field 'arg'",
      { { action = "allow", syscall = "socket", arg = { { index = 0, op = "eq", value = 1 } } } } },
    { "a misspelt condition field", "bad_rule", "condition 1: unknown field 'valeu'",
      { { action = "allow", syscall = "socket", args = { { index = 0, op = "eq", valeu = 1 } } } } },
    { "an action given twice", "bad_rule", "gives its action twice", { { "allow", "read", action = "allow" } } },
    { "an unknown errno", "bad_action", "unknown errno name 'EPREM' (did you mean 'EPERM'?)",
      { { "errno(EPREM)", "ptrace" } } },
    { "a hole", "bad_rule", "item 3 is nil", { { "allow", "read" }, nil, { "allow", "write" } } },
    { "a syscall the tables lack", "unknown_syscall", "did you mean 'read'", { { "allow", "raed" } } },
  }
  for _, m in ipairs(mistakes) do
    it("names the rule and the line of " .. m[1], function()
      local line = here()   -- (the statement's line: a call spanning lines reports its first)
      local f, err = seccomp.from_rules({ { "allow", "getpid" }, table.unpack(m[4], 1, 3) },
                                        "kill_process", { arch = "x86_64" })
      line = line:gsub("%d+$", function(n) return tostring(math.tointeger(tonumber(n)) + 1) end)
      assert.is_nil(f)
      assert.equal(m[2], err.code)
      assert.equal(line, err.where)
      assert.matches(m[3], err.message, 1, true)
      assert.matches("^rule [23]: ", err.message)
    end)
  end

  it("counts rules as the caller wrote them, through groups and text", function()
    local f, err = seccomp.from_rules({
      { "allow", "@basic-io" }, { "allow", "socket", "family == 1 || family == 2" },
      { "allow", "socket", "family == 2" } }, "kill_process", { arch = "x86_64" })
    assert.is_nil(f)
    assert.equal("bad_rule", err.code)
    assert.equal(3, err.rule)
    assert.matches("rule 3: this rule for 'socket' never decides anything", err.message, 1, true)
    assert.matches("(rules 2 and 3)", err.message, 1, true)
  end)

  -- { action, { names... } [, args] }: a rule a name, in order, each with the action and
  -- conditions; the same program as writing them out, whichever path reads it.
  describe("a rule whose syscall is a list", function()
    local NAMES = { "read", "write", "close", "openat", "mmap", "futex", "socket", "ioctl",
                    "getpid", "prctl", "clone", "exit_group" }
    local function one_a_name(rules)
      local out = {}
      for _, r in ipairs(rules) do
        local action, syscall, args = r.action or r[1], r.syscall or r[2], r.args or r[3]
        for _, name in ipairs(type(syscall) == "table" and syscall or { syscall }) do
          out[#out + 1] = { action = action, syscall = name, args = args }
        end
      end
      return out
    end

    it("compiles to the program of a rule a name, on random policies", function()
      local rng = require("support.random_rules").rng(16)
      local ACTIONS = { "allow", "errno(EPERM)", "log", "trap", "kill_thread" }
      local COND = { { index = 0, op = "eq", value = 3 }, { index = 1, op = "masked_eq", mask = 0xff, value = 1 },
                     "fd == 1 || fd == 2", { { arg = "fd", op = "le", value = "7" } } }
      for case = 1, 300 do
        local pool = {}
        for i, n in ipairs(NAMES) do pool[i] = n end
        local rules = {}
        while #pool > 0 and #rules < 6 do
          local list = {}
          for _ = 1, rng.int(1, math.min(4, #pool)) do
            list[#list + 1] = table.remove(pool, rng.int(1, #pool))
          end
          if rng.int(1, 5) == 1 then list[#list + 1] = "@basic-io" end
          local syscall = (#list == 1 and rng.int(1, 2) == 1) and list[1] or list
          local rule = rng.int(1, 2) == 1 and { ACTIONS[rng.int(1, #ACTIONS)], syscall }
                       or { action = ACTIONS[rng.int(1, #ACTIONS)], syscall = syscall }
          if rng.int(1, 3) == 1 then
            if rule[1] then rule[3] = COND[rng.int(1, #COND)] else rule.args = COND[rng.int(1, #COND)] end
          end
          rules[#rules + 1] = rule
        end
        local opts = { arches = rng.int(1, 2) == 1 and { "x86_64" } or { "x86_64", "aarch64", "i386" } }
        local f, err = seccomp.from_rules(rules, "kill_process", opts)
        local g, gerr = seccomp.from_rules(one_a_name(rules), "kill_process", opts)
        if g then
          assert(f, ("case %d: %s"):format(case, tostring(err)))
          assert.equal(g.bpf, f.bpf, "case " .. case)
          assert.equal(#g.rules, #f.rules, "case " .. case)
        else
          assert.is_nil(f, "case " .. case)
          assert.equal(gerr.code, err.code, "case " .. case)
        end
      end
    end)

    it("gives each name a rule of its own, with the caller's rule number and line", function()
      local f = assert(seccomp.from_rules({ { "allow", "getpid" }, { "errno(EACCES)", { "openat", "read", 1 }, { { index = 0, op = "eq", value = 5 } } } }, "kill_process", { arch = "x86_64" })); local line = here()
      local got = {}
      for i, r in ipairs(f.rules) do
        got[i] = ("%s %s %s %s"):format(tostring(r.syscall), tostring(r.action), r.args and r.args[1].value or "-", r.where)
      end
      assert.same({ "getpid allow - " .. line, "openat errno(EACCES) 5 " .. line,
                    "read errno(EACCES) 5 " .. line, "1 errno(EACCES) 5 " .. line }, got)
      assert.equal(f.bpf, assert(seccomp.from_rules(seccomp.to_rules(f))).bpf)
    end)

    it("reads again with room when the lists make more rules than there are rows", function()
      -- many rules from two rows, and conditions past one a row: both kinds of room at once
      local all = {}
      for _, name in ipairs(core.syscall_names()) do
        if seccomp.syscall_number(name, "x86_64") then all[#all + 1] = name end
      end
      local args = { { index = 0, op = "ne", value = 1 }, { index = 1, op = "ne", value = 2 },
                     { index = 2, op = "ne", value = 3 } }
      local rules = { { "allow", { table.unpack(all, 1, 200) } },
                      { "errno(EPERM)", { table.unpack(all, 201, 210) }, args } }
      local f = assert(seccomp.from_rules(rules, "kill_process", { arch = "x86_64" }))
      assert.equal(210, #f.rules)
      assert.equal(assert(seccomp.from_rules(one_a_name(rules), "kill_process", { arch = "x86_64" })).bpf, f.bpf)
    end)

    -- The reader reads tables raw; sx.rules, which rewrites sugar first, must read them
    -- the same way, or a metatable would make a rule mean more with a group elsewhere.
    it("means the same with sugar elsewhere, metatables or not", function()
      local extra = { __index = function(_, k) if k == 3 then return "getpid" end end,
                      __len = function() return 3 end, __pairs = function(t) return next, { "getpid" } end }
      local list = setmetatable({ "exit", "exit_group" }, extra)
      local args = setmetatable({}, { __index = function(_, k)
        if k == 1 then return { index = 0, op = "eq", value = 1 } end end })
      for _, sugar in ipairs({ {}, { { "allow", "@sync" } }, { { "allow", "fsync", "fd == 3" } } }) do
        local rules = { { "allow", list }, { "allow", "read", args }, table.unpack(sugar) }
        local f = assert(seccomp.from_rules(rules, "errno(EACCES)", { arch = "x86_64" }))
        assert.equal("errno(EACCES)", tostring((f:eval("getpid"))), #sugar)
        assert.equal("allow", tostring((f:eval("exit_group"))), #sugar)
        assert.equal("allow", tostring((f:eval("read", { 5 }))), #sugar)    -- args: none, raw
      end
    end)

    it("says what is wrong with a list whether sugar comes before it or after", function()
      local cases = {
        { { "read", nil, "write" }, "its list of syscalls: item 2 is nil" },
        { { "read", x = "write" }, "its list of syscalls must be a list, but has the key 'x'" },
        { { "read", 1.5 }, "syscall number 1.5 is not a non-negative integer" },
        { { "read", -1 }, "syscall number -1 is not a non-negative integer" },
        { {}, "its list of syscalls is empty" },
        { { "@basic-io", { "write" } }, "syscall must be a name or a number, got table" },
      }
      for _, c in ipairs(cases) do
        for _, rules in ipairs({
          { { "allow", c[1] } },
          { { "allow", c[1], "fd == 1" } },
          { { "allow", c[1], { { arg = "fd", op = "eq", value = "1" } } } },
          { { "allow", "@sync" }, { "allow", c[1] } },
          { { "allow", c[1] }, { "allow", "fsync", "fd == 3" } } }) do
          local f, err = seccomp.from_rules(rules, "kill_process", { arch = "x86_64" })
          assert.is_nil(f, c[2])
          assert.equal("bad_rule", err.code, c[2])
          assert.matches(c[2], err.message, 1, true)
        end
      end
    end)

    -- A sparse table's length (its border) can be anything up to 2^63: counting rules by
    -- it once wrapped the room's size, and a list read after it wrote past the ruleset.
    it("refuses lengths past what it makes room for, before reading a thing", function()
      local keys = {}
      for e = 0, 61 do keys[#keys + 1] = ("[%d]='read'"):format(1 << e) end
      local sparse = load("return {" .. table.concat(keys, ",") .. "}")()
      local names = {}
      for i = 1, 600 do names[i] = i % 300 end
      -- (the border 5.3 and 5.4 find; were it small, this spec would test nothing)
      assert.is_true(rawlen(sparse) > 1 << 16, "the sparse table's length")
      for _, rules in ipairs({ { { "allow", names }, { "allow", sparse } }, sparse }) do
        local f, err = seccomp.from_rules(rules, "kill_process", { arch = "x86_64" })
        assert.is_nil(f)
        assert.equal("bad_rule", err.code)
        assert.matches("more than 65536", err.message, 1, true)
      end
    end)

    it("says the same of odd items with sugar elsewhere as without", function()
      for _, c in ipairs({
        { { "allow", { "read", "write" }, false }, "args must be a list of conditions, got boolean" },
        { { "allow", "read", false }, "args must be a list of conditions, got boolean" },
        { { "allow", { "read", 2^40 } }, "syscall number 1099511627776 does not fit 32 bits", 2^40 },
        { { "allow", { "read", -1.0 } }, "syscall number -1 is not a non-negative integer", -1.0 },
      }) do
        for _, rules in ipairs({ { c[1] }, { { "errno(EPERM)", "@sync" }, c[1] } }) do
          local f, err = seccomp.from_rules(rules, "kill_process", { arch = "x86_64" })
          assert.is_nil(f, c[2])
          assert.equal("bad_rule", err.code)
          assert.matches(c[2], err.message, 1, true)
          assert.equal(#rules, err.rule)
          if c[3] then assert.equal(c[3], err.syscall) end
        end
      end
      local g = assert(seccomp.from_rules({ { "errno(EPERM)", "@sync" }, { "allow", { "read", 5.0 } } },
                                          "kill_process", { arch = "x86_64" }))
      assert.equal("allow", tostring((g:eval(5))))
    end)

    -- Nothing the reader calls may run Lua code mid-read: a collection there could free a
    -- name or an action text the ruleset points at (and a new string at the same address
    -- would match the cached last action).
    it("runs no Lua code while it reads, not even an action object's __index", function()
      local A = getmetatable(seccomp.errno("EPERM"))
      local saved, ran = A.__index, false
      local fake = setmetatable({}, A)
      A.__index = function(t, k)
        if t == fake and k == "value" then ran = true return 0x7fff0000 end
        return saved and (type(saved) == "table" and saved[k] or saved(t, k)) or rawget(A, k)
      end
      local ok, f, err = pcall(seccomp.from_rules, { { "allow", "read" }, { fake, "write" } },
                               "kill_process", { arch = "x86_64" })
      A.__index = saved
      assert.is_true(ok, tostring(f))
      assert.is_false(ran)
      assert.is_nil(f)
      assert.equal("bad_action", err.code)
    end)

    it("takes a NaN or other odd number as a rule the reader refuses, with sugar elsewhere", function()
      for _, odd in ipairs({ 0/0, math.huge, -1.5 }) do
        local ok, f, err = pcall(seccomp.from_rules, { { "allow", "@basic-io" }, { "allow", odd } },
                                 "kill_process", { arch = "x86_64" })
        assert.is_true(ok, tostring(f))
        assert.is_nil(f)
        assert.equal("bad_rule", err.code)
        assert.equal(2, err.rule)
      end
    end)

    it("builds the same through the builder, which reads a list raw too", function()
      local list = setmetatable({ "read" }, { __index = function(_, i) if i == 2 then return "execve" end end })
      local f = assert(seccomp.builder():allow(list):build({ arch = "x86_64" }))
      local g = assert(seccomp.from_rules({ { "allow", list } }, "kill_process", { arch = "x86_64" }))
      assert.equal(g.bpf, f.bpf)
      assert.equal("kill_process", tostring((f:eval("execve"))))
    end)

    local list_mistakes = {
      { "an empty list", "bad_rule", "its list of syscalls is empty", { "allow", {} } },
      { "a hole", "bad_rule", "its list of syscalls: item 2 is nil", { "allow", { "read", nil, "write" } } },
      { "a table among the names", "bad_rule", "syscall must be a name or a number, got table",
        { "allow", { "read", { "write" } } } },
      { "a table among the names, after a group", "bad_rule", "syscall must be a name or a number, got table",
        { "allow", { "@basic-io", { "write" } } } },
      { "a name twice", "duplicate_rule", "syscall 'read' has two unconditional rules (both from rule 2)",
        { "allow", { "read", "write", "read" } } },
      { "a name the tables lack", "unknown_syscall", "unknown syscall 'raed'", { "allow", { "write", "raed" } } },
      { "a bad first item before bad conditions, as a rule a name says it", "bad_rule",
        "syscall number 1.5 is not a non-negative integer", { "allow", { 1.5 }, { { index = 9, op = "eq", value = 1 } } } },
    }
    for _, m in ipairs(list_mistakes) do
      it("names the rule, the line and the syscall of " .. m[1], function()
        local f, err = seccomp.from_rules({ { "allow", "getpid" }, m[4] }, "kill_process", { arch = "x86_64" }); local line = here()
        assert.is_nil(f)
        assert.equal(m[2], err.code)
        assert.equal(line, err.where)
        assert.equal(2, err.rule)
        assert.matches("rule 2: " .. m[3], err.message, 1, true)
        if m[2] ~= "bad_rule" then assert.equal(m[3]:match("'(%a+)'"), err.syscall) end
      end)
    end
  end)

  it("raises on misuse at the caller's line", function()
    for _, call in ipairs({
      { "allow_list", function() return seccomp.allow_list({ "read" }, { deny_action = "allow" }) end,
        "allow_list: unknown option 'deny_action'" },
      { "deny_list", function() return seccomp.deny_list({ "read" }, { defualt = "allow" }) end,
        "deny_list: unknown option 'defualt'" },
      { "from_rules", function() return seccomp.from_rules({}, "allow", { arch = "x86_64", arches = { "i386" } }) end,
        "give opts.arch or opts.arches, not both" },
      { "allow_list", function() return seccomp.allow_list("read") end, "takes a list of syscall names" },
    }) do
      local ok, msg = pcall(call[2])
      assert.is_false(ok, call[1])
      assert.matches(call[3], msg, 1, true)
      assert.matches("^spec/reader_spec.lua:%d+: ", msg)
    end
  end)

  it("keeps its own copy of the rules: changing the input afterwards changes nothing", function()
    local rules = { { action = "allow", syscall = "read",
                      args = { { index = 0, op = "eq", value = 3 } } } }
    local f = assert(seccomp.from_rules(rules, "kill_process", { arch = "x86_64" }))
    assert.is_not_nil(rawget(f, "ruleset"))
    rules[1].syscall, rules[1].args[1].value = "write", 4
    assert.equal("read", f.rules[1].syscall)
    assert.equal(3, f.rules[1].args[1].value)
    assert.equal("kill_process", f.default)
    assert.equal(f.rules, rawget(f, "rules"))      -- unpacked once, then plain fields
    assert.equal("kill_process", rawget(f, "default"))
  end)

  -- Compiles share one work area, and the program lies there until it is copied into the
  -- filter. A finalizer run by a collection step inside a compile may compile again: each
  -- filter must still get its own program.
  it("gives each filter its own program while finalizers compile others", function()
    local a, b = { "ptrace", "mount" }, { "read", "write", "close", "openat" }
    local want_a, want_b = core.build("deny", a).bpf, core.build("allow", b).bpf
    local ran, wrong = 0, 0
    local function finalizer()
      ran = ran + 1
      if core.build("allow", b).bpf ~= want_b then wrong = wrong + 1 end
    end
    local pause, stepmul = collectgarbage("setpause", 1), collectgarbage("setstepmul", 10)
    if _VERSION == "Lua 5.4" then collectgarbage("incremental", 1, 10, 1) end
    for _ = 1, 10 do
      for _ = 1, 1000 do setmetatable({}, { __gc = finalizer }) end
      for _ = 1, 1000 do
        if core.build("deny", a).bpf ~= want_a then wrong = wrong + 1 end
      end
    end
    if _VERSION == "Lua 5.4" then collectgarbage("incremental", pause, stepmul, 13) end
    collectgarbage("setpause", pause)
    collectgarbage("setstepmul", stepmul)
    collectgarbage()
    assert.equal(10000, ran)
    assert.equal(0, wrong)
  end)
end)

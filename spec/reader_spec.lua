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

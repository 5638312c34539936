-- sx.core.from_rules, the quick path of seccomp.from_rules (src/lua_rules.c), against the
-- full Lua path (filter.compile): on every input the quick path either declines (returns
-- nothing, so the full path runs) or builds exactly the filter the full path builds. It
-- must decline every mistake, so errors keep their rule numbers and policy lines.
--
-- SX_QUICK_ITERATIONS=n compares n random rule sets (default 1000).

local seccomp = require "sx.seccomp"
local core = require "sx.core"
local filter = require "sx.filter"
local gen = require "support.random_rules"

local iterations = math.tointeger(tonumber(os.getenv("SX_QUICK_ITERATIONS") or "")) or 1000

-- Everything a filter shows, the lazy fields included.
local function view(f)
  local rules, default, opts = seccomp.to_rules(f)
  return { bpf = f.bpf, rules = rules, default = tostring(default), arches = opts.arches,
           arch = f.arch, bad_arch = tostring(opts.bad_arch), text = tostring(f) }
end

local function full(rules, default, opts)
  return filter.compile(rules, default, opts or {})
end

-- The quick path agrees with the full one on this input, and says whether it took it.
local function agrees(rules, default, opts, label)
  local q = core.from_rules(rules, default, opts)
  local f, err = full(rules, default, opts)
  if q == nil then return false, err end
  assert(f, ("%s: the quick path built a filter the full path refuses (%s)")
            :format(label, tostring(err)))
  assert.same(view(f), view(q), label)
  return true
end

-- Strings as argument values are the full path's; the rest of a rule set is plain.
local function has_string_values(rules)
  for _, r in ipairs(rules) do
    for _, c in ipairs(r.args or r[3] or {}) do
      if type(c.value) == "string" then return true end
    end
  end
  return false
end

describe("the quick path of from_rules", function()
  it("builds the same filters as the full path on random rule sets (" .. iterations .. ")",
     function()
    local taken, plain = 0, 0
    for seed = 1, iterations do
      local case = gen.rule_set(seed, seed % 10 == 0 and 40 or nil)
      local ok = agrees(case.rules, case.default, case.opts, "seed " .. seed .. ":\n" ..
                        gen.source(case))
      if not has_string_values(case.rules) then
        plain = plain + 1
        if ok then taken = taken + 1 end
      end
    end
    -- every plain valid set went the quick way (the comparison above is not vacuous);
    -- the ones left are the generator's duplicate_rule sets
    assert.is_true(taken > plain * 0.9, ("quick path took %d of %d plain sets"):format(taken, plain))
  end)

  it("takes the plain forms: positional rules, action objects, any case, no opts", function()
    local args = { { index = 0, op = "masked_eq", mask = 0xff, value = 3 },
                   { index = 5, op = "le", value = -1 } }
    local cases = {
      { { { "allow", "read" }, { "ERRNO(eacces)", "write" }, { "Trace(7)", "close", args } },
        "kill_process" },
      { { { action = seccomp.errno("EPERM"), syscall = "openat" },
          { action = seccomp.trace(3), syscall = "openat", args = args } }, "errno(38)" },
      { { { action = "log", syscall = 0 }, { action = "notify", syscall = 999 } }, "allow",
        { arch = "x86_64", bad_arch = "kill_thread" } },
      { { { action = "allow", syscall = "read", args = {} } }, "trap",
        { arches = { "aarch64", "x32", "i386" } } },
      { {}, "allow" },
    }
    for i, c in ipairs(cases) do
      assert.is_true(agrees(c[1], c[2], c[3], "case " .. i), "case " .. i .. " was declined")
    end
  end)

  -- Each of these is either a mistake or a form only the full path reads: the quick path
  -- must leave it alone, and from_rules must answer as the full path does: the same
  -- filter, the same error, or the same misuse raised.
  local function declined(label, expect, rules, default, opts)
    it("leaves to the full path: " .. label, function()
      assert.is_nil(core.from_rules(rules, default, opts))
      if expect == "filter" then
        local f = assert(seccomp.from_rules(rules, default, opts))
        assert.same(view(assert(full(rules, default, opts))), view(f))
      elseif expect:match("^raise ") then
        local ok, msg = pcall(seccomp.from_rules, rules, default, opts)
        assert.is_false(ok)
        assert.matches(expect:sub(7), msg, 1, true)
      else
        local f, err = seccomp.from_rules(rules, default, opts)
        assert.is_nil(f)
        assert.equal(expect, err.code)
        local g, gerr = full(rules, default, opts)
        if default ~= nil then          -- from_rules checks the default itself first
          assert.is_nil(g)
          assert.equal(gerr.message, err.message)
        end
      end
    end)
  end

  local R = function(t) return { t } end
  local ANY = { index = 0, op = "eq", value = 1 }
  declined("a misspelt rule field", "bad_rule", R{ action = "allow", sycall = "read" },
           "kill_process")
  declined("a misspelt args field (would widen the rule)", "bad_rule",
           R{ action = "allow", syscall = "socket", arg = { ANY } }, "kill_process")
  declined("a misspelt condition field", "bad_rule",
           R{ action = "allow", syscall = "socket", args = { { index = 0, op = "eq", valeu = 1 } } },
           "kill_process")
  declined("an action given twice", "bad_rule", R{ "allow", "read", action = "allow" },
           "kill_process")
  -- one condition on read, in an allow rule
  local function cond_declined(label, expect, cond)
    declined(label, expect, R{ action = "allow", syscall = "read", args = { cond } }, "kill_process")
  end
  cond_declined("a mask on eq", "bad_rule", { index = 0, op = "eq", value = 1, mask = 1 })
  cond_declined("masked_eq without a mask", "bad_rule", { index = 0, op = "masked_eq", value = 1 })
  cond_declined("argument index 6", "bad_rule", { index = 6, op = "eq", value = 1 })
  cond_declined("an operator in capitals", "bad_rule", { index = 0, op = "EQ", value = 1 })
  cond_declined("a float value", "bad_rule", { index = 0, op = "eq", value = 1.5 })
  cond_declined("a value as a string", "filter", { index = 0, op = "eq", value = "0x10" })
  declined("17 conditions", "bad_rule", R{ action = "allow", syscall = "read", args = (function()
             local a = {}
             for i = 1, 17 do a[i] = { index = 0, op = "ne", value = i } end
             return a
           end)() }, "kill_process")
  declined("text conditions", "filter", R{ action = "allow", syscall = "socket", args = "arg0 == 1" },
           "kill_process")
  declined("a group", "filter", R{ action = "allow", syscall = "@basic-io" }, "kill_process")
  declined("an unknown syscall", "unknown_syscall", R{ action = "allow", syscall = "raed" },
           "kill_process")
  declined("a syscall with a NUL in it", "unknown_syscall", R{ action = "allow", syscall = "read\0" },
           "kill_process")
  declined("a negative number", "bad_rule", R{ action = "allow", syscall = -1 }, "kill_process",
           { arch = "x86_64" })
  declined("a fractional number", "bad_rule", R{ action = "allow", syscall = 1.5 }, "kill_process",
           { arch = "x86_64" })
  declined("a number in a multi-arch filter", "bad_rule", R{ action = "allow", syscall = 1 },
           "kill_process", { arches = { "x86_64", "i386" } })
  declined("a syscall the arch lacks", "unknown_syscall", R{ action = "allow", syscall = "arch_prctl" },
           "kill_process", { arch = "aarch64" })
  declined("two unconditional rules for one syscall", "duplicate_rule",
           { { "allow", "read" }, { "errno(EPERM)", "read" } }, "kill_process")
  declined("an unknown action", "bad_action", R{ action = "alow", syscall = "read" }, "kill_process")
  declined("errno past 4095", "bad_action", R{ action = "errno(4096)", syscall = "read" },
           "kill_process")
  declined("an unknown errno name", "bad_action", R{ action = "errno(EWHATEVER)", syscall = "read" },
           "allow")
  declined("a table posing as an action", "bad_action",
           R{ action = { value = 0x7fff0000 }, syscall = "read" }, "kill_process")
  declined("no default action", "bad_action", R{ action = "allow", syscall = "read" }, nil)
  declined("a rule that is not a table", "bad_rule", { "read" }, "kill_process")
  declined("a hole in the rules (a misspelt variable)", "bad_rule",
           { { "allow", "read" }, nil, { "allow", "write" } }, "kill_process")
  -- a table built with explicit keys keeps them in hash slots, where walking on from the
  -- last key alone would not see a hole (this got past the quick path under Lua 5.3)
  for _, keys in ipairs({ { 1, 3 }, { 3, 1 }, { 1, 2, 4 }, { 4, 2, 1 }, { 2, 5, 1, 3 } }) do
    local t = {}
    for _, k in ipairs(keys) do t[k] = { "allow", ({ "read", "write", "close", "dup", "pipe" })[k] } end
    declined("a hole among explicit keys " .. table.concat(keys, ","), "bad_rule", t, "kill_process")
    local args = {}
    for _, k in ipairs(keys) do args[k] = { index = 0, op = "ne", value = k } end
    declined("a hole among explicit condition keys " .. table.concat(keys, ","), "bad_rule",
             R{ action = "allow", syscall = "read", args = args }, "kill_process")
  end
  declined("a key beside the list", "bad_rule", { { "allow", "read" }, extra = { "allow", "write" } },
           "kill_process")
  declined("rules behind a metatable", "filter",
           setmetatable({ { "allow", "read" } }, { __index = function() end }), "kill_process")
  declined("a rule behind a metatable", "filter",
           { setmetatable({ action = "allow", syscall = "read" }, { __index = function() end }) },
           "kill_process")
  declined("an unknown option", "raise from_rules: unknown option 'arhc'", R{ "allow", "read" },
           "kill_process", { arhc = "x86_64" })
  declined("arch and arches both", "raise give opts.arch or opts.arches, not both",
           R{ "allow", "read" }, "kill_process", { arch = "x86_64", arches = { "x86_64" } })
  declined("an unknown arch", "unsupported_arch", R{ "allow", "read" }, "kill_process",
           { arch = "mips" })
  declined("an arch listed twice", "unsupported_arch", R{ "allow", "read" }, "kill_process",
           { arches = { "x86_64", "x86_64" } })
  declined("a bad bad_arch", "bad_action", R{ "allow", "read" }, "kill_process", { bad_arch = "nope" })

  -- allow_list and deny_list as their documentation says: the listed names (each once,
  -- in order of first mention) get allow / opts.deny_action (errno(EPERM)), the rest
  -- opts.default (kill_process / allow).
  local function full_list(names, opts, deny)
    opts = opts or {}
    local act = deny and (opts.deny_action or seccomp.errno("EPERM")) or "allow"
    local rules, seen = {}, {}
    for _, name in ipairs(names) do
      if not seen[name] then seen[name], rules[#rules + 1] = true, { action = act, syscall = name } end
    end
    return filter.compile(rules, opts.default or (deny and "allow" or "kill_process"),
                          { arch = opts.arch, arches = opts.arches, bad_arch = opts.bad_arch })
  end

  it("builds the lists allow_list and deny_list build, on random lists", function()
    local r = gen.rng(7)
    local names, taken = seccomp.syscall_names(), 0
    for i = 1, 200 do
      local arches = gen.ARCH_SETS[r.int(1, #gen.ARCH_SETS)]
      local on_arch = {}
      for _, name in ipairs(names) do
        if core.syscall_number(name, arches[1]) then on_arch[#on_arch + 1] = name end
      end
      local list = {}
      for j = 1, r.int(0, 60) do list[j] = r.pick(r.chance(0.98) and on_arch or names) end
      if #list > 0 and r.chance(0.3) then list[#list + 1] = list[1] end    -- a name twice
      local deny = r.chance(0.5)
      local opts = { arches = arches, default = r.chance(0.5) and gen.random_action(r) or nil,
                     bad_arch = r.chance(0.3) and gen.random_action(r) or nil,
                     deny_action = deny and r.chance(0.5) and gen.random_action(r) or nil }
      local q = core.from_list(list, opts, deny)
      local f, err = full_list(list, opts, deny)
      if q then
        taken = taken + 1
        assert(f, ("list %d: quick path built what the full path refuses: %s"):format(i, tostring(err)))
        assert.same(view(f), view(q), "list " .. i)
        local via = (deny and seccomp.deny_list or seccomp.allow_list)(list, opts)
        assert.equal(f.bpf, via.bpf)
      else
        -- only a name some arch lacks (or a clash the compiler refuses) is left over
        assert.is_nil(f, "list " .. i .. " was declined but is fine")
      end
    end
    assert.is_true(taken >= 40, "the quick path took only " .. taken .. " lists")
  end)

  -- arm's private calls (0xf0000 up) are past the compiler's map of actions: a list
  -- naming one is compiled as rules instead, to the same program.
  it("builds a list naming one of arm's private calls", function()
    for _, deny in ipairs({ false, true }) do
      local list, opts = { "read", "cacheflush", "write", "read" }, { arches = { "arm", "x86_64" } }
      local q = assert(core.from_list(list, opts, deny))
      assert.same(view(assert(full_list(list, opts, deny))), view(q))
      assert.equal(deny and "errno(EPERM)" or "allow", tostring((q:eval("cacheflush", nil, "arm"))))
      assert.equal(deny and "allow" or "kill_process", tostring((q:eval("usr26", nil, "arm"))))
    end
  end)

  local function list_declined(label, expect, fname, names, opts)
    it("leaves to the full path: " .. fname .. " with " .. label, function()
      assert.is_nil(core.from_list(names, opts, fname == "deny_list"))
      local ok, f, err = pcall(seccomp[fname], names, opts)
      if expect == "filter" then
        assert.is_true(ok)
        assert.is_not_nil(f)
      elseif expect:match("^raise ") then
        assert.is_false(ok)
        assert.matches(expect:sub(7), f, 1, true)
      else
        assert.is_true(ok)
        assert.is_nil(f)
        assert.equal(expect, err.code)
      end
    end)
  end
  list_declined("a group", "filter", "allow_list", { "read", "@basic-io" })
  list_declined("a number", "filter", "deny_list", { 101 }, { arch = "x86_64" })
  list_declined("a misspelt name", "unknown_syscall", "allow_list", { "read", "wirte" })
  list_declined("a NUL in a name", "unknown_syscall", "allow_list", { "read\0" })
  list_declined("a hole", "bad_rule", "allow_list", { "read", nil, "write" })
  list_declined("a hole among explicit keys", "bad_rule", "allow_list",
                { [1] = "read", [3] = "write" })
  list_declined("a hole among explicit arch keys", "unsupported_arch", "allow_list",
                { "read" }, { arches = { [1] = "x86_64", [3] = "i386" } })
  list_declined("deny_action", "raise allow_list: unknown option 'deny_action'", "allow_list",
                { "read" }, { deny_action = "allow" })
  list_declined("a misspelt option", "raise deny_list: unknown option 'defualt'", "deny_list",
                { "read" }, { defualt = "allow" })
  list_declined("a bad default", "bad_action", "deny_list", { "read" }, { default = "permit" })

  it("keeps its own copy of the rules: changing the input afterwards changes nothing", function()
    local rules = { { action = "allow", syscall = "read",
                      args = { { index = 0, op = "eq", value = 3 } } } }
    local f = assert(seccomp.from_rules(rules, "kill_process", { arch = "x86_64" }))
    assert.is_not_nil(rawget(f, "ruleset"))        -- the quick path made it
    rules[1].syscall, rules[1].args[1].value = "write", 4
    assert.equal("read", f.rules[1].syscall)
    assert.equal(3, f.rules[1].args[1].value)
    assert.equal("kill_process", f.default)
    assert.is_nil(rawget(f, "ruleset"))            -- unpacked once, then plain fields
  end)

  -- Quick compiles share one work area, and the program lies there until it is copied
  -- into the filter. A finalizer run by a collection step inside a quick compile may
  -- compile again: each filter must still get its own program.
  it("gives each filter its own program while finalizers compile others", function()
    local a, b = { "ptrace", "mount" }, { "read", "write", "close", "openat" }
    local want_a, want_b = core.from_list(a, nil, true).bpf, core.from_list(b, nil, false).bpf
    local ran, wrong = 0, 0
    local function finalizer()
      ran = ran + 1
      if core.from_list(b, nil, false).bpf ~= want_b then wrong = wrong + 1 end
    end
    -- garbage with finalizers, then compiles alone, with a small collection step at each
    -- of their allocations: the finalizers run inside them, a few at a time
    local pause, stepmul = collectgarbage("setpause", 1), collectgarbage("setstepmul", 10)
    -- (Lua 5.4's tiny steps land there often; 5.3's fixed step size seldom does)
    if _VERSION == "Lua 5.4" then collectgarbage("incremental", 1, 10, 1) end
    for _ = 1, 10 do
      for _ = 1, 1000 do setmetatable({}, { __gc = finalizer }) end
      for _ = 1, 1000 do
        if core.from_list(a, nil, true).bpf ~= want_a then wrong = wrong + 1 end
      end
    end
    if _VERSION == "Lua 5.4" then collectgarbage("incremental", pause, stepmul, 13) end
    collectgarbage("setpause", pause)
    collectgarbage("setstepmul", stepmul)
    collectgarbage()
    assert.equal(10000, ran)
    assert.equal(0, wrong)
  end)

  it("reports errors from the caller's line, as the full path does", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local f, err = seccomp.from_rules({ { action = "allow", syscall = "raed" } }, "kill_process")
    assert.is_nil(f)
    assert.equal("unknown_syscall", err.code)
    assert.equal(1, err.rule)
    assert.equal(("spec/quick_spec.lua:%d"):format(line), err.where)
  end)
end)

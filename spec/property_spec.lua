-- Property: for many seeded random rule sets (every action, every operator, several
-- conditions a rule and rules a syscall, numbers and names, one to three arches,
-- big-endian s390x), the compiled program's verdict under the emulator equals the
-- reference evaluator's on every probe support.agree makes.
--
-- SX_PROPERTY_ITERATIONS=n runs n rule sets (default 1500, about 15 s here; every tenth set
-- is bigger), and a third as many sets whose rules share their arguments;
-- SX_PROPERTY_SEED=s starts at seed s (a failure prints its seed and a reproducer).

local seccomp = require "sx.seccomp"
local gen = require "support.random_rules"
local agree = require "support.agree"
local reference = require "support.reference"
local bpf = require "support.bpf"
local core = require "sx.core"

local iterations = math.tointeger(tonumber(os.getenv("SX_PROPERTY_ITERATIONS") or "")) or 1500
local first_seed = math.tointeger(tonumber(os.getenv("SX_PROPERTY_SEED") or "")) or 1

describe("random rule sets", function()
  it("decide like the reference evaluator (" .. iterations .. " sets from seed " ..
     first_seed .. ")", function()
    local arch_sets, duplicates = {}, 0
    for seed = first_seed, first_seed + iterations - 1 do
      local case = gen.rule_set(seed, seed % 10 == 0 and 40 or nil)
      local ok, why = agree.check(case)
      if not ok then error(why, 0) end
      arch_sets[table.concat(case.opts.arches, "+")] = true
      if reference.expected_error({ rules = agree.plain_rules(case.rules),
                                     arches = case.opts.arches, default = case.default }) then
        duplicates = duplicates + 1
      end
    end
    -- the draw really covered several arch sets (the property is not vacuous)
    local n = 0
    for _ in pairs(arch_sets) do n = n + 1 end
    assert.is_true(n >= math.min(5, iterations // 10))
  end)

  it("decide like the reference evaluator when many rules of a syscall test the same " ..
     "arguments (the compiler's shared tests), and leave nothing unreachable", function()
    local errors, conditional = 0, 0
    for seed = first_seed, first_seed + iterations // 3 do
      local case = gen.shared_rule_set(seed)
      local ok, why = agree.check(case)
      if not ok then error(why, 0) end
      local f = seccomp.from_rules(case.rules, case.default, case.opts)
      if f then
        local dead = bpf.unreachable(f.bpf)
        if #dead > 0 then
          error(("unreachable instructions %s in\n%s\n%s"):format(table.concat(dead, ","),
                seccomp.disasm(f), gen.source(case)), 0)
        end
        conditional = conditional + 1
      else
        errors = errors + 1
      end
    end
    -- most sets compile (the generator keeps rules from hiding behind earlier ones)
    assert.is_true(conditional > 2 * errors)
  end)

  it("decide like the reference evaluator without conditions too (the compiler's map of " ..
     "actions), x32 and numbers past the map included", function()
    local mapped, refused = 0, 0
    for seed = first_seed, first_seed + iterations // 3 do
      local case = gen.rule_set(seed, seed % 10 == 0 and 40 or nil)
      -- one rule per syscall, conditions dropped; now and then a second one (an error)
      local seen, rules = {}, {}
      for _, rule in ipairs(case.rules) do
        local action, sc = rule.action or rule[1], rule.syscall or rule[2]
        if not seen[sc] then
          seen[sc] = true
          rules[#rules + 1] = { action = action, syscall = sc }
        end
      end
      if seed % 17 == 0 then rules[#rules + 1] = { action = "log", syscall = rules[1].syscall } end
      case.rules = rules
      local ok, why = agree.check(case)
      if not ok then error(why, 0) end
      if seccomp.from_rules(case.rules, case.default, case.opts) then mapped = mapped + 1
      else refused = refused + 1 end
    end
    assert.is_true(mapped > iterations // 6 and refused > 0)
  end)

  it("round-trip through to_rules to the same bytes", function()
    for seed = first_seed, first_seed + iterations // 5 do
      local case = gen.rule_set(seed)
      local f = seccomp.from_rules(case.rules, case.default, case.opts)
      if f then
        local g = assert(seccomp.from_rules(seccomp.to_rules(f)))
        assert(f.bpf == g.bpf, "to_rules round trip differs:\n" .. gen.source(case))
      end
    end
  end)

  it("run the same on the C emulator and a second interpreter (support.bpf)", function()
    local checked = 0
    for seed = first_seed, first_seed + iterations // 5 do
      local case = gen.rule_set(seed)
      local f = seccomp.from_rules(case.rules, case.default, case.opts)
      if f then
        local ref = agree.reference_for(case)
        local r = gen.rng(seed)
        for _, arch in ipairs(case.opts.arches) do
          local audit = reference.AUDIT[arch]
          local numbers = { 0, 1, 0x3fffffff, 0x40000000, 0xffffffff }
          for nr in pairs(ref.by_arch[arch]) do numbers[#numbers + 1] = nr end
          table.sort(numbers)
          for _, nr in ipairs(numbers) do
            local list = ref.by_arch[arch][nr] or {}
            for _, args in ipairs(agree.arg_vectors(list, r)) do
              local a1, n1 = core.emulate(f.bpf, audit, nr, table.unpack(args, 1, 6))
              local a2, n2 = bpf.run(f.bpf, audit, nr, args)
              if a1 ~= a2 or n1 ~= n2 then
                error(("emulator says 0x%08x in %d steps, support.bpf 0x%08x in %d, for " ..
                       "%s nr 0x%x args %s\n%s"):format(a1, n1, a2, n2, arch, nr,
                       table.concat(args, ","), gen.source(case)), 0)
              end
              checked = checked + 1
            end
          end
        end
      end
    end
    assert.is_true(checked > 1000)
  end)

  it("leave no instruction unreachable, also around conditions decided without a test",
     function()
    local function check(f, what)
      local dead = bpf.unreachable(f.bpf)
      if #dead > 0 then
        error(("unreachable instructions %s in\n%s\n%s"):format(table.concat(dead, ","),
              seccomp.disasm(f), what), 0)
      end
    end
    local seen = 0
    for seed = first_seed, first_seed + iterations - 1 do
      local case = gen.rule_set(seed, seed % 10 == 0 and 40 or nil)
      local f = seccomp.from_rules(case.rules, case.default, case.opts)
      if f then check(f, gen.source(case)); seen = seen + 1 end
    end
    assert.is_true(seen > iterations // 2)
    -- conditions that always or never hold, before, between and after real ones
    local MAX = -1
    local always = { { index = 0, op = "ge", value = 0 }, { index = 1, op = "le", value = MAX },
                     { index = 2, op = "masked_eq", mask = 0, value = 0 } }
    local never = { { index = 0, op = "gt", value = MAX }, { index = 1, op = "lt", value = 0 },
                    { index = 2, op = "masked_eq", mask = 0xff, value = 0x100 },
                    { index = 3, op = "masked_eq", mask = 0xff00000000, value = 1 << 40 | 1 } }
    -- (mmap's arguments are 64 bits on x86_64 and aarch64, 32 on i386, where never[4]
    -- does not fit; the first rule must not be a subset of the second, which would make
    -- the second one never decide: an error)
    local real = { index = 4, op = "eq", value = 7 }
    for _, arches in ipairs({ { "x86_64" }, { "i386" }, { "s390x", "aarch64" } }) do
      for _, odd in ipairs({ always[1], always[2], always[3], never[1], never[2], never[3],
                             arches[1] ~= "i386" and never[4] or nil }) do
        for _, args in ipairs({ { odd }, { real, odd }, { odd, real }, { real, odd, real } }) do
          local rules = {
            { action = seccomp.errno(1), syscall = "mmap",
              args = { { index = 4, op = "eq", value = 8 } } },
            { action = seccomp.errno(2), syscall = "mmap", args = args },
            { action = seccomp.errno(3), syscall = "mmap",
              args = { { index = 5, op = "ne", value = 9 } } },
            { action = "allow", syscall = "read" },
          }
          local case = { seed = 0, rules = rules, default = "kill_process",
                         opts = { arches = arches, bad_arch = "kill_process" } }
          local ok, why = agree.check(case)
          if not ok then error(why, 0) end
          check(assert(seccomp.from_rules(rules, "kill_process", case.opts)), gen.source(case))
        end
      end
    end
  end)

  it("fail the check when the filter is wrong (the check can fail)", function()
    -- a filter compiled from one rule set, checked against a different rule set's meaning
    local case = { seed = 1, rules = { { action = seccomp.errno(5), syscall = "getpid",
                   args = { { index = 1, op = "gt", value = 0x100000000 } } } },
                   default = "allow", opts = { arches = { "x86_64" }, bad_arch = "kill_process" } }
    local f = assert(seccomp.from_rules(case.rules, case.default, case.opts))
    assert.is_true((agree.check_filter(f, case)))
    local wrong = { seed = 1, rules = { { action = seccomp.errno(5), syscall = "getpid",
                    args = { { index = 1, op = "ge", value = 0x100000000 } } } },
                    default = "allow", opts = case.opts }
    local ok, why = agree.check_filter(f, wrong)
    assert.is_false(ok)
    assert.matches("arch \"x86_64\", nr 0x27", why)
  end)

  it("shrink a failing case to the rule and the condition that make it fail", function()
    local shrink = require "support.shrink"
    local culprit = { index = 2, op = "eq", value = 7 }
    local case = { rules = {
      { "allow", "read" },
      { action = "log", syscall = "openat",
        args = { { index = 0, op = "ne", value = 1 }, culprit,
                 { index = 3, op = "gt", value = 9 } } },
      { "errno(1)", "write", { { index = 1, op = "lt", value = 4 }, culprit } },
      { action = "trap", syscall = "close" },
    } }
    -- "fails" while some rule of openat keeps the culprit condition
    local function still(c)
      for _, r in ipairs(c.rules) do
        if (r.syscall or r[2]) == "openat" then
          for _, cond in ipairs(r.args or r[3] or {}) do if cond == culprit then return true end end
        end
      end
      return false
    end
    local small = shrink.rules(case, still, function(_, rules) return { rules = rules } end)
    assert.equal(1, #small.rules)
    assert.equal("openat", small.rules[1].syscall)
    assert.same({ culprit }, small.rules[1].args)
    assert.equal(4, #case.rules)              -- the case given is left as it was
  end)

  it("print a reproducer that runs", function()
    local case = gen.rule_set(7)
    local src = gen.source(case)
    local chunk = assert(load(src, "=reproducer", "t", setmetatable({}, { __index = _G })))
    assert.is_true(pcall(chunk) or reference.expected_error({
      rules = agree.plain_rules(case.rules), arches = case.opts.arches }) ~= nil)
  end)
end)

-- Docker's default profile's unconditional allow list, compiled as an x86_64 allow list:
-- a balanced search keeps every decision within 12 instructions, and every allowed
-- syscall stays eligible for the kernel's constant-action cache.
local seccomp = require "sx.seccomp"
local cjson = require "cjson"
local reference = require "support.reference"

local X32_BIT = 0x40000000
local MAX_EXECUTED = 12

local function empty(v)
  return v == nil or v == cjson.null or (type(v) == "table" and next(v) == nil)
end

-- The names of the profile's entries that allow unconditionally.
local function docker_allow_names()
  local path = (os.getenv("SX_SOURCE_DIR") or ".") .. "/spec/fixtures/docker-default.json"
  local f = assert(io.open(path))
  local profile = cjson.decode(f:read("a"))
  f:close()
  local names, seen = {}, {}
  for _, entry in ipairs(profile.syscalls) do
    if entry.action == "SCMP_ACT_ALLOW" and empty(entry.args) and empty(entry.includes)
       and empty(entry.excludes) then
      for _, name in ipairs(entry.names) do
        if not seen[name] then seen[name] = true; names[#names + 1] = name end
      end
    end
  end
  return names
end

describe("docker-default's unconditional allow list on x86_64", function()
  local all = docker_allow_names()
  local names, skipped = {}, {}
  for _, name in ipairs(all) do
    if seccomp.syscall_number(name, "x86_64") then names[#names + 1] = name
    else skipped[#skipped + 1] = name end
  end
  local f = assert(seccomp.allow_list(names, { arch = "x86_64" }))
  local ref = reference.new({ rules = f.rules, default = "kill_process", bad_arch = "kill_process",
                              arches = { "x86_64" } })

  -- every syscall number the tables could hold, the x32 half, and the edges past them
  local probes = {}
  for nr = 0, 1023 do
    probes[#probes + 1] = nr
    probes[#probes + 1] = nr | X32_BIT
  end
  for _, nr in ipairs({ 0x3ffffffe, 0x3fffffff, 0x7fffffff, 0x80000000, 0xc0000000, 0xfffffffe,
                        0xffffffff }) do
    probes[#probes + 1] = nr
  end

  it("has 300+ names; the ones skipped are other arches' syscalls", function()
    assert.is_true(#all >= 300, #all .. " names")
    assert.is_true(#names >= 300, #names .. " names on x86_64")
    for _, name in ipairs(skipped) do
      local somewhere = false
      for _, arch in ipairs(seccomp.arches()) do
        somewhere = somewhere or seccomp.syscall_number(name, arch) ~= nil
      end
      assert.is_true(somewhere, name .. " is in no table")
    end
  end)

  it("decides every probe right within " .. MAX_EXECUTED .. " instructions", function()
    local worst, worst_nr = 0, nil
    for _, nr in ipairs(probes) do
      local act, executed = f:eval(nr, nil, "x86_64")
      assert.equal(reference.eval(ref, "x86_64", nr, {}), reference.action_value(act),
                   ("nr 0x%x"):format(nr))
      if executed > worst then worst, worst_nr = executed, nr end
    end
    assert.is_true(worst <= MAX_EXECUTED, ("nr 0x%x executes %d instructions"):format(worst_nr, worst))
    -- other arches stop at the arch check
    for _, arch in ipairs({ "i386", "aarch64", "arm" }) do
      local act, executed = f:eval(0, nil, arch)
      assert.equal("kill_process", act)
      assert.is_true(executed <= 3)
    end
    -- and the allowed ones really are allowed
    for _, name in ipairs(names) do assert.equal("allow", (f:eval(name))) end
    assert.equal("kill_process", (f:eval(X32_BIT | 0)))
  end)

  it("keeps every allowed syscall eligible for the constant-action cache", function()
    for _, name in ipairs(names) do
      assert.is_true(f:cache_eligible(name), name)
    end
    -- what is not allowed is not "allowed by the cache" either
    assert.is_false(f:cache_eligible(X32_BIT | 0, "x86_64"))
    for nr = 0, 1023 do
      local allowed = seccomp.syscall_name(nr, "x86_64") ~= "unknown" and f:eval(nr) == "allow"
      assert.equal(allowed, f:cache_eligible(nr), "nr " .. nr)
    end
  end)

  it("an argument condition on one syscall makes just that one ineligible", function()
    local chosen, rules = "read", {}
    for i, name in ipairs(names) do
      rules[i] = { action = "allow", syscall = name }
      if name == chosen then rules[i].args = { { index = 0, op = "ne", value = 0xffffffff } } end
    end
    local g = assert(seccomp.from_rules(rules, "kill_process", { arch = "x86_64" }))
    assert.is_false(g:cache_eligible(chosen))
    for _, name in ipairs(names) do
      if name ~= chosen then assert.is_true(g:cache_eligible(name), name) end
    end
    assert.equal("allow", (g:eval(chosen, { 3 })))
    assert.equal("kill_process", (g:eval(chosen, { 0xffffffff })))
    -- and the worst case stays small: the conditions add their own few instructions only
    local worst = 0
    for _, nr in ipairs(probes) do
      local _, executed = g:eval(nr, { 3 })
      if executed > worst then worst = executed end
    end
    assert.is_true(worst <= MAX_EXECUTED + 4, "worst " .. worst)
  end)

  it("compiles deterministically", function()
    local again = assert(seccomp.allow_list(names, { arch = "x86_64" }))
    assert.equal(f.bpf, again.bpf)
    local reversed = {}
    for i = #names, 1, -1 do reversed[#reversed + 1] = names[i] end
    assert.equal(f.bpf, assert(seccomp.allow_list(reversed, { arch = "x86_64" })).bpf)
  end)

  if seccomp.supported() and seccomp.arch() == "x86_64" then
    it("loads in the kernel and allows what it says", function()
      local core = require "sx.core"
      local kind, pid = core.probe(f.bpf, assert(seccomp.syscall_number("getpid", "x86_64")))
      assert.equal("returned", kind)
      assert.is_true(pid > 0)
      local ptrace = assert(seccomp.syscall_number("ptrace", "x86_64"))
      local allowed = f:eval("ptrace") == "allow"
      kind = core.probe(f.bpf, ptrace, -1)     -- PTRACE with a bogus request if allowed
      assert.equal(allowed and "errno" or "signaled", kind)
    end)
  end
end)

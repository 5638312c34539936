-- Every rule of a built filter knows where it was written: f.rules[i].where is the policy
-- line of the call that added it (the line of that :allow(...), even inside a chained
-- builder that spans lines) and f.rules[i].group the group it came from. explain names
-- rules that way, and mistakes point at the line of the call that made them.
local seccomp = require "sx.seccomp"
local inspect = require "sx.inspect"

-- Run `source` as a policy file; its value and the file's short name.
local function policy(source)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(source)
  f:close()
  local chunk = assert(loadfile(path))
  local ok, a, b = pcall(chunk)
  os.remove(path)
  return ok, a, b, path
end

local function line_of(where) return tonumber(where:match(":(%d+)$")) end

describe("rule provenance", function()
  it("gives each rule the line of its own call in a chain that spans lines", function()
    local ok, f = policy([[
local seccomp = require "sx.seccomp"
return (seccomp.builder()
  :allow { "@basic-io" }
  :allow("socket",
         "family == AF_UNIX")
  :deny "ptrace"
  :rule("log", { "uname", "getpid" })
  :build { arch = "x86_64" })
]])
    assert(ok, f)
    local seen = {}
    for _, r in ipairs(f.rules) do seen[r.syscall] = r end
    assert.equal(3, line_of(seen.read.where))
    assert.equal("@basic-io", seen.read.group)
    assert.equal(4, line_of(seen.socket.where))
    assert.is_nil(seen.socket.group)
    assert.equal(6, line_of(seen.ptrace.where))
    assert.equal(7, line_of(seen.uname.where))
    assert.equal(7, line_of(seen.getpid.where))
    -- explain names the rule by its line and group, not by its place after expansion
    local e = f:explain("read")
    assert.matches("^rule 1 at .*:3 %(from @basic%-io%), the syscall's unconditional rule$", e.reason)
    assert.matches("^rule at .*:4: its conditions hold$", f:explain("socket", { 1 }).reason)
    assert.matches("decided by: rule at .*:6, the syscall's unconditional rule",
                   inspect.format_explain(f:explain("ptrace")))
  end)

  it("gives the rules of from_rules and the lists the line of the call", function()
    local ok, f, g = policy([[
local seccomp = require "sx.seccomp"
local f = seccomp.from_rules({
  { "allow", "read" }, { "allow", "@signal" } }, "kill_process", { arch = "x86_64" })
local g = seccomp.allow_list({ "write", "@timer" }, { arch = "x86_64" })
return f, g
]])
    assert(ok, f)
    for _, r in ipairs(f.rules) do assert.equal(2, line_of(r.where)) end
    for _, r in ipairs(g.rules) do assert.equal(4, line_of(r.where)) end
    assert.equal("@signal", f.rules[#f.rules].group)
    assert.is_nil(g.rules[1].group)
    assert.equal("@timer", g.rules[2].group)
    assert.matches("^rule 2 at .*:2 %(from @signal%)", f:explain("rt_sigaction").reason)
  end)

  it("points a mistake at the line of the call that made it", function()
    local ok, f, err = policy([[
local seccomp = require "sx.seccomp"
return seccomp.builder()
  :allow "read"
  :allow("write",
         "fd == 1")
  :deny("ptrace", "errno(EPREM)")
  :build()
]])
    assert(ok, f)
    assert.is_nil(f)
    assert.equal("bad_action", err.code)
    assert.equal(6, line_of(err.where))
    assert.matches("rule 3: unknown errno name 'EPREM' (did you mean 'EPERM'?)", err.message, 1, true)
    -- a method the builder lacks
    local msg
    ok, msg = policy([[
local seccomp = require "sx.seccomp"
return seccomp.builder()
  :allow "read"
  :alow "write"
  :build()
]])
    assert.is_false(ok)
    assert.matches(":4: the builder has no method 'alow' %(did you mean 'allow'%?%)$", msg)
    -- two rules that cannot both decide: both lines named
    ok, f, err = policy([[
local seccomp = require "sx.seccomp"
return seccomp.builder()
  :allow("socket", "family == AF_UNIX")
  :deny("socket", "family == AF_UNIX && type == 3")
  :build()
]])
    assert(ok, f)
    assert.is_nil(f)
    assert.equal(4, line_of(err.where))
    assert.matches("never decides anything: an earlier rule of the syscall holds whenever it " ..
                   "does %(rule 1 at .*:3, then rule 2 at .*:4%)$", err.message)
  end)

  it("survives to_rules and from_rules, as a filter rebuilt for exec-once is", function()
    local ok, f = policy([[
local seccomp = require "sx.seccomp"
local f = seccomp.builder()
  :allow { "@basic-io" }
  :deny "ptrace"
  :build { arch = "x86_64" }
return f
]])
    assert(ok, f)
    local rules, default, opts = seccomp.to_rules(f)
    local g = assert(seccomp.from_rules(rules, default, opts))
    assert.equal(f.bpf, g.bpf)
    for i, r in ipairs(g.rules) do
      assert.equal(f.rules[i].where, r.where)
      assert.equal(f.rules[i].group, r.group)
    end
    assert.equal(3, line_of(g.rules[1].where))
    assert.equal("@basic-io", g.rules[1].group)
    -- where and group are text, or absent
    local _, err = seccomp.from_rules({ { "allow", "read", where = 12 } }, "kill_process")
    assert.equal("bad_rule", err.code)
  end)

  it("follows calls made in a loop round again", function()
    local ok, b = policy([[
local seccomp = require "sx.seccomp"
local b = seccomp.builder()
for _, name in ipairs({ "read", "write", "close" }) do b:allow(name) end
return b
]])
    assert(ok, b)
    for i = 1, 3 do assert.equal(3, line_of(b.wheres[i])) end
  end)
end)

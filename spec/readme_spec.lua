-- The README's examples print what the README says they print, its code blocks are the
-- files they say they are, and the commands it gives for a checkout work.
local seccomp = require "sx.seccomp"
local proc = require "support.proc"

local SOURCE = os.getenv("SX_SOURCE_DIR") or "."
local q = proc.shell_quote

local function read(path) return assert(proc.read(SOURCE .. "/" .. path), path) end
local readme = read("README.md")

-- The fenced block of `lang` that follows `after` in the README.
local function block_after(after, lang)
  local at = assert(readme:find(after, 1, true), "README lacks: " .. after)
  local open = "```" .. lang .. "\n"
  local s = assert(readme:find(open, at, true))
  local e = assert(readme:find("\n```\n", s, true))
  return readme:sub(s + #open, e)
end

local function shown(s) return readme:find(s, 1, true) ~= nil end

describe("README", function()
  it("shows the builder example's real output", function()
    local f = assert(seccomp.builder()
      :allow { "read", "write", "close", "exit_group" }
      :allow("socket", { { index = 0, op = "eq", value = 1 } })
      :deny "ptrace"
      :rule("log", "uname")
      :build { default = "kill_process", arch = "x86_64" })
    assert.is_true(shown("--> " .. tostring(f)))
    local a, n = f:eval("socket", { 2 })
    assert.is_true(shown(("--> %s   %d"):format(tostring(a), n)))
    a, n = f:eval("ptrace")
    assert.is_true(shown(("--> %s   %d"):format(tostring(a), n)))
  end)

  it("shows policies/minimal.lua as it is, under 'A first policy'", function()
    assert.equal(read("policies/minimal.lua"), block_after("## A first policy", "lua"))
  end)

  it("runs its Lua snippets from a checkout: build/sxlua run, or tools/env and lua5.4 #lua54", function()
    local snippet = block_after("Build filters from Lua directly (`examples/first.lua`)", "lua")
    assert.equal(read("examples/first.lua"), snippet)
    assert.is_true(shown("build/sxlua run examples/first.lua"))
    assert.is_true(shown(". tools/env && lua5.4 examples/first.lua"))
    -- what each print line promises, after its "-->"
    local promised = {}
    for line in snippet:gmatch("[^\n]+") do
      local want = line:match("^print%(.-%-%-> (.*)$")
      if want then promised[#promised + 1] = want:gsub("%s+", " ") end
    end
    assert.equal(3, #promised)
    local function check(cmd)
      local code, out, err = proc.run(cmd)
      assert.equal(0, code, err)
      local got = {}
      for line in out:gmatch("[^\n]+") do got[#got + 1] = line:gsub("%s+", " ") end
      for i, want in ipairs(promised) do assert.equal(want, got[i]) end
      assert.matches("^%s*0: ld", got[4])
    end
    if seccomp.arch() ~= "x86_64" then return pending("the README's output is x86_64's") end
    check(("cd / && %s run %s"):format(proc.SXLUA, q(SOURCE .. "/examples/first.lua")))
    check(("cd / && env -u LUA_PATH -u LUA_CPATH bash -c %s"):format(
      q(". " .. q(SOURCE .. "/tools/env") .. " && lua5.4 " .. q(SOURCE .. "/examples/first.lua"))))
  end)

  it("says that sxlua is build/sxlua in a checkout", function()
    assert.is_true(shown("Where this README says `sxlua`, a checkout has `build/sxlua`"))
  end)

  it("gives Pods the SeccompProfile, through the operator and as a plain Localhost file", function()
    local pod = block_after("A Pod then names it as a Localhost profile", "yaml")
    assert.matches("\n    seccompProfile:\n      type: Localhost\n      localhostProfile: operator/web.json", pod)
    assert.matches("before 0%.9: operator/NAMESPACE/web%.json", pod)
    local plain = block_after("Without the operator, copy a plain profile", "yaml")
    assert.matches("type: Localhost\n      localhostProfile: profiles/web.json", plain)
    assert.is_true(shown("sxlua export --allow-exec policy.lua > /var/lib/kubelet/seccomp/profiles/web.json"))
    assert.is_true(shown("sxlua export --format spo --name web --allow-exec policy.lua | kubectl apply -f -"))
    -- both are YAML a reader takes
    for _, text in ipairs { pod, plain } do
      local path = proc.tmpname() .. ".yaml"
      proc.write(path, text)
      local code, _, err = proc.run("python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' " .. path)
      os.remove(path)
      assert.equal(0, code, err)
    end
  end)
end)

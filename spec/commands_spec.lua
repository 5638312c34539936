-- sxlua's inspection commands (dump, explain, summary, bpf, export, groups) on a known
-- policy, checked line by line, plus raw BPF and OCI sources and their errors.
local seccomp = require "sx.seccomp"
local proc = require "support.proc"

local build = assert(os.getenv("SX_BUILD_DIR"), "run through ctest")
local source = assert(os.getenv("SX_SOURCE_DIR"))
local sxlua = build .. "/sxlua"
local known = source .. "/spec/fixtures/known_policy.lua"

local function run(args)
  local p = io.popen(("%s %s 2>&1"):format(sxlua, args))
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

-- stdout and stderr apart: code, out, err
local function run_apart(args)
  return proc.run(("%s %s"):format(sxlua, args))
end

local function lines(text)
  local t = {}
  for line in text:gmatch("[^\n]+") do t[#t + 1] = line end
  return t
end

local function known_filter()
  return assert(dofile(known))
end

describe("sxlua dump #lua54", function()
  it("prints the reviewed disassembly of the known policy, line by line", function()
    local out, code = run("dump " .. known)
    assert.equal(0, code)
    local dump = assert(proc.read(source .. "/spec/fixtures/known_policy.dump"))
    local got, want = lines(out), lines(dump)
    assert.equal(#want, #got)
    for i = 1, #want do assert.equal(want[i], got[i]) end
  end)

  it("gives one line per instruction, with the right syscall names, for a big policy", function()
    local out, code = run("dump " .. source .. "/policies/dangerous.lua")
    assert.equal(0, code)
    local t = lines(out)
    local named = 0
    for i, line in ipairs(t) do
      assert.matches(("^%%s*%d: %%l+"):format(i - 1), line)
      local k, name = line:match("jge  #(%d+) .-; ([%w_]+)$")
      if k then
        named = named + 1
        assert.equal(seccomp.syscall_name(tonumber(k), "x86_64"), name)
      end
    end
    assert.is_true(named > 10)
  end)
end)

describe("sxlua explain #lua54", function()
  it("names the deciding rule, the action and the path", function()
    local out, code = run("explain " .. known .. " -- socket 1")
    assert.equal(0, code)
    local t = lines(out)
    assert.equal("socket(family=0x1, type=0x0, protocol=0x0, 0x0, 0x0, 0x0) on x86_64, syscall number 41", t[1])
    assert.equal("action: allow", t[2])
    assert.matches("^decided by: rule 3 at .*spec/fixtures/known_policy.lua:6: its conditions hold$", t[3])
    assert.equal("path: 9 instructions", t[4])
    local pcs = {}
    for i = 5, #t do pcs[#pcs + 1] = tonumber(t[i]:match("^%s*(%d+):")) end
    assert.same({ 0, 1, 2, 3, 4, 5, 6, 7, 8 }, pcs)
  end)

  it("agrees with the emulator for the other outcomes", function()
    local f = known_filter()
    for _, probe in ipairs { { "socket", "2" }, { "ptrace" }, { "read" }, { "uname" } } do
      local out, code = run("explain " .. known .. " -- " .. table.concat(probe, " "))
      assert.equal(0, code)
      local action = f:eval(probe[1], { tonumber(probe[2]) })
      assert.equal("action: " .. tostring(action), lines(out)[2])
    end
    local out = run("explain " .. known .. " -- socket 2")
    assert.equal("decided by: no rule matches: the default action applies", lines(out)[3])
    out = run("explain " .. known .. " -- ptrace")
    assert.matches("^decided by: rule 4 at .*known_policy.lua:6, the syscall's unconditional rule$", lines(out)[3])
  end)

  it("takes named constants, other architectures, and numbers", function()
    local out = run("explain " .. known .. " -- socket AF_UNIX")
    assert.equal("action: allow", lines(out)[2])
    out = run("explain --arch i386 " .. known .. " -- 3")
    assert.matches("the filter is not built for i386", out)
    assert.matches("action: kill_process", out)
  end)

  it("gives the kernel's combined answer for a stack of filters", function()
    local stack = os.tmpname()
    local f = assert(io.open(stack, "w"))
    f:write([[local seccomp = require "sx.seccomp"
      return { filters = { seccomp.deny_list({ "ptrace" }),
                           seccomp.deny_list({ "ptrace" }, { deny_action = "kill_process" }) } }]])
    f:close()
    local out, code = run("explain " .. stack .. " -- ptrace")
    os.remove(stack)
    assert.equal(0, code)
    assert.matches("# the kernel's answer: kill_process %(from filter 2%)", out)
  end)

  it("fails clearly on a bad syscall or a missing one", function()
    local out, code = run("explain " .. known .. " -- opne")
    assert.equal(125, code)
    assert.matches("did you mean 'open'", out)
    out, code = run("explain " .. known)
    assert.equal(125, code)
    assert.matches("explain needs a syscall", out)
  end)
end)

describe("sxlua summary #lua54", function()
  it("lists each action's syscalls and the cache's view", function()
    local out, code = run("summary " .. known)
    assert.equal(0, code)
    local t = lines(out)
    assert.equal(("%d BPF instructions"):format(#known_filter()), t[1])
    assert.equal("x86_64:", t[2])
    assert.equal("  allow (2): read write", t[3])
    assert.equal("  errno(EPERM) (1): ptrace", t[4])
    assert.matches("^  kill_process %(%d+%): ", t[5])
    assert.equal("  depends on arguments (1): socket", t[6])
    assert.equal("  constant-action cache: 2 syscalls allowed without running the filter", t[7])
    assert.matches("^    not cached: socket %(its decision depends on the arguments", t[8])
  end)
end)

describe("sxlua bpf #lua54", function()
  it("writes exactly the compiled program, to stdout or a file", function()
    local f = known_filter()
    local code, out = run_apart("bpf " .. known)
    assert.equal(0, code)
    assert.equal(f.bpf, out)
    local path = os.tmpname()
    assert.equal(0, select(2, run(("bpf -o %s %s"):format(path, known))))
    assert.equal(f.bpf, assert(proc.read(path)))
    -- and reads it back: raw BPF as a source
    out, code = run(("explain --bpf %s -- ptrace"):format(path))
    os.remove(path)
    assert.equal(0, code)
    assert.equal("action: errno(EPERM)", lines(out)[2])
  end)

  it("refuses a file that is not a BPF program", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write("not bpf")
    f:close()
    local out, code = run("dump --bpf " .. path)
    os.remove(path)
    assert.equal(125, code)
    assert.matches("multiple of 8 bytes", out)
  end)
end)

describe("sxlua export and --oci #lua54", function()
  it("exports a profile that imports back to the same decisions", function()
    local code, out = run_apart("export " .. known)
    assert.equal(0, code)
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(out)
    f:close()
    local a = known_filter()
    for _, probe in ipairs { { "read" }, { "socket", "1" }, { "socket", "2" }, { "ptrace" }, { "uname" } } do
      local got = run(("explain --oci %s --arch x86_64 -- %s"):format(path, table.concat(probe, " ")))
      assert.equal("action: " .. tostring(a:eval(probe[1], { tonumber(probe[2]) })), lines(got)[2])
    end
    os.remove(path)
  end)
end)

describe("sxlua summary and explain --oci #lua54", function()
  it("print what the import left out, and why", function()
    local podman = source .. "/spec/fixtures/podman_profile.json"
    local code, out = run_apart("summary --oci " .. podman .. " --arch x86_64")
    assert.equal(0, code)
    assert.matches("\nimport of [^\n]*podman_profile.json: arches x86_64 %(from opts%)", out)
    assert.matches("\n  excluded syscalls%[3%] %(keyctl add_key request_key%): includes.caps: " ..
                   "CAP_SYS_ADMIN is not held\n", out)
    assert.matches("\n  unknown pciconfig_iobase %(syscalls%[1%]%): no target arch has it\n", out)
    code, out = run_apart("explain --oci " .. podman .. " --arch x86_64 -- keyctl")
    assert.equal(0, code)
    assert.equal("action: errno(ENOSYS)", lines(out)[2])
    assert.matches("\n  excluded syscalls%[3%] %(keyctl add_key request_key%)", out)
  end)
end)

describe("sxlua bpf and export for other runtimes #lua54", function()
  it("warn on stderr when the filter forbids execve, and keep stdout clean", function()
    local code, out, err = run_apart("bpf " .. known)
    assert.equal(0, code)
    assert.equal(known_filter().bpf, out)
    assert.matches("^sxlua: warning: this filter forbids execve %(kill_process%): runc, crun " ..
                   "and bwrap %-%-seccomp", err)
    assert.matches("\nsxlua: warning: add %-%-allow%-exec .* run the workload with sxlua itself", err)
    code, out, err = run_apart("export " .. known)
    assert.equal(0, code)
    assert.matches("^{\n", out)
    assert.matches("forbids execve", err)
    -- a filter that lets execve through: nothing to say
    code, out, err = run_apart("bpf " .. source .. "/policies/dangerous.lua")
    assert.equal(0, code)
    assert.equal("", err)
  end)

  it("--allow-exec adds execve and execveat, and changes nothing else", function()
    local f = known_filter()
    local path = os.tmpname()
    local code, _, err = run_apart(("bpf --allow-exec -o %s %s"):format(path, known))
    assert.equal(0, code)
    assert.equal("", err)
    local g = assert(seccomp.load(assert(proc.read(path)), "x86_64"))
    os.remove(path)
    assert.equal("allow", g:eval("execve"))
    assert.equal("allow", g:eval("execveat"))
    for _, probe in ipairs { { "read" }, { "socket", 1 }, { "socket", 2 }, { "ptrace" }, { "uname" } } do
      assert.equal(f:eval(probe[1], { probe[2] }), g:eval(probe[1], { probe[2] }))
    end
    local out
    code, out, err = run_apart("export --allow-exec " .. known)
    assert.equal(0, code)
    assert.equal("", err)
    local h = assert(require("sx.oci").import(out, { arch = "x86_64" }))
    assert.equal("allow", h:eval("execve"))
    assert.equal("kill_process", h:eval("uname"))
  end)

  it("--allow-exec needs rules, and is for bpf and export only", function()
    local path = os.tmpname()
    assert(run_apart(("bpf -o %s %s"):format(path, known)) == 0)
    local code, _, err = run_apart(("bpf --allow-exec --bpf %s"):format(path))
    os.remove(path)
    assert.equal(125, code)
    assert.matches("%-%-allow%-exec: this filter was loaded from raw BPF", err)
    code, _, err = run_apart("dump --allow-exec " .. known)
    assert.equal(125, code)
    assert.matches("%-%-allow%-exec is not an option of dump", err)
  end)

  it("send what the policy prints to stderr, so stdout is only the program", function()
    local noisy = os.tmpname() .. ".lua"
    proc.write(noisy, ('print("from print")\nio.write("from io.write\\n")\n' ..
                       'io.stdout:write("from io.stdout\\n")\nos.execute("echo from a child")\n' ..
                       'return dofile(%q)\n'):format(known))
    local code, out, err = run_apart("bpf --allow-exec " .. noisy)
    assert.equal(0, code)
    assert.equal(assert(seccomp.exec_allowed(known_filter())).bpf, out)
    for _, what in ipairs { "from print", "from io.write", "from io.stdout", "from a child" } do
      assert.matches(what, err, 1, true)
    end
    code, out = run_apart("export --allow-exec " .. noisy)
    assert.equal(0, code)
    assert.matches("^{\n", out)
    assert.not_matches("from", out)
    code, out = run_apart("summary --json " .. noisy)
    assert.equal(0, code)
    assert.is_table(require("cjson").decode(out))
    os.remove(noisy)
  end)
end)

describe("sxlua run #lua54", function()
  it("runs a Lua script with the sx modules, its args as ... and arg", function()
    local script = os.tmpname() .. ".lua"
    proc.write(script, [[
local seccomp = require "sx.seccomp"
local f = assert(seccomp.builder():allow("socket", "arg0 == AF_UNIX"):build { arch = "x86_64" })
print(select("#", ...), arg[0] ~= nil, arg[1], ...)
print(f:eval("socket", { 1 }), (f:eval("socket", { 2 })))
]])
    local code, out, err = run_apart("run " .. script .. " one two")
    assert.equal(0, code, err)
    assert.equal("2\ttrue\tone\tone\ttwo\nallow\tkill_process\n", out)
    proc.write(script, "local x = 1\nerror('broken here')\n")
    code, out, err = run_apart("run " .. script)
    os.remove(script)
    assert.equal(1, code)
    assert.matches("^sxlua: [^\n]*:2: broken here\nstack traceback:", err)
    code, _, err = run_apart("run /nonexistent.lua")
    assert.equal(1, code)
    assert.matches("cannot open /nonexistent.lua", err)
  end)
end)

describe("sxlua groups #lua54", function()
  it("lists every group, and a group's members", function()
    local out, code = run("groups")
    assert.equal(0, code)
    assert.equal(#seccomp.groups(), #lines(out))
    out = run("groups @mount")
    local members = seccomp.group("@mount")
    assert.equal("@mount: " .. table.concat(members, " "), lines(out)[1])
    out, code = run("groups @mout")
    assert.equal(125, code)
    assert.matches("@mount", out)
  end)
end)

describe("inspecting an imperative policy #lua54", function()
  it("never runs anything", function()
    local marker = os.tmpname()
    os.remove(marker)
    local policy = os.tmpname()
    local f = assert(io.open(policy, "w"))
    f:write(([[local process = require "sx.process"
      local p = assert(process.spawn { argv = { "/bin/touch", %q } })
      p:proceed()
      return p:wait()]]):format(marker))
    f:close()
    local out, code = run("dump " .. policy)
    os.remove(policy)
    assert.equal(125, code)
    assert.matches("runs processes itself", out)
    assert.is_nil(io.open(marker))
  end)
end)

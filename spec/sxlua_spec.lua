-- The sxlua command: policies in, real workloads run, exit statuses out.
local proc = require "support.proc"

local SXLUA = proc.SXLUA
local q = proc.shell_quote

-- Write a policy to a temporary file; returns its path.
local function policy(text)
  local path = proc.tmpname() .. ".lua"
  proc.write(path, text)
  return path
end

-- sxlua with a clean Lua environment, from / (it must not need the source tree).
local function sxlua(args)
  return proc.run("cd / && " .. SXLUA .. " " .. args)
end

local DENY_PTRACE = [[return require("sx.seccomp").deny_list{ "ptrace" }]]

local SMALL_PROGRAM = [[{ "read", "write", "openat", "close", "fstat", "newfstatat", "brk",
  "mmap", "munmap", "mprotect", "pread64", "access", "arch_prctl", "set_tid_address",
  "set_robust_list", "rseq", "prlimit64", "getrandom", "getdents64", "rt_sigaction",
  "rt_sigprocmask", "rt_sigreturn", "exit_group" }]]

describe("sxlua", function()
  local files = {}
  local function p(text)
    local path = policy(text)
    files[#files + 1] = path
    return path
  end
  teardown(function()
    for _, f in ipairs(files) do os.remove(f) end
  end)

  -- A static executable where the build found the archives it links in (tools/setup
  -- installs them; CMakeLists.txt): it needs no loader and no library beside it, LPeg and
  -- lua-cjson are built in, and it refuses any other C module by name rather than
  -- half-load it into a static libc. Without the archives it is dynamic, as lua5.4 is.
  local function built_static()
    local cache = proc.read(assert(os.getenv("SX_BUILD_DIR")) .. "/CMakeCache.txt") or ""
    return cache:match("\nSX_SXLUA_STATIC:INTERNAL=ON\n") ~= nil
  end

  it("has LPeg and lua-cjson, and no loader to take LD_PRELOAD", function()
    local code, out = proc.run("cd / && env -i LD_PRELOAD=/nonexistent.so " .. SXLUA .. " run " .. q(p[[
      local lpeg, cjson = require "lpeg", require "cjson"
      print(lpeg.match(lpeg.C(lpeg.P"a"^1), "aaab"), cjson.decode('{"x":[1,2]}').x[2])
    ]]) .. " 2>&1")
    assert.equal(0, code, out)
    assert.matches("^aaa\t2", out)
    if not built_static() then return pending("sxlua is linked dynamically: this build found no " ..
                                              "static archives of LPeg and lua-cjson") end
    assert.is_nil(out:find("LD_PRELOAD", 1, true), out)     -- no loader to complain
  end)

  it("is a static executable that says so of other C modules", function()
    if not built_static() then return pending("sxlua is linked dynamically: this build found no " ..
                                              "static archives of LPeg and lua-cjson") end
    local f = assert(io.open(assert(os.getenv("SX_BUILD_DIR")) .. "/sxlua", "rb"))
    local elf = f:read(4096)
    f:close()
    assert.equal("\127ELF", elf:sub(1, 4))
    assert.is_nil(elf:find("ld-linux", 1, true), "sxlua is linked dynamically")
    local code, out = proc.run("cd / && " .. SXLUA .. " run " .. q(p[[
      print(pcall(require, "posix"))
      print(pcall(package.loadlib, "/usr/lib/x86_64-linux-gnu/liblua5.4-lpeg.so.2", "luaopen_lpeg"))
    ]]) .. " 2>&1")
    assert.equal(0, code, out)
    assert.matches("^false\tmodule 'posix' not found:.*\n\tno C module 'posix' in this sxlua: " ..
                   "it is a static executable", out)
    assert.matches("\nfalse\t[^\n]*package.loadlib: this sxlua is a static executable", out)
  end)

  -- The README says a container image can hold just the binary: in a root directory with
  -- nothing but sxlua and a policy (no loader, no libc, no /proc), it builds the policy's
  -- filter, with a text condition (LPeg) and a JSON import (lua-cjson).
  it("needs nothing beside it to build a policy", function()
    if not built_static() then return pending("sxlua is linked dynamically: this build found no " ..
                                              "static archives of LPeg and lua-cjson") end
    local root = proc.tmpname() .. ".root"
    assert(os.execute("mkdir -p " .. q(root) .. " && cp " .. q(os.getenv("SX_BUILD_DIR") .. "/sxlua") ..
                      " " .. q(root .. "/sxlua")))
    proc.write(root .. "/p.lua", [[
      local seccomp, oci = require "sx.seccomp", require "sx.oci"
      local imported = assert(oci.import('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[' ..
        '{"names":["ptrace"],"action":"SCMP_ACT_ERRNO"}]}', { arch = "x86_64", kernel = "6.1" }))
      assert(tostring(imported:eval("ptrace")) == "errno(EPERM)")
      return seccomp.builder():allow("socket", "arg0 == 1"):build{ default = "allow", arch = "x86_64" }]])
    local code, out = proc.run("chroot " .. q(root) .. " /sxlua --check /p.lua 2>&1")
    os.execute("rm -rf " .. q(root))
    assert.equal(0, code, out)
    assert.matches("^filter 1: sx.filter<x86_64 ", out)
  end)

  it("prints its help and version", function()
    local code, out = sxlua("--help")
    assert.equal(0, code)
    assert.matches("Usage: sxlua %[options%] policy.lua", out)
    assert.matches("127", out)
    assert.matches("Usage: sxlua COMMAND", out)     -- and the commands'
    code, out = sxlua("--version")
    assert.equal(0, code)
    assert.matches("^sxlua %d+%.%d+", out)
  end)

  it("exits with the workload's status", function()
    local pol = p(DENY_PTRACE)
    assert.equal(0, (sxlua(q(pol) .. " -- /bin/true")))
    assert.equal(7, (sxlua(q(pol) .. " -- sh -c 'exit 7'")))
    assert.equal(143, (sxlua(q(pol) .. " -- sh -c 'kill -TERM $$'")))
    local code, out = sxlua(q(pol) .. " -- echo hello world")
    assert.equal(0, code)
    assert.equal("hello world\n", out)
  end)

  it("exits 127 for a program not found and 126 for one not executable", function()
    local pol = p(DENY_PTRACE)
    local code, _, err = sxlua(q(pol) .. " -- no-such-program-sx")
    assert.equal(127, code)
    assert.matches("sxlua: no%-such%-program%-sx: command not found", err)
    local file = p("not a program\n")
    code, _, err = sxlua(q(pol) .. " -- " .. q(file))
    assert.equal(126, code)
    assert.matches("Permission denied", err)
  end)

  it("gives a denied syscall its errno and kills with 159 and one line", function()
    local getppid = require("sx.seccomp").syscall_number("getppid")
    local pol = p(([[
      local seccomp = require "sx.seccomp"
      return seccomp.deny_list({ "getppid" }, { deny_action = seccomp.errno("EACCES") })]]))
    assert.equal(13, (sxlua(q(pol) .. " -- " .. q(proc.bin("sxtry")) .. " " .. getppid)))
    local kill = p([[return require("sx.seccomp").deny_list({ "getppid" }, { deny_action = "kill_process" })]])
    local code, _, err = sxlua(q(kill) .. " -- " .. q(proc.bin("sxtry")) .. " " .. getppid)
    assert.equal(159, code)
    assert.equal(("sxlua: sxtry (pid %s) killed: getppid(): kill_process, rule at %s:1\n")
                 :format(err:match("pid (%d+)"), kill), err)
  end)

  it("runs the issue's exec-once policy: the program starts, a later execve is killed", function()
    local pol = p("return require('sx.seccomp').allow_list(" .. SMALL_PROGRAM ..
                  ", { default = 'kill_process' })")
    assert.equal(0, (sxlua(q(pol) .. " -- /bin/true")))
    local code, _, err = sxlua(q(pol) .. " -- " .. q(proc.bin("execer")) .. " /bin/true")
    assert.equal(159, code)
    assert.matches('^sxlua: execer %(pid %d+%) killed: execve%("/bin/true", 0x%x+, 0x%x+%): ' ..
                   "kill_process, the default %(" .. pol:gsub("%p", "%%%0") .. ":1%)\n$", err)
    -- with --no-supervise, the kernel kills it: the same status, no report of the call
    code, _, err = sxlua("--no-supervise " .. q(pol) .. " -- " .. q(proc.bin("execer")) .. " /bin/true")
    assert.equal(159, code)
    assert.matches("^sxlua: .*execer was killed by the seccomp filter %(SIGSYS%)[^\n]*\n$", err)
  end)

  it("passes policy args as ... and arg, and the workload's argv as sxlua.argv", function()
    local out = proc.tmpname()
    local pol = p(([[
      local a, b = ...
      local f = assert(io.open(%q, "w"))
      f:write(a, ",", b, ",", arg[0], ",", arg[1], ",", table.concat(sxlua.argv, " "))
      f:close()
      return require("sx.seccomp").deny_list{ "ptrace" }]]):format(out))
    local code = sxlua(q(pol) .. " one two -- /bin/echo x y")
    assert.equal(0, code)
    local text = proc.read(out)
    os.remove(out)
    assert.equal("one,two," .. pol .. ",one,/bin/echo x y", text)
  end)

  it("lets an imperative policy drive sx.process and returns its wait()", function()
    local pol = p([[
      local process = require "sx.process"
      local seccomp = require "sx.seccomp"
      local p = assert(process.spawn{ argv = sxlua.argv })
      assert(p:install(seccomp.deny_list{ "ptrace" }))
      assert(p:proceed())
      return p:wait()]])
    assert.equal(5, (sxlua(q(pol) .. " -- sh -c 'exit 5'")))
    assert.equal(137, (sxlua(q(pol) .. " -- sh -c 'kill -KILL $$'")))
  end)

  it("ends what an imperative policy leaves behind, parked or running, when it exits", function()
    -- (sxlua frees its Lua state at the end only while a spawned process is left: then
    -- each handle's __gc kills and reaps it. The parent-death signal backs that up, but a
    -- program may clear its own: the survivor does, and without a namespace nothing else
    -- ends it. What it forks outlives sxlua there, as the README says.)
    local out, dir = proc.tmpname(), proc.tmpname()
    os.execute("mkdir " .. q(dir))
    local pol = p(([[
      local process = require "sx.process"
      local seccomp = require "sx.seccomp"
      local pids = {}
      for _, ns in ipairs{ true, false } do
        local argv = ns and { "/bin/sleep", "30" } or { %q, %q }
        local parked = assert(process.spawn{ argv = { "/bin/sleep", "30" }, pid_namespace = ns })
        local running = assert(process.spawn{ argv = argv, pid_namespace = ns })
        assert(running:install(seccomp.deny_list{ "ptrace" }))
        assert(running:proceed())
        pids[#pids + 1] = parked.pid .. " " .. running.pid
      end
      while not io.open(%q) do os.execute("sleep 0.01") end   -- its death signal cleared
      local f = assert(io.open(%q, "w")); f:write(table.concat(pids, " ")); f:close()
      return 0]]):format(proc.bin("survivor"), dir, dir .. "/child", out))
    assert.equal(0, (sxlua(q(pol))))
    local pids = {}
    for pid in proc.read(out):gmatch("%d+") do pids[#pids + 1] = tonumber(pid) end
    local forked = tonumber(proc.read(dir .. "/child"))
    if forked then os.execute("kill -9 " .. forked) end
    os.execute("rm -rf " .. q(dir) .. " " .. q(out))
    assert.equal(4, #pids)
    for _, pid in ipairs(pids) do
      assert.is_true(proc.eventually(function() return proc.pid_state(pid) ~= "alive" end), pid)
    end
  end)

  it("takes a table of options with the filters", function()
    local out = proc.tmpname()
    local pol = p([[
      local seccomp = require "sx.seccomp"
      return { filters = { seccomp.deny_list{ "ptrace" }, seccomp.deny_list{ "mount" } },
               env = { "SXV=42", "PATH=/usr/bin:/bin" }, cwd = "/tmp" }]])
    assert.equal(0, (sxlua(q(pol) .. " -- sh -c " .. q('echo "$SXV $(pwd)" > ' .. out))))
    assert.equal("42 /tmp\n", proc.read(out))
    os.remove(out)
    local bad = p([[return { filter = require("sx.seccomp").deny_list{ "ptrace" }, stdin = 1 }]])
    local code, _, err = sxlua(q(bad) .. " -- /bin/true")
    assert.equal(125, code)
    assert.matches("unknown option 'stdin'", err)
  end)

  describe("policy errors exit 125 before anything runs", function()
    local marker = proc.tmpname()
    local function runs_nothing(pol)
      local code, out, err = sxlua(q(pol) .. " -- sh -c " .. q("touch " .. marker))
      assert.is_nil(proc.read(marker))
      return code, out, err
    end

    it("a syntax error, with the line", function()
      local pol = p("local x = \n\nreturn (")
      local code, _, err = runs_nothing(pol)
      assert.equal(125, code)
      assert.matches("^sxlua: " .. pol:gsub("%p", "%%%0") .. ":3: unexpected symbol", err)
    end)

    it("a runtime error, with the line", function()
      local pol = p("local seccomp = require 'sx.seccomp'\nerror('no tenant given')\n")
      local code, _, err = runs_nothing(pol)
      assert.equal(125, code)
      assert.equal("sxlua: " .. pol .. ":2: no tenant given\n", err)
    end)

    it("a filter error returned by the policy, with the policy line", function()
      local pol = p("local seccomp = require 'sx.seccomp'\n\nreturn seccomp.allow_list{ 'read', 'wirte' }\n")
      local code, _, err = runs_nothing(pol)
      assert.equal(125, code)
      assert.matches("^sxlua: " .. pol:gsub("%p", "%%%0") .. ":3: unknown syscall 'wirte'", err)
    end)

    it("a misuse raised by sx, with the line", function()
      local pol = p("local seccomp = require 'sx.seccomp'\nreturn seccomp.allow_list({ 'read' }, { dafault = 'allow' })\n")
      local code, _, err = runs_nothing(pol)
      assert.equal(125, code)
      assert.matches(pol:gsub("%p", "%%%0") .. ":2: allow_list: unknown option 'dafault'", err)
    end)

    it("an error in a tail call, with the line of the call, in the policy's own functions too",
       function()
      local pol = p("local seccomp = require 'sx.seccomp'\n" ..
                    "local function build(names)\n" ..
                    "  return seccomp.allow_list(names, { dafault = 'allow' })\n" ..
                    "end\n" ..
                    "return build{ 'read' }\n")
      local code, _, err = runs_nothing(pol)
      assert.equal(125, code)
      assert.equal("sxlua: " .. pol .. ":3: allow_list: unknown option 'dafault'\n", err)
      pol = p("local seccomp = require 'sx.seccomp'\n" ..
              "local function fail() error({ code = 'mine' }) end\n" ..
              "local function indirect() return fail() end\n" ..
              "return indirect()\n")
      code, _, err = runs_nothing(pol)
      assert.equal(125, code)
      assert.matches("^sxlua: " .. pol:gsub("%p", "%%%0") .. ":2: table: ", err)
    end)

    it("a binary chunk, a missing policy, a policy that returns nothing", function()
      local bin = p(string.dump(load("return 1")))
      local code, _, err = runs_nothing(bin)
      assert.equal(125, code)
      assert.matches("binary chunk", err)
      code, _, err = runs_nothing("/nonexistent/policy.lua")
      assert.equal(125, code)
      assert.matches("cannot open /nonexistent/policy.lua", err)
      code, _, err = runs_nothing(p("local x = 1\n"))
      assert.equal(125, code)
      assert.matches("returned nothing", err)
    end)

    it("an imperative policy's exit status out of range", function()
      local code, _, err = sxlua(q(p("return 256")) .. " -- /bin/true")
      assert.equal(125, code)
      assert.matches("an exit status is 0..255, got 256", err)
      code, _, err = sxlua(q(p("return 'signaled', 400")) .. " -- /bin/true")
      assert.equal(125, code)
      assert.matches("a signal is 1..64, got 400", err)
      assert.equal(137, (sxlua(q(p("return 'signaled', 9")) .. " -- /bin/true")))
    end)

    it("a filter error the policy dropped: that error with its line, not only 'nothing'", function()
      local pol = p('local seccomp = require "sx.seccomp"; ' ..
                    'local f = seccomp.from_rules({{"allow","mmapp"}}, "kill_process"); return f\n')
      local code, _, err = runs_nothing(pol)
      assert.equal(125, code)
      local first, second = err:match("^([^\n]*)\n([^\n]*)\n$")
      assert.equal("sxlua: " .. pol .. ":1: rule 1: unknown syscall 'mmapp' (did you mean 'mmap'?)", first)
      assert.matches("returned nothing", second)
      pol = p('local seccomp = require "sx.seccomp"\nreturn { filter = seccomp.allow_list{"raed"} }\n')
      code, _, err = runs_nothing(pol)
      assert.equal(125, code)
      first, second = err:match("^([^\n]*)\n([^\n]*)\n$")
      assert.equal("sxlua: " .. pol .. ":2: unknown syscall 'raed' (did you mean 'read'?)", first)
      assert.equal("sxlua: " .. pol .. ": the policy's table has no filter", second)
      -- the inspection commands say it too
      code, _, err = sxlua("dump " .. q(pol))
      assert.equal(125, code)
      assert.matches("^sxlua: [^\n]*:2: unknown syscall 'raed' %(did you mean 'read'%?%)\n", err)
    end)

    it("an unknown option or no program", function()
      assert.equal(125, (sxlua("--frobnicate " .. q(p(DENY_PTRACE)) .. " -- /bin/true")))
      local code, _, err = sxlua(q(p(DENY_PTRACE)))
      assert.equal(125, code)
      assert.matches("no program to run", err)
    end)
  end)

  it("sets no_new_privs by default, root included, unless the policy says no_new_privs = false", function()
    local nnp = "grep NoNewPrivs /proc/self/status"
    local code, out = sxlua(q(p(DENY_PTRACE)) .. " -- " .. nnp)
    assert.equal(0, code)
    assert.matches("NoNewPrivs:%s+1", out)   -- root, not asked: set all the same
    code, out = sxlua(q(p("return { filter = require('sx.seccomp').deny_list{ 'ptrace' }, " ..
                          "no_new_privs = false }")) .. " -- " .. nnp)
    assert.equal(0, code)
    assert.matches("NoNewPrivs:%s+0", out)   -- root has CAP_SYS_ADMIN: the opt-out works
    code, out = proc.run("setpriv --bounding-set -sys_admin " .. SXLUA .. " " ..
                         q(p(DENY_PTRACE)) .. " -- " .. nnp)
    assert.equal(0, code)
    assert.matches("NoNewPrivs:%s+1", out)
  end)

  it("forwards a TERM sent to it to the workload", function()
    local dir = proc.tmpname()
    assert(os.execute("mkdir " .. q(dir)))
    local script = ("trap 'exit 42' TERM; touch %s/started; while :; do sleep 0.05; done")
                   :format(dir)
    os.execute(("(%s %s -- sh -c %s & echo $! > %s/pid; wait $!; echo $? > %s/rc) &"):format(
      SXLUA, q(p(DENY_PTRACE)), q(script), dir, dir))
    assert.is_true(proc.eventually(function() return proc.read(dir .. "/started") ~= nil end))
    assert(os.execute("kill -TERM " .. assert(proc.eventually_line(dir .. "/pid"))))
    assert.equal("42\n", proc.eventually_line(dir .. "/rc"))   -- the workload's trap ran; sxlua lived
    os.execute("rm -rf " .. q(dir))
  end)

  it("resets ignored signals before the program starts", function()
    -- a shell that ignores TERM and INT passes that on through exec; the agent resets it
    local cmd = ("trap '' TERM INT; %s %s -- grep SigIgn /proc/self/status")
                :format(SXLUA, q(p(DENY_PTRACE)))
    local code, out = proc.run("sh -c " .. q(cmd))
    assert.equal(0, code)
    assert.equal("SigIgn:\t0000000000000000\n", out)
    local _, plain = proc.run("sh -c " .. q("trap '' TERM INT; grep SigIgn /proc/self/status"))
    assert.are_not.equal(out, plain)   -- without the agent, they stay ignored
  end)

  it("--check prints the filters and runs nothing", function()
    local code, out = sxlua("--check " .. q(p(DENY_PTRACE)))
    assert.equal(0, code)
    assert.matches("^filter 1: sx.filter<", out)
  end)

  it("gives the rules of a policy that ends in a tail call their line", function()
    local pol = p("local seccomp = require 'sx.seccomp'\n" ..
                  "return seccomp.from_rules({ { 'allow', 'read' } }, 'kill_process',\n" ..
                  "                          { arch = 'x86_64' })\n")
    local code, out = sxlua("explain " .. q(pol) .. " -- read")
    assert.equal(0, code)
    assert.matches("decided by: rule at " .. pol:gsub("%p", "%%%0") .. ":2,", out)
  end)

  it("runs its modules as bytecode that keeps their names and lines", function()
    local script = p([[
local e = require "sx.error"
local info = debug.getinfo(e.new, "SL")
assert(info.short_src == "sx.error", info.short_src)
assert(next(info.activelines), "no line information")
local ok, msg = pcall(require("sx.inspect").format_explain, 5)   -- a misuse: sx's line
print(info.linedefined, ok, msg)
]])
    local code, out, err = sxlua("run " .. q(script))
    assert.equal(0, code, err)
    local line = tonumber(out:match("^(%d+)\t"))
    assert.is_true(line > 1)
    assert.matches("\tfalse\tsx%.inspect:%d+: attempt to index a number value", out)
  end)
end)

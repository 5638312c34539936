-- seccomp.install puts a filter on the calling process. A filter cannot be removed, so
-- every install here happens in a child process (a lua5.4 or a C program).
local seccomp = require "sx.seccomp"

local build = assert(os.getenv("SX_BUILD_DIR"), "run through ctest")

local function run(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok, how, code = p:close()
  return out, how, code
end

-- Run a Lua chunk in a fresh lua5.4 with the same module paths.
local function lua(chunk)
  return run(("%s -e %q"):format(os.getenv("SX_LUA") or "lua5.4", chunk))
end

describe("seccomp.install", function()
  it("installs on the calling process: denied syscalls fail, others work", function()
    local out, how, code = lua([[
      local seccomp = require "sx.seccomp"
      local f = assert(seccomp.deny_list({ "openat", "open" }, { deny_action = seccomp.errno "EACCES" }))
      assert(io.open("/proc/self/status")):close()
      assert(seccomp.install(f))
      local file, msg, errno = io.open("/proc/self/status")
      io.write(tostring(file), " ", tostring(errno), " ", msg)
    ]])
    assert.equal("exit", how, out)
    assert.equal(0, code, out)
    assert.matches("^nil 13 .*Permission denied", out)
  end)

  it("stacks: a second install narrows further", function()
    local out, how, code = lua([[
      local seccomp = require "sx.seccomp"
      assert(seccomp.install(assert(seccomp.deny_list({ "getcwd" }))))
      assert(seccomp.install(assert(seccomp.deny_list({ "openat", "open" },
        { deny_action = seccomp.errno "ENOENT" }))))
      local _, _, errno = io.open("/proc/self/status")
      io.write(tostring(errno))
    ]])
    assert.equal(0, code, out)
    assert.equal("2", out)
  end)

  it("reports the kernel's refusal with errno and a sentence", function()
    -- no_new_privs = false and no CAP_SYS_ADMIN: drop it with setpriv if available
    local have_setpriv = run("command -v setpriv") ~= ""
    if not have_setpriv then return pending("setpriv (util-linux) is not installed") end
    local out, how, code = run(("setpriv --inh-caps=-all --bounding-set=-all " ..
      "%s -e %q"):format(os.getenv("SX_LUA") or "lua5.4", [[
      local seccomp = require "sx.seccomp"
      local ok, err = seccomp.install(assert(seccomp.deny_list({ "ptrace" })), { no_new_privs = false })
      io.write(tostring(ok), " ", err.code, " ", err.errno, " ", tostring(err))
    ]]))
    assert.equal(0, code, out)
    assert.matches("^nil install_failed 13 .*no_new_privs", out)
  end)

  it("refuses a filter for another architecture before touching the process", function()
    local other = seccomp.arch() == "aarch64" and "x86_64" or "aarch64"
    local out, how, code = lua(([[
      local seccomp = require "sx.seccomp"
      local ok, err = seccomp.install(assert(seccomp.allow_list({ "read" }, { arch = %q })))
      local f = io.open("/proc/self/status"); local s = f:read("a"); f:close()
      io.write(tostring(ok), " ", err.code, " ", s:match("Seccomp:%%s*(%%d)"))
    ]]):format(other))
    assert.equal(0, code, out)
    assert.equal("nil unsupported_arch 0", out)
  end)

  it("refuses a filter that notifies: nothing could answer it (no deadlock)", function()
    local out, how, code = lua([[
      local seccomp = require "sx.seccomp"
      local f = assert(seccomp.from_rules({ { "notify", "uname" } }, "allow"))
      local ok, err = seccomp.install(f)
      io.write(tostring(ok), " ", err.code, " ", err.message, "\n")
      io.write(io.open("/proc/self/status"):read("a"):match("Seccomp:%s*(%d)"))
    ]])
    assert.equal("exit", how, out)
    assert.equal(0, code, out)
    assert.matches("^nil bad_program the filter returns notify .* cannot supervise itself", out)
    assert.matches("\n0$", out)        -- nothing was installed
  end)

  it("rejects unknown options and non-filters loudly", function()
    assert.has_error(function() seccomp.install({}) end)
    assert.has_error(function()
      seccomp.install(assert(seccomp.allow_list({ "read" })), { tysnc = true })
    end)
  end)

  it("synchronises the filter to every thread (TSYNC)", function()
    local out, how, code = run(build .. "/tsync_threads ok")
    assert.equal(0, code, out)
    local threads = 0
    for mode, errno in out:gmatch("mode=(%d+) getppid_errno=(%d+)") do
      threads = threads + 1
      assert.equal("2", mode, out)
      assert.equal("1", errno, out)
    end
    assert.equal(5, threads, out)
  end)

  it("names the thread that cannot be synchronised, and installs nothing", function()
    local out, how, code = run(build .. "/tsync_threads conflict")
    assert.equal(0, code, out)
    local tid, expected = out:match("tsync_failed tid=(%d+) expected=(%d+)")
    assert.equal(expected, tid, out)
    assert.matches("thread " .. tid .. " could not be synchronised", out)
  end)
end)

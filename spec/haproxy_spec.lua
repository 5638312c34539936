-- HAProxy (Debian's, which links Lua 5.3) loads sx built for 5.3, builds a filter at init
-- time, installs it on every thread once it is up, and keeps serving through it.
local gw = require "support.gateway"

local source = assert(os.getenv("SX_SOURCE_DIR"), "run through ctest")
local build = assert(os.getenv("SX_BUILD_DIR"))
local have_haproxy = gw.run("command -v haproxy") ~= ""

describe("HAProxy with sx (Lua 5.3 build)", function()
  if os.getenv("SX_LUA_ABI") ~= "5.3" then
    it("runs in the Lua 5.3 build (cmake -DSX_LUA=5.3), which .ci/run also makes", function()
      pending("this build's sx.core is for Lua " .. tostring(os.getenv("SX_LUA_ABI")))
    end)
    return
  end
  if not have_haproxy then
    it("needs Debian's haproxy", function() pending("haproxy is not installed") end)
    return
  end

  local dir, port, pid

  -- The command examples/haproxy/README.md gives, with this build, a free port, and
  -- HAProxy in the background.
  local function readme_command()
    local readme = assert(gw.read(source .. "/examples/haproxy/README.md"))
    local line = assert(readme:match("\n(SX_EXAMPLE_DIR=[^\n]*haproxy %-f examples/haproxy/haproxy%.cfg)\n"))
    assert.matches('SX_LUA_PATH="$PWD/lua/?.lua;$PWD/build-5.3/?.lua"', line, 1, true)
    return line
  end

  setup(function()
    dir, port = gw.tempdir(), gw.port()
    local cmd = readme_command():gsub("SX_PORT=8080", "SX_PORT=" .. port)
                                :gsub("%$PWD/build%-5%.3/", (build:gsub("%%", "%%%%")) .. "/")
    cmd = ("cd %q && %s -D -p %q"):format(source, cmd, dir .. "/haproxy.pid")
    local out, ok = gw.run(cmd)
    assert(ok, out)
    pid = tonumber(gw.read(dir .. "/haproxy.pid"))
    assert(gw.wait(port, "/hello"), "haproxy did not answer on port " .. port)
  end)

  teardown(function()
    if pid then gw.run("kill " .. pid) end
    gw.run(("rm -rf %q"):format(dir))
  end)

  it("installs the filter once it is up", function()
    assert.equal("installed\n", gw.wait(port, "/status"))
  end)

  it("keeps serving HTTP through the filter", function()
    for _ = 1, 20 do
      assert.equal("hello from behind the filter\n", (gw.fetch(port, "/hello")))
    end
  end)

  it("filters every thread: Seccomp 2 in /proc", function()
    assert.equal(2, gw.seccomp(pid))
    local modes = gw.thread_modes(pid)
    assert.equal(4, #modes)               -- nbthread 4
    for _, mode in ipairs(modes) do assert.equal(2, mode) end
  end)

  it("gives a Lua service that tries a denied syscall EPERM", function()
    -- unfiltered, removing that path fails with ENOENT (2); under the filter, EPERM (1)
    local _, _, unfiltered = os.remove("/nonexistent/sx-haproxy-probe")
    assert.equal(2, unfiltered)
    assert.matches("Operation not permitted errno=1", gw.fetch(port, "/denied"))
  end)
end)

-- nginx with Debian's Lua module (LuaJIT): init_worker_by_lua_block installs a filter
-- through sx.ffi in each worker; the master stays unfiltered, so reloads keep working.
local gw = require "support.gateway"

local source = assert(os.getenv("SX_SOURCE_DIR"), "run through ctest")
local build = assert(os.getenv("SX_BUILD_DIR"))
local module = "/usr/lib/nginx/modules/ngx_http_lua_module.so"

describe("nginx-lua with sx.ffi", function()
  if gw.run("command -v nginx") == "" or not gw.read(module) then
    it("needs nginx and libnginx-mod-http-lua", function() pending("not installed") end)
    return
  end

  local dir, port, conf, master

  local function workers()
    local list = gw.children(master)
    table.sort(list)
    return list
  end

  -- The commands examples/nginx-lua/README.md gives (mkdir, sed, nginx), with a
  -- directory and port of this run's own and this build.
  local function readme_commands()
    local readme = assert(gw.read(source .. "/examples/nginx-lua/README.md"))
    local block = assert(readme:match("```sh\n(mkdir %-p /tmp/sx%-nginx/tmp\n.-)```"))
    assert.matches("@LUA_PATH@|$PWD/examples/nginx-lua/?.lua;$PWD/lua/?.lua|g", block, 1, true)
    local function plain(s) return (s:gsub("%%", "%%%%")) end
    return (block:gsub("/tmp/sx%-nginx", plain(dir)):gsub("8081", tostring(port))
                 :gsub("%$PWD/build/", plain(build) .. "/"))
  end

  setup(function()
    dir, port = gw.tempdir(), gw.port()
    conf = dir .. "/nginx.conf"
    local commands = readme_commands()
    assert.equal(3, select(2, commands:gsub("\n", "")))
    local out, ok = gw.run(("cd %q && set -e\n%s"):format(source, commands))
    assert(ok, out)
    assert(gw.wait(port, "/hello"), "nginx did not answer: " .. (gw.read(dir .. "/error.log") or ""))
    master = tonumber(gw.read(dir .. "/nginx.pid"))
  end)

  teardown(function()
    gw.run(("nginx -p %q -c %q -s stop"):format(dir, conf))
    gw.run("sleep 0.3")
    gw.run(("rm -rf %q"):format(dir))
  end)

  it("installs the filter in each worker and serves requests", function()
    assert.equal("installed\n", gw.fetch(port, "/status"))
    for _ = 1, 20 do assert.equal("hello from behind the filter\n", (gw.fetch(port, "/hello"))) end
  end)

  it("filters the workers but not the master", function()
    assert.equal(0, gw.seccomp(master))
    local list = workers()
    assert.equal(2, #list)                -- worker_processes 2
    for _, pid in ipairs(list) do assert.equal(2, gw.seccomp(pid)) end
  end)

  it("gives a content_by_lua_block that tries a denied syscall EPERM", function()
    -- execveat on fd -1: EBADF (9) when allowed, EPERM (1) under the filter
    assert.equal("execveat=-1 errno=1\n", gw.fetch(port, "/denied"))
  end)

  it("reloads: new workers come up filtered and serve", function()
    local before = workers()
    local out, ok = gw.run(("nginx -p %q -c %q -s reload"):format(dir, conf))
    assert(ok, out)
    local after
    for _ = 1, 50 do
      after = workers()
      if #after == 2 and after[1] ~= before[1] and after[2] ~= before[2] then break end
      gw.run("sleep 0.1")
    end
    assert.are_not.same(before, after)
    for _, pid in ipairs(after) do assert.equal(2, gw.seccomp(pid)) end
    assert.equal(0, gw.seccomp(master))
    assert.equal("installed\n", gw.wait(port, "/status"))
  end)
end)

-- sxlua learn: record real workloads, then replay each under the policy it wrote, doing
-- the same work; what the run never did gets the default action, on the real kernel.
-- Tagged lua54: it runs the built sxlua, which embeds Lua 5.4.
local seccomp = require "sx.seccomp"
local core = require "sx.core"
local proc = require "support.proc"

local q = proc.shell_quote
local SIGSYS = 31
local NGINX = "/usr/sbin/nginx"

-- Start sxlua with `args` in the background; returns a handle with its pid and, once it
-- ended, its exit code.
local function start(args, dir)
  local rc, log = dir .. "/rc", dir .. "/log"
  os.remove(rc)
  os.remove(dir .. "/pid")
  -- run.sh becomes sxlua (so its $$ is sxlua's pid); start.sh waits for it and keeps its code
  proc.write(dir .. "/run.sh", ("echo $$ > %s/pid\nexec %s %s\n"):format(q(dir), proc.SXLUA, args))
  proc.write(dir .. "/start.sh", ("sh %s >%s 2>&1 </dev/null\necho $? > %s\n")
             :format(q(dir .. "/run.sh"), q(log), q(rc)))
  os.execute(("sh %s >/dev/null 2>&1 </dev/null &"):format(q(dir .. "/start.sh")))
  local pid = assert(proc.eventually_line(dir .. "/pid"))
  return {
    pid = tonumber(pid),
    stop = function(sig) os.execute(("kill -%s %s"):format(sig or "TERM", tonumber(pid))) end,
    wait = function()
      local code = proc.eventually_line(rc)
      assert.is_not_nil(code, proc.read(log))
      return tonumber(code), proc.read(log)
    end,
    log = function() return proc.read(log) end,
  }
end

local function http(port, path)
  return proc.run(("curl -sf http://127.0.0.1:%d%s"):format(port, path))
end

local function serving(port)
  return proc.eventually(function() return http(port, "/") == 0 end)
end

-- The filter a learned policy builds (loaded as sxlua would run it).
local function filter_of(path)
  local f = assert(loadfile(path))()
  assert(seccomp.is_filter(f))
  return f
end

-- What the policy says to calls the run never made: the default, in the real kernel too.
local function refuses_the_unseen(f)
  assert.equal("kill_process", tostring(f:eval("ptrace")))
  assert.equal("kill_process", tostring(f:eval("socket", { 17, 3, 0 })))      -- AF_PACKET
  local kind, value = core.probe(f.bpf, seccomp.syscall_number("ptrace"), 0, 0, 0, 0, 0, 0)
  assert.same({ "signaled", SIGSYS }, { kind, value })
  kind, value = core.probe(f.bpf, seccomp.syscall_number("socket"), 17, 3, 0, 0, 0, 0)
  assert.same({ "signaled", SIGSYS }, { kind, value })
end

local function port_for(n) return 21000 + (proc.mypid() * 13 + n * 101) % 20000 end

-- A workload can make every syscall number there is, and ioctl with every request: the
-- recording keeps at most 2048 kinds of syscall an arch and 17 values an argument (more
-- than 16 make it unconditional anyway), and counts the rest (review: it grew unbounded).
describe("learn's recording", function()
  it("stays bounded, and the policy says what it left out", function()
    local learn = require "sx.learn"
    local record, rec = learn.recorder()
    local arch = seccomp.arch()
    for n = 1, 3000 do
      record({ arch = arch, syscall = tostring(100000 + n), args = { 0, 0, 0, 0, 0, 0 } })
      record({ arch = arch, syscall = "ioctl", args = { 0, n, 0, 0, 0, 0 } })
    end
    local kinds, values = 0, 0
    for _ in pairs(rec.arches[arch]) do kinds = kinds + 1 end
    for _ in pairs(rec.values.ioctl.request) do values = values + 1 end
    assert.equal(2048, kinds)
    assert.equal(17, values)
    assert.equal(3000 - 2047, rec.unrecorded)
    local text = learn.policy(rec, { command = { "w" }, date = "2026-12-03", kernel = "6.18" })
    assert.matches("The run made 953 more calls of syscall numbers past the first 2048", text)
    assert.not_matches("request ==", text)          -- ioctl: too many requests to narrow
  end)
end)

describe("sxlua learn #lua54", function()
  local dir
  before_each(function()
    dir = proc.tmpname()
    os.execute("mkdir -p " .. q(dir .. "/html") .. " " .. q(dir .. "/tmp"))
    proc.write(dir .. "/html/index.html", "<h1>learned</h1>\n")
  end)
  after_each(function()
    -- a failed spec must not leave a server behind (sxlua's death ends its PID namespace)
    local pid = proc.read(dir .. "/pid")
    if pid then os.execute("kill -KILL " .. pid .. " 2>/dev/null") end
    os.execute("rm -rf " .. q(dir))
  end)

  it("writes a command with a line break in its header as an escape, and loads", function()
    local pol = dir .. "/nl.lua"
    local code = proc.run(proc.SXLUA .. " learn -o " .. q(pol) .. " -- sh -c " .. q("true\necho  x"))
    assert.equal(0, code)
    assert.matches("%-%-   sh %-c 'true\\necho  x'\n", proc.read(pol))
    filter_of(pol)
  end)

  it("says when the run used io_uring, whose operations the policy cannot limit", function()
    if proc.read("/proc/sys/kernel/io_uring_disabled"):match("^[12]") then
      return pending("io_uring is disabled here (kernel.io_uring_disabled)")
    end
    local file, pol = dir .. "/uring.txt", dir .. "/uring.lua"
    proc.write(file, "through io_uring\n")
    local code, out = proc.run(proc.SXLUA .. " learn -o " .. q(pol) .. " -- " ..
                               q(proc.bin("uring_open")) .. " " .. q(file))
    assert.equal(0, code)
    assert.equal("through io_uring\n", out)
    local text = proc.read(pol)
    assert.matches("\n%-%- The run used io_uring: its operations %(open, connect, read, ...%) " ..
                   "are no syscalls, so this policy\n%-%- does not limit them", text)
    -- and replaying it says which calls it stops that io_uring makes all the same
    local err
    code, out, err = proc.run(proc.SXLUA .. " " .. q(pol) .. " -- " .. q(proc.bin("uring_open")) ..
                              " " .. q(file))
    assert.equal(0, code, err)
    assert.matches("warning: on [%w_]+ the policy answers [%w_, ]+ with kill_process, but " ..
                   "io_uring_setup gets allow", err)
    -- a run without io_uring says nothing of it
    code = proc.run(proc.SXLUA .. " learn -o " .. q(pol) .. " -- true")
    assert.equal(0, code)
    assert.not_matches("io_uring", proc.read(pol))
  end)

  it("a shell pipeline that execs several programs", function()
    local cmd = "-- sh -c " .. q("ls / | sort | head -3")
    local pol = dir .. "/pipe.lua"
    local code, out = proc.run(proc.SXLUA .. " learn -o " .. q(pol) .. " " .. cmd)
    assert.equal(0, code)
    local want = out
    code, out = proc.run(proc.SXLUA .. " " .. q(pol) .. " " .. cmd)
    assert.equal(0, code)
    assert.equal(want, out)
    local text = proc.read(pol)
    assert.matches('\n  "execve", +%-%- %d+ @default\n', text)    -- the pipeline's own execs
    assert.matches("%-%- Learned by sxlua learn from a run of:\n%-%-   sh %-c 'ls / | sort | head %-3'\n", text)
    refuses_the_unseen(filter_of(pol))
  end)

  it("python3 -m http.server serving a file to curl; nothing it did not do", function()
    local port, pol = port_for(1), dir .. "/py.lua"
    local cmd = ("-- python3 -m http.server %d --bind 127.0.0.1 --directory %s"):format(port, q(dir .. "/html"))
    local learning = start("learn -o " .. q(pol) .. " " .. cmd, dir)
    assert.is_true(serving(port), learning.log())
    local _, page = http(port, "/index.html")
    assert.equal("<h1>learned</h1>\n", page)
    learning.stop("TERM")
    assert.equal(143, (learning.wait()))           -- python3 dies of SIGTERM, as unfiltered
    local text = assert(proc.read(pol))
    -- replay: the same work, under the policy
    local replay = start(q(pol) .. " " .. cmd, dir)
    assert.is_true(serving(port), replay.log())
    local code
    code, page = http(port, "/index.html")
    assert.equal(0, code)
    assert.equal("<h1>learned</h1>\n", page)
    replay.stop("TERM")
    local rc, log = replay.wait()
    assert.equal(143, rc)
    assert.is_nil(log:find("killed"), log)
    -- only what the run saw, and sockets only of the families it used
    local f = filter_of(pol)
    local listed = {}
    for name in text:match("local allowed = {(.-)\n}"):gmatch('"([%w_]+)"') do listed[name] = true end
    for _, r in ipairs(f.rules) do
      if r.action == "allow" then assert.is_true(listed[r.syscall], r.syscall) end
    end
    local families = text:match('socket = "([^"]+)"')
    assert.equal("family == AF_UNIX || family == AF_INET", families)
    assert.equal("allow", tostring(f:eval("socket", { 2, 1, 0 })))
    assert.equal("kill_process", tostring(f:eval("socket", { 10, 1, 0 })))      -- AF_INET6: unused
    refuses_the_unseen(f)
  end)

  it("nginx: master and workers serving a page on a loopback port", function()
    if not proc.read(NGINX) then return pending("nginx is not installed (tools/setup installs it)") end
    local port, pol = port_for(2), dir .. "/nginx.lua"
    proc.write(dir .. "/nginx.conf", ([[
daemon off;
master_process on;
worker_processes 2;
error_log stderr notice;
pid nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path tmp/body;
  proxy_temp_path tmp/proxy;
  fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi;
  scgi_temp_path tmp/scgi;
  server { listen 127.0.0.1:%d; root html; }
}
]]):format(port))
    local cmd = ("-- %s -p %s -c %s"):format(NGINX, q(dir .. "/"), q(dir .. "/nginx.conf"))
    local learning = start("learn -o " .. q(pol) .. " " .. cmd, dir)
    assert.is_true(serving(port), learning.log())
    for _ = 1, 5 do assert.equal(0, (http(port, "/index.html"))) end
    learning.stop("QUIT")                          -- graceful: master and workers finish
    assert.equal(0, (learning.wait()))
    local replay = start(q(pol) .. " " .. cmd, dir)
    assert.is_true(serving(port), replay.log())
    for _ = 1, 5 do
      local code, page = http(port, "/index.html")
      assert.equal(0, code)
      assert.equal("<h1>learned</h1>\n", page)
    end
    replay.stop("QUIT")
    local rc, log = replay.wait()
    assert.equal(0, rc, log)
    assert.is_nil(log:find("killed"), log)
    refuses_the_unseen(filter_of(pol))
  end)

  it("--merge: two runs with different paths make one policy that replays both", function()
    local first, both = dir .. "/first.lua", dir .. "/both.lua"
    local a = "-- sh -c " .. q("cat /etc/hostname")
    local b = "-- sh -c " .. q("ls -l / > /dev/null && echo listed")
    assert.equal(0, (proc.run(proc.SXLUA .. " learn -o " .. q(first) .. " " .. a)))
    -- the first policy does not cover the second path
    local code = proc.run(proc.SXLUA .. " " .. q(first) .. " " .. b)
    assert.equal(159, code)
    assert.equal(0, (proc.run(proc.SXLUA .. " learn --merge " .. q(first) .. " -o " .. q(both) .. " " .. b)))
    local out
    code, out = proc.run(proc.SXLUA .. " " .. q(both) .. " " .. a)
    assert.equal(0, code)
    assert.equal(proc.read("/etc/hostname"), out)
    code, out = proc.run(proc.SXLUA .. " " .. q(both) .. " " .. b)
    assert.equal(0, code)
    assert.equal("listed\n", out)
    -- counts add up: both runs exec'd sh and its command
    local n1 = tonumber(proc.read(first):match('"execve", +%-%- (%d+)'))
    local n2 = tonumber(proc.read(both):match('"execve", +%-%- (%d+)'))
    assert.is_true(n2 > n1)
  end)

  it("writes to standard output without -o, and says what is wrong with its options", function()
    local code, out = proc.run(proc.SXLUA .. " learn -- /bin/true")
    assert.equal(0, code)
    assert.matches("^%-%- Learned by sxlua learn", out)
    local err
    code, _, err = proc.run(proc.SXLUA .. " learn --merge /nonexistent -- /bin/true")
    assert.equal(125, code)
    assert.matches("%-%-merge", err)
    code, _, err = proc.run(proc.SXLUA .. " learn --default frob -- /bin/true")
    assert.equal(125, code)
    assert.matches("unknown action 'frob'", err)
    -- a policy it could not write is an error, not "wrote" (a full disk shows at close)
    code, _, err = proc.run(proc.SXLUA .. " learn -o /dev/full -- /bin/true")
    assert.equal(125, code)
    assert.matches("learn: No space left on device", err)
    assert.is_nil(err:find("wrote"), err)
  end)
end)

-- The example policies in policies/, each run by sxlua on real programs.
local seccomp = require "sx.seccomp"
local proc = require "support.proc"

local SXLUA = proc.SXLUA
local POLICIES = proc.source .. "/policies"
local q = proc.shell_quote

local function sxlua(policy_and_args, program)
  return proc.run(SXLUA .. " " .. policy_and_args .. " -- " .. program)
end

local function nr(name) return tostring(seccomp.syscall_number(name)) end
local SXTRY, EXECER = q(proc.bin("sxtry")), q(proc.bin("execer"))

describe("policies", function()
  describe("minimal.lua", function()
    local pol = q(POLICIES .. "/minimal.lua")

    it("runs ls, ls -l and cat", function()
      local code, out = sxlua(pol, "/bin/ls /")
      assert.equal(0, code)
      assert.matches("\nusr\n", "\n" .. out)
      code, out = sxlua(pol, "/bin/ls -l /")
      assert.equal(0, code)
      assert.matches("root", out)
      code, out = sxlua(pol, "/bin/cat /etc/hostname")
      assert.equal(0, code)
      assert.equal(proc.read("/etc/hostname"), out)
      code, out = sxlua(pol, "/bin/echo a first policy")       -- the README's example
      assert.equal(0, code)
      assert.equal("a first policy\n", out)
    end)

    it("kills what is not on the list, and any later execve", function()
      local code, _, err = sxlua(pol, SXTRY .. " " .. nr("getpid"))
      assert.equal(159, code)
      assert.matches("%) killed: [%w_]+%(.*%): kill_process, the default %(.*%.lua:%d+%)\n$", err)
      code, _, err = sxlua(pol, EXECER .. " /bin/true")
      assert.equal(159, code)
      assert.matches("%) killed: [%w_]+%(.*%): kill_process, the default %(.*%.lua:%d+%)\n$", err)
      -- socket gets EACCES, so that ls -l falls back from nscd to /etc/passwd
      assert.equal(13, (sxlua(pol, SXTRY .. " " .. nr("socket") .. " 2 1 0")))
    end)
  end)

  describe("dangerous.lua", function()
    local path = POLICIES .. "/dangerous.lua"
    local pol = q(path)

    it("denies every listed syscall with EPERM and allows the rest", function()
      local f, names = dofile(path)
      assert.is_true(#names >= 30)
      for _, name in ipairs(names) do
        assert.equal(seccomp.errno("EPERM"), f:eval(name), name)
      end
      for _, name in ipairs{ "read", "write", "openat", "execve", "clone", "socket", "accept4" } do
        assert.equal("allow", f:eval(name), name)
      end
    end)

    it("really refuses ptrace, mount and unshare to a running program", function()
      assert.equal(1, (sxlua(pol, SXTRY .. " " .. nr("ptrace") .. " 0")))     -- PTRACE_TRACEME
      assert.equal(1, (sxlua(pol, SXTRY .. " " .. nr("unshare") .. " 0x20000")))
      assert.equal(1, (sxlua(pol, SXTRY .. " " .. nr("mount") .. " 0 0 0 0 0")))
      assert.equal(0, (sxlua(pol, SXTRY .. " " .. nr("getpid"))))
      -- exec is fine under a deny list
      assert.equal(0, (sxlua(pol, EXECER .. " /bin/true")))
    end)
  end)

  describe("tenant.lua", function()
    local pol = q(POLICIES .. "/tenant.lua")
    local socket = SXTRY .. " " .. nr("socket") .. " 2 1 0"

    it("builds a different filter for each tenant", function()
      local a = select(2, proc.run(SXLUA .. " --check " .. pol .. " alice"))
      local b = select(2, proc.run(SXLUA .. " --check " .. pol .. " bob"))
      local g = select(2, proc.run(SXLUA .. " --check " .. pol .. " guest"))
      assert.matches("^filter 1: sx.filter<", a)
      assert.are_not.equal(a, b)
      assert.are_not.equal(b, g)
    end)

    it("lets alice use the network and refuses it to bob and guest", function()
      assert.equal(0, (sxlua(pol .. " alice", socket)))
      assert.equal(13, (sxlua(pol .. " bob", socket)))
      assert.equal(13, (sxlua(pol .. " guest", socket)))
    end)

    it("keeps guest from writing files, but not from reading them", function()
      local file = proc.tmpname()
      local write = "sh -c " .. q("echo x > " .. file)
      assert.equal(0, (sxlua(pol .. " bob", write)))
      assert.equal("x\n", proc.read(file))
      os.remove(file)
      assert.are_not.equal(0, (sxlua(pol .. " guest", write)))
      assert.is_nil(proc.read(file))
      local code, out = sxlua(pol .. " guest", "cat /etc/hostname")
      assert.equal(0, code)
      assert.equal(proc.read("/etc/hostname"), out)
    end)

    it("gives every tenant the dangerous list", function()
      for _, t in ipairs{ "alice", "bob", "guest" } do
        assert.equal(1, (sxlua(pol .. " " .. t, SXTRY .. " " .. nr("ptrace") .. " 0")), t)
      end
    end)

    it("refuses an unknown or missing tenant before running anything", function()
      local code, _, err = sxlua(pol .. " mallory", "/bin/true")
      assert.equal(125, code)
      assert.matches("tenant.lua:%d+: unknown tenant 'mallory'", err)
      code, _, err = sxlua(pol, "/bin/true")
      assert.equal(125, code)
      assert.matches("name the tenant", err)
    end)
  end)

  describe("nginx.lua", function()
    local pol = q(POLICIES .. "/nginx.lua")
    local NGINX = "/usr/sbin/nginx"

    -- A prefix with the example configuration on `port`, a page and a temp dir.
    local function prefix(port)
      local dir = proc.tmpname()
      assert(os.execute("mkdir -p " .. q(dir .. "/html") .. " " .. q(dir .. "/tmp")))
      local conf = proc.read(POLICIES .. "/nginx/nginx.conf")
      local n
      conf, n = conf:gsub("listen 127%.0%.0%.1:8080;", "listen 127.0.0.1:" .. port .. ";")
      assert.equal(1, n)
      proc.write(dir .. "/nginx.conf", conf)
      proc.write(dir .. "/html/index.html", "<h1>served under seccomp</h1>\n")
      return dir
    end

    it("serves a static page under the filter, and stops cleanly", function()
      assert.truthy(proc.read(NGINX), "nginx is not installed (tools/setup installs it)")
      local port, dir, rcfile, serving
      for attempt = 1, 5 do
        port = 20000 + (proc.mypid() * 7 + attempt * 977) % 30000
        dir = prefix(port)
        rcfile = dir .. "/rc"
        os.execute(("(%s %s -- %s -p %s -c %s -e stderr >%s 2>&1; echo $? >%s) &"):format(
          SXLUA, pol, NGINX, q(dir .. "/"), q(dir .. "/nginx.conf"), q(dir .. "/log"),
          q(rcfile)))
        serving = proc.eventually(function()
          return proc.read(rcfile) ~= nil or
                 proc.run("curl -sf -o /dev/null http://127.0.0.1:" .. port .. "/") == 0
        end)
        if serving and not proc.read(rcfile) then break end
        os.execute("rm -rf " .. q(dir))   -- the port was taken: try another
      end
      assert.is_nil(proc.read(rcfile), "nginx did not start: " .. tostring(proc.read(dir .. "/log")))
      local code, page = proc.run("curl -sf http://127.0.0.1:" .. port .. "/")
      assert.equal(0, code)
      assert.equal("<h1>served under seccomp</h1>\n", page)
      local _, http = proc.run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:" .. port .. "/nope")
      assert.equal("404", http)
      -- nginx runs in a PID namespace of its own: its pid file says 2 (the reaper is 1);
      -- from here it has another pid, and one filter: the allow list behind the exec gate
      assert.equal("2\n", proc.read(dir .. "/nginx.pid"))
      local _, pids = proc.run("pgrep -f " .. q("^" .. NGINX .. " -p " .. dir .. "/"))
      local pid = assert(tonumber(pids:match("^%d+\n$")), pids)
      local status = proc.read("/proc/" .. pid .. "/status")
      assert.matches("Seccomp:%s+2", status)
      assert.matches("Seccomp_filters:%s+2", status)   -- the policy and the terminal guard
      assert.matches("NSpid:%s+" .. pid .. "%s+2\n", status)
      assert(os.execute("kill -QUIT " .. pid))
      assert.equal("0\n", proc.eventually_line(rcfile))
      os.execute("rm -rf " .. q(dir))
    end)

    it("denies what nginx never needs", function()
      -- the same policy, other programs: probes of what an attacker inside nginx would try
      assert.equal(159, (sxlua(pol, SXTRY .. " " .. nr("ptrace") .. " 0")))
      assert.equal(159, (sxlua(pol, SXTRY .. " " .. nr("mount") .. " 0 0 0 0 0")))
      local code, _, err = sxlua(pol, EXECER .. " /bin/sh")
      assert.equal(159, code)
      assert.matches("%) killed: [%w_]+%(.*%): kill_process, the default %(.*%.lua:%d+%)\n$", err)
      -- packet sockets are refused, IPv4 ones are not
      assert.equal(97, (sxlua(pol, SXTRY .. " " .. nr("socket") .. " 17 3 0")))   -- EAFNOSUPPORT
      assert.equal(0, (sxlua(pol, SXTRY .. " " .. nr("socket") .. " 2 1 0")))
    end)
  end)
end)

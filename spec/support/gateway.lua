-- spec/support/gateway.lua: start a real server on a loopback port for a spec, wait until
-- it answers, fetch pages with curl, read a process's seccomp state, and stop it.
local proc = require "support.proc"

local M = {}

function M.run(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok, how, code = p:close()
  return out, ok, code
end

function M.tempdir()
  local dir = M.run("mktemp -d"):gsub("%s+$", "")
  return dir
end

-- A port in an unprivileged range, different on each call.
function M.port()
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 1000)
  return math.random(20000, 45000)
end

function M.fetch(port, path)
  local out, ok = M.run(("curl -s --max-time 5 http://127.0.0.1:%d%s"):format(port, path))
  return ok and out or nil, out
end

-- Wait (bounded: about 5 s) until the server answers `path`.
function M.wait(port, path)
  for _ = 1, 50 do
    local body = M.fetch(port, path)
    if body and body ~= "" then return body end
    M.run("sleep 0.1")
  end
  return nil
end

M.read = proc.read

-- Seccomp mode of a process (and of each of its threads).
function M.seccomp(pid)
  local status = M.read(("/proc/%d/status"):format(pid)) or ""
  return tonumber(status:match("Seccomp:%s*(%d+)"))
end

function M.thread_modes(pid)
  local modes = {}
  local tids = M.run(("ls /proc/%d/task"):format(pid))
  for tid in tids:gmatch("%d+") do
    local status = M.read(("/proc/%d/task/%s/status"):format(pid, tid)) or ""
    modes[#modes + 1] = tonumber(status:match("Seccomp:%s*(%d+)"))
  end
  return modes
end

function M.children(pid)
  local kids = {}
  for child in M.run(("pgrep -P %d"):format(pid)):gmatch("%d+") do kids[#kids + 1] = tonumber(child) end
  return kids
end

return M

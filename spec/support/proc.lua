-- support.proc: helpers for specs that run real processes: where the test programs
-- are, this process's descriptors and children, temporary files.

local io, os, tonumber, assert = io, os, tonumber, assert

local M = {}

M.build = os.getenv("SX_BUILD_DIR") or "build"
M.source = os.getenv("SX_SOURCE_DIR") or "."

-- Path of a test program built from spec/support/NAME.c.
function M.bin(name)
  return M.build .. "/spec-bin/" .. name
end

function M.read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function M.write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

function M.mypid()
  return tonumber(M.read("/proc/self/stat"):match("^(%d+)"))
end

-- Sorted list of this process's open descriptors.
function M.fds()
  -- Not io.popen: glibc closes its end of the child's pipe only after the child runs, so
  -- the listing would sometimes count it. os.execute opens nothing in this process.
  local list = os.tmpname()
  assert(os.execute("ls /proc/" .. M.mypid() .. "/fd > " .. list))
  local out = {}
  for n in assert(M.read(list)):gmatch("%d+") do out[#out + 1] = tonumber(n) end
  os.remove(list)
  table.sort(out)
  return out
end

-- The descriptor of this process that is open on `path`, or nil.
function M.fd_of(path)
  local p = assert(io.popen("ls -l /proc/" .. M.mypid() .. "/fd"))
  local text = p:read("a")
  p:close()
  for fd, target in text:gmatch("(%d+) %-> ([^\n]+)") do
    if target == path then return tonumber(fd) end
  end
end

-- This process's children (zombies included), as a list of pids.
function M.children()
  local pid = M.mypid()
  local out = {}
  for n in (M.read(("/proc/%d/task/%d/children"):format(pid, pid)) or ""):gmatch("%d+") do
    out[#out + 1] = tonumber(n)
  end
  return out
end

-- "alive", "zombie" or "gone" for a pid.
function M.pid_state(pid)
  local stat = M.read("/proc/" .. pid .. "/stat")
  if not stat then return "gone" end
  return stat:match("^%d+ %b() (%a)") == "Z" and "zombie" or "alive"
end

-- Wait (sleeping in small steps, up to `seconds`) until pred() is true.
function M.eventually(pred, seconds)
  for _ = 1, (seconds or 20) * 20 do
    if pred() then return true end
    os.execute("sleep 0.05")
  end
  return pred()
end

-- The text of a file a shell writes with `echo ... > path`, once a whole line is there
-- (the shell creates the file before it writes: a read between sees ""); nil when no
-- line comes within `seconds`.
function M.eventually_line(path, seconds)
  local function line() local t = M.read(path) return t and t:find("\n$") and t or nil end
  M.eventually(function() return line() ~= nil end, seconds)
  return line()
end

function M.tmpname()
  local name = os.tmpname()
  os.remove(name)
  return name
end

-- Run a shell command; returns its exit code (128+N for signal N), stdout, stderr.
function M.run(cmd)
  local out, err = M.tmpname(), M.tmpname()
  local ok, how, code = os.execute(("%s >%s 2>%s"):format(cmd, out, err))
  local o, e = M.read(out) or "", M.read(err) or ""
  os.remove(out)
  os.remove(err)
  if how == "signal" then code = 128 + code end
  return code, o, e, ok
end

function M.shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- The shell words that run the built sxlua. It embeds Lua 5.4, so the test environment's
-- LUA_PATH/LUA_CPATH (set for the Lua the specs run under, maybe 5.3) are taken away.
M.SXLUA = "env -u LUA_PATH -u LUA_CPATH " .. M.shell_quote(M.build .. "/sxlua")

return M

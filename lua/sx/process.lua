-- sx.process: run a workload under seccomp filters.
--
--   local process = require "sx.process"
--   local p = assert(process.spawn{ argv = { "/bin/ls", "/" } })  -- parked before execve
--   assert(p:install(filter))                                     -- stack as many as needed
--   assert(p:proceed())                                            -- execve the program
--   print(p:wait())                                                --> exited 0
--
-- Exec-once: when a filter forbids the agent's own execve, install puts in the filter
-- rebuilt from its rules with execve/execveat allowed, under an exec guard that sends
-- every execve/execveat to a supervisor (user notification). The supervisor, which runs
-- inside p:proceed() and p:wait(), lets the agent's own exec through once and answers
-- every later one with the original filter's decision: a killing action kills the
-- caller before the exec runs. If nobody supervises (p:unsupervise(), the parent died),
-- the kernel fails those execs with ENOSYS. Raw-BPF filters that forbid exec are refused.
--
-- Errors are nil, err with err.code one of not_ready, running, no_process, not_found,
-- cwd_failed, install_failed, blocked, exec_failed, exec_forbidden, bad_program, died,
-- system; err.errno / err.errno_name when the kernel said why.

local core = require "sx.process_core"
local score = require "sx.core"
local seccomp = require "sx.seccomp"
local error_ = require "sx.error"

local type, pairs, ipairs, tostring, setmetatable, sort, math_type =
  type, pairs, ipairs, tostring, setmetatable, table.sort, math.type

local M = {}

M.signals = core.signals

local spawned = 0   -- how many processes spawn started (sxlua tells imperative policies by it)
function M.spawned() return spawned end

local Process = { __name = "sx.process" }
Process.__index = Process

local SIGSYS = core.signals.SYS
local ALLOW, LOG, ACTION_FULL = 0x7fff0000, 0x7ffc0000, 0xffff0000

local function make_error(code, errno, message)
  local fields = {}
  if errno and errno ~= 0 then
    fields.errno = errno
    fields.errno_name = score.errno_name(errno)
    if code ~= "not_found" then
      message = ("%s: %s (%s)"):format(message, core.strerror(errno),
                                       fields.errno_name or tostring(errno))
    end
  end
  return error_.new(code, message, fields)
end

local function failed(ok, code, errno, message)
  if ok then return ok end
  return nil, make_error(code, errno, message)
end

local SPAWN_OPTIONS = { argv = true, env = true, cwd = true, no_new_privs = true, fds = true }

-- env as a list of "K=V", from a list of such strings and/or a K = V map.
local function env_list(env)
  if type(env) ~= "table" then
    error_.raise("spawn: env must be a table, got " .. type(env))
  end
  local out, keys = {}, {}
  for k, v in pairs(env) do
    if math_type(k) == "integer" then
      if type(v) ~= "string" or not v:find("=", 1, true) then
        error_.raise(("spawn: env[%d] must be a \"NAME=value\" string"):format(k))
      end
      out[#out + 1] = v
    elseif type(k) == "string" then
      if type(v) ~= "string" and type(v) ~= "number" then
        error_.raise(("spawn: env.%s must be a string"):format(k))
      end
      keys[#keys + 1] = k
    else
      error_.raise("spawn: env keys are names or list positions")
    end
  end
  sort(out)
  sort(keys)
  for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. tostring(env[k]) end
  return out
end

-- spawn{ argv = {...}, env = {...}|nil, cwd = dir, no_new_privs = bool, fds = {...} }
-- -> a process parked before execve, or nil, err. argv[1] is looked up in PATH (env's
-- PATH when env is given); env is a list of "NAME=value" and/or a NAME = value map;
-- fds are descriptors (integers or Lua files) the workload keeps, at the same numbers.
-- no_new_privs = true sets it at once; otherwise it is set before the first filter
-- when this process lacks CAP_SYS_ADMIN (the kernel wants one or the other).
function M.spawn(opts)
  if type(opts) ~= "table" then error_.raise("spawn takes a table of options") end
  error_.check_options(opts, SPAWN_OPTIONS, "spawn")
  local argv = opts.argv
  if type(argv) ~= "table" or #argv == 0 then
    error_.raise("spawn: argv must be a non-empty list of strings")
  end
  for i = 1, #argv do
    if type(argv[i]) ~= "string" then error_.raise(("spawn: argv[%d] is not a string"):format(i)) end
  end
  local env = opts.env ~= nil and env_list(opts.env) or nil
  if opts.cwd ~= nil and type(opts.cwd) ~= "string" then error_.raise("spawn: cwd must be a string") end
  if opts.fds ~= nil and type(opts.fds) ~= "table" then error_.raise("spawn: fds must be a list") end
  spawned = spawned + 1
  local h, code, errno, message = core.spawn(argv, env, opts.cwd, opts.no_new_privs, opts.fds)
  if not h then return nil, make_error(code, errno, message) end
  local list = {}
  for i = 1, #argv do list[i] = argv[i] end
  return setmetatable({ _h = h, pid = h:pid(), argv = list }, Process)
end

local STATE_ERRORS = {
  empty = { "not_ready", "the process is not parked yet" },
  running = { "running", "the process already proceeded to execve" },
  gone = { "no_process", "the process is gone" },
}

local function check_parked(self)
  local st = self._h:state()
  if st == "parked" then return true end
  local e = STATE_ERRORS[st]
  return nil, error_.new(e[1], e[2])
end

local function allows(action)
  local kind = action & ACTION_FULL
  return kind == ALLOW or kind == LOG
end

-- The compat arches the kernel may present on this host: the exec guard covers them all.
local function guard_arches()
  local host = seccomp.arch()
  if host == "x86_64" then return { "x86_64", "i386", "x32" } end
  if host == "aarch64" then return { "aarch64", "arm" } end
  return { host }
end

-- install(filter): stack a filter on the parked process.
function Process:install(f)
  if not seccomp.is_filter(f) then error_.raise("install takes a filter (sx.seccomp)") end
  local ok, err = check_parked(self)
  if not ok then return nil, err end
  local h = self._h
  local own = h:exec_action(f.bpf)
  if not own then return nil, error_.new("bad_program", "the filter is not a valid program") end
  if allows(own) then return failed(h:install(f.bpf, false)) end
  -- exec-once: the filter forbids the agent's own execve
  if not f.rules then
    return nil, error_.new("exec_forbidden", "this raw-BPF filter forbids execve, so the " ..
      "workload could never start; build it from rules (sx.seccomp) so it can be run exec-once")
  end
  local g
  g, err = seccomp.exec_allowed(f)
  if not g then return nil, err end
  own = h:exec_action(g.bpf)
  if not own or not allows(own) then
    return nil, error_.new("exec_forbidden", "the filter still forbids execve after allowing " ..
      "it by name (a rule by number?), so the workload could never start")
  end
  if not self._guarded then
    local guard
    guard, err = seccomp.from_rules({ { "notify", "execve" }, { "notify", "execveat" } }, "allow",
                                    { arches = guard_arches(), bad_arch = "allow" })
    if not guard then return nil, err end
    ok, err = failed(h:install(guard.bpf, true))
    if not ok then return nil, err end
    self._guarded = true
  end
  return failed(h:install(g.bpf, false, f.bpf))
end

-- proceed(): execve the program. A failed exec is exec_failed with its errno.
function Process:proceed()
  local st = self._h:state()
  if st ~= "parked" then
    local e = STATE_ERRORS[st]
    return nil, error_.new(e[1], e[2])
  end
  return failed(self._h:proceed())
end

local function signal_number(sig, fname)
  if type(sig) == "string" then
    local n = core.signals[sig:upper():gsub("^SIG", "")]
    if not n then error_.raise(("%s: unknown signal '%s'"):format(fname, sig)) end
    return n
  elseif math_type(sig) ~= "integer" then
    error_.raise(fname .. ": a signal is a number or a name")
  end
  return sig
end

local WAIT_OPTIONS = { forward = true }

-- The name of syscall `nr` made with audit arch `audit` ("execve", or "x32 execve" and
-- "i386 execve" for the other ABIs of x86_64).
local function syscall_name(nr, audit)
  local host = seccomp.arch()
  for _, arch in ipairs(seccomp.arches()) do
    if score.audit(arch) == audit and (arch ~= "x32" or nr & 0x40000000 ~= 0) and
       (arch ~= "x86_64" or nr & 0x40000000 == 0) then
      local name = seccomp.syscall_name(nr, arch)
      return arch == host and name or arch .. " " .. name
    end
  end
  return tostring(nr)
end

-- wait([{ forward = { "TERM", "HUP", ... } }]) -> "exited", code | "signaled", signo
-- [, syscall]. When the supervisor killed the workload for an exec its filter forbids,
-- wait reports SIGSYS (as the kernel's kill_process would) and the syscall's name as a
-- third value. Signals in `forward` that other processes send to this one while it
-- waits go to the workload instead (a terminal's reach it anyway).
function Process:wait(opts)
  opts = error_.check_options(opts, WAIT_OPTIONS, "wait")
  local forward
  if opts.forward ~= nil then
    if type(opts.forward) ~= "table" then error_.raise("wait: forward must be a list of signals") end
    forward = {}
    for i, sig in ipairs(opts.forward) do forward[i] = signal_number(sig, "wait") end
  end
  local how, value, nr, extra = self._h:wait(forward)
  if not how then return nil, make_error(value, nr, extra) end
  if nr then
    self.killed_for = syscall_name(nr, extra)
    return how, SIGSYS, self.killed_for
  end
  return how, value
end

-- kill(sig): a number or a name ("TERM", "SIGKILL"); default TERM.
function Process:kill(sig)
  if sig == nil then sig = "TERM" end
  return failed(self._h:kill(signal_number(sig, "kill")))
end

-- unsupervise(): stop answering exec notifications; later execs fail with ENOSYS.
function Process:unsupervise()
  self._h:unsupervise()
end

function Process:state()
  return self._h:state()
end

-- close(): kill and reap the child if it is still there (also on __close and __gc).
function Process:close()
  self._h:close()
end
Process.__close = Process.close

function Process:__tostring()
  return ("sx.process<%d %s>"):format(self.pid, self._h:state())
end

return M

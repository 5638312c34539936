-- sx.process: run a workload under seccomp filters.
--
--   local process = require "sx.process"
--   local p = assert(process.spawn{ argv = { "/bin/ls", "/" } })  -- parked before execve
--   assert(p:install(filter))                                     -- stack as many as needed
--   assert(p:proceed())                                            -- install, then execve
--   print(p:wait())                                                --> exited 0
--
-- install checks a filter and adds it to the plan; proceed installs them all in the
-- parked process and execs it, or fails with nothing run (the process is gone then, and
-- err.index says which filter the kernel refused). A filter may forbid execve: the
-- agent's own execve goes through an exec gate (src/gate.h) that nothing after it can
-- use, so every later execve gets the filter's action from the kernel.
--
-- What the workload can never reach (src/sx_agent.h, the README): spawn makes this
-- process non-dumpable, the workload loses CAP_SYS_PTRACE, and by default it runs in a
-- PID namespace of its own (pid_namespace = false: without one), under a reaper that
-- dies with this process, taking the whole tree with it.
--
-- Errors are nil, err with err.code one of not_parked, no_process, not_found,
-- cwd_failed, install_failed, blocked, exec_failed, bad_program, died, no_namespace,
-- setup_failed, system; err.errno / err.errno_name when the kernel said why; err.index
-- for the filter of an install_failed at proceed.

local core = require "sx.process_core"
local score = require "sx.core"
local seccomp = require "sx.seccomp"
local error_ = require "sx.error"
local supervise = require "sx.supervise"

local type, pairs, ipairs, tostring, setmetatable, sort, math_type =
  type, pairs, ipairs, tostring, setmetatable, table.sort, math.type

local M = {}

M.signals = core.signals

local spawned = 0   -- how many processes spawn started (sxlua tells imperative policies by it)
function M.spawned() return spawned end

local Process = { __name = "sx.process" }
Process.__index = Process


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

local function failed(ok, code, errno, message, index)
  if ok then return ok end
  local err = make_error(code, errno, message)
  err.index = index
  return nil, err
end

local SPAWN_OPTIONS = { argv = true, env = true, cwd = true, no_new_privs = true, fds = true,
                        pid_namespace = true, supervise = true, on = true }

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

-- spawn{ argv = {...}, env = {...}|nil, cwd = dir, no_new_privs = bool, fds = {...},
--        pid_namespace = bool } -> a process parked before execve, or nil, err. argv[1]
-- is looked up in PATH (env's PATH when env is given); env is a list of "NAME=value"
-- and/or a NAME = value map; fds are descriptors (integers or Lua files) the workload
-- keeps, at the same numbers. no_new_privs is set unless no_new_privs = false. The
-- workload gets a PID namespace of its own unless pid_namespace = false; when the kernel
-- refuses one, spawn fails with no_namespace.
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
  for _, name in ipairs{ "no_new_privs", "pid_namespace" } do
    if opts[name] ~= nil and type(opts[name]) ~= "boolean" then
      error_.raise(("spawn: %s must be true or false"):format(name))
    end
  end
  if opts.supervise ~= nil and opts.supervise ~= false and not supervise.MODES[opts.supervise] then
    error_.raise(("spawn: supervise is false, \"kills\", \"denials\", \"complain\" or " ..
                  "\"learn\", not %s"):format(tostring(opts.supervise)))
  end
  if opts.on ~= nil and type(opts.on) ~= "table" then error_.raise("spawn: on must be a table") end
  spawned = spawned + 1
  local ok, h, code, errno, message = pcall(core.spawn, argv, env, opts.cwd,
                                            opts.no_new_privs == false, opts.fds,
                                            opts.pid_namespace == false)
  if not ok then error_.raise("spawn: " .. tostring(h):gsub("^[^\n]-:%d+: ", "")) end
  if not h then return nil, make_error(code, errno, message) end
  local list = {}
  for i = 1, #argv do list[i] = argv[i] end
  local self = setmetatable({ _h = h, pid = h:pid(), argv = list, _filters = {}, _on = {},
                              _mode = opts.supervise or nil }, Process)
  for name, fn in pairs(opts.on or {}) do self:on(name, fn) end
  return self
end

-- on(name, handler): the workload's calls of syscall `name` that a filter notifies go to
-- handler(call) while p:wait() runs; see sx.supervise for the call and its answers.
function Process:on(name, handler)
  if type(name) ~= "string" or type(handler) ~= "function" then
    error_.raise("on takes a syscall name and a function")
  end
  if not score.syscall_known(name) then
    error_.raise(("on: unknown syscall '%s'"):format(name))
  end
  self._on[name] = handler
  return self
end

-- enter_user_namespace() -> true, or nil, err (no_namespace): a process without
-- CAP_SYS_ADMIN moves itself into a user namespace of its own, mapping its uid and gid
-- (others show as nobody there), where spawn can make PID namespaces. Call it before the
-- first spawn, while single-threaded; with CAP_SYS_ADMIN it does nothing.
function M.enter_user_namespace()
  return failed(core.enter_user_namespace())
end

-- Tools for brokers (see policies/broker.lua): open_dir(path) -> a descriptor of the
-- directory (O_PATH); open_beneath(dir, path, flags [, mode]) -> a descriptor of path
-- opened beneath dir with openat2 RESOLVE_BENEATH and RESOLVE_NO_MAGICLINKS (no "..",
-- absolute path or symlink leaves it); close_fd(fd). Each fails with nil, errno name.
local function errno_result(v, e)
  if v then return v end
  return nil, score.errno_name(e) or tostring(e)
end

function M.open_dir(path)
  if type(path) ~= "string" then error_.raise("open_dir takes a path") end
  return errno_result(core.open_dir(path))
end

function M.open_beneath(dir, path, flags, mode)
  if math_type(dir) ~= "integer" or type(path) ~= "string" or math_type(flags) ~= "integer" then
    error_.raise("open_beneath takes a directory descriptor, a path and flags")
  end
  return errno_result(core.open_beneath(dir, path, flags, mode or 0))
end

function M.close_fd(fd)
  return errno_result(core.close_fd(fd))
end

local STATE_ERRORS = {
  running = { "not_parked", "the process already proceeded to execve" },
  exited = { "no_process", "the process is gone" },
  gone = { "no_process", "the process is gone" },
}

local function check_parked(self)
  local st = self._h:state()
  if st == "parked" then return true end
  local e = STATE_ERRORS[st]
  return nil, error_.new(e[1], e[2])
end

-- install(filter): add a filter to the plan of the parked process; it is checked now
-- and installed, after the filters before it, at proceed.
function Process:install(f)
  if not seccomp.is_filter(f) then error_.raise("install takes a filter (sx.seccomp)") end
  if f.arch ~= nil and f.arch ~= seccomp.arch() and f.arches and #f.arches == 1 then
    return nil, error_.new("unsupported_arch", ("this filter is for %s, and this machine "
      .. "runs %s"):format(f.arch, seccomp.arch()), { arch = f.arch })
  end
  local ok, err = check_parked(self)
  if not ok then return nil, err end
  ok, err = failed(self._h:install(f.bpf))
  if ok then self._filters[#self._filters + 1] = f end
  return ok, err
end

-- proceed(): install the plan's filters and execve the program. A filter the kernel
-- refuses (install_failed, err.index) or a failed exec (exec_failed) ends the process:
-- nothing runs. Supervised for reports ("kills", "denials"), a filter the kernel gives no
-- listener (an outer supervisor has the one, or Linux before 5.19), or one too long for
-- the notifications' tails, is installed plain, deciding as the policy says, and
-- p.unsupervised says why; "complain", "learn" and notify rules need the listener, and
-- fail (install_failed) instead.
function Process:proceed()
  local ok, err = check_parked(self)
  if not ok then return nil, err end
  local kinds, why = supervise.kinds(self._mode, self._filters)
  local done, code, errno, message, index = self._h:proceed(kinds)
  if not done then return failed(nil, code, errno, message, index) end
  if code then                          -- the filter was installed without a listener: why
    local name = score.errno_name(code)
    why = (name == "EBUSY"
           and "this process runs under a filter with a listener already (sxlua in sxlua?), " ..
               "and the kernel gives a process one"
           or name == "E2BIG"
           and "a filter is too long to supervise: with the gate and its notifications' " ..
               "tails it would need more than the kernel's 4096 instructions"
           or "this kernel has no SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19), " ..
              "without which a signal could take a call back from the supervisor") ..
          (self._mode == "denials" and ": denials stay with the kernel, unreported"
                                    or ": kills stay with the kernel, unreported")
  end
  self.unsupervised = why               -- why kills stay with the kernel, when they do
  return true
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

local WAIT_OPTIONS = { forward = true, report = true, record = true }

-- wait([{ forward = { "TERM", "HUP", ... }, report = function(event),
--         record = function(call) }]) -> "exited", code |
-- "signaled", signo. Signals in `forward` that other processes send to this one while it
-- waits go to the workload instead (a terminal's reach it anyway). Meanwhile the
-- supervisor answers notified calls (sx.supervise) and gives report() an event for each;
-- sx.supervise.format(event) writes it as a line. A workload process the supervisor
-- killed for a syscall its filter kills is reported as killed by SIGSYS, as the kernel
-- would have. With supervise = "learn", record(call) sees every call, which then goes on.
function Process:wait(opts)
  opts = error_.check_options(opts, WAIT_OPTIONS, "wait")
  local forward
  if opts.forward ~= nil then
    if type(opts.forward) ~= "table" then error_.raise("wait: forward must be a list of signals") end
    forward = {}
    for i, sig in ipairs(opts.forward) do forward[i] = signal_number(sig, "wait") end
  end
  for _, name in ipairs{ "report", "record" } do
    if opts[name] ~= nil and type(opts[name]) ~= "function" then
      error_.raise(("wait: %s must be a function"):format(name))
    end
  end
  local sup                 -- made by the first notification: most runs never get one
  local how, value, errno, message = self._h:wait(forward, function(n)
    sup = sup or supervise.new{ mode = self._mode, filters = self._filters, on = self._on,
                                event = opts.report, record = opts.record, pid = self.pid }
    sup:dispatch(n)
  end)
  if not how then return nil, make_error(value, errno, message) end
  if how == "signaled" and value == core.signals.KILL and sup and sup.killed[self.pid] then
    return how, core.signals.SYS
  end
  return how, value
end

-- kill(sig): a number or a name ("TERM", "SIGKILL"); default TERM.
function Process:kill(sig)
  if sig == nil then sig = "TERM" end
  return failed(self._h:kill(signal_number(sig, "kill")))
end

-- state(): "parked" (spawned, before proceed), "running" (proceeded and alive),
-- "exited" (ended, by itself or killed, and not yet waited for) or "gone" (waited for,
-- closed, or failed at proceed).
function Process:state()
  return self._h:state()
end

-- close(): kill and reap the child if it is still there (also on __close and __gc).
function Process:close()
  self._h:close()
end
Process.__close = Process.close

function Process:__tostring()
  return ("sx.process<%s %s>"):format(tostring(self.pid), self._h:state())
end

return M

-- sx.runner: what the sxlua command does (src/sxlua.c only hosts it).
--
--   sxlua [options] policy.lua [policy args...] -- program [args...]
--
-- The policy is loaded as text, run with the policy args as `...` (and in arg[1..],
-- arg[0] being the policy's path) and the workload's argv in sxlua.argv. A declarative
-- policy returns a filter, or a table of options with the filter; sxlua spawns the
-- program, installs, proceeds and waits. An imperative policy drives sx.process itself
-- and returns p:wait()'s results, an exit code, or nothing.
-- main() returns the exit status: the workload's; 128+N for signal N; 125 for errors of
-- sxlua or the policy; 126 for a program that cannot be executed; 127 for one not found.

-- Modules are loaded when a path needs them: --version loads none, --help sx.usage, a
-- command sx.commands, a policy run what spawning needs.

local function usage() return require "sx.usage" end

-- The commands (sx.commands runs them); any other first argument is an option or a policy.
local COMMAND_NAMES = { dump = true, explain = true, summary = true, bpf = true, export = true,
                        groups = true, run = true }

local io, type, pairs, ipairs, tostring, xpcall, getmetatable, pcall, math_type, unpack,
      require, _G =
  io, type, pairs, ipairs, tostring, xpcall, getmetatable, pcall, math.type, table.unpack,
  require, _G

local M = {}

local EXIT_RUNNER, EXIT_NOEXEC, EXIT_NOTFOUND = 125, 126, 127
-- The arches with socketcall and ipc (sx.doors.ARCHES, which a spec holds this to):
-- a run for others loads nothing more.
local MULTIPLEXING = { i386 = true, ppc64le = true, s390x = true }
M.MULTIPLEXING = MULTIPLEXING
-- Signals sxlua passes on to the workload while it waits (kill -TERM sxlua stops it).
local FORWARD = { "HUP", "INT", "QUIT", "TERM", "USR1", "USR2" }
M.FORWARD = FORWARD                       -- (learn forwards them too)

-- From the policy's run on, sxlua's lines go through an outlet (sx.outlet): its stderr is
-- the workload's too, and a write that waited on it would hold the supervisor up.
local outlet

-- One line on stderr, written whole (one write: never cut by another process's line).
local function say(fmt, ...)
  local line = "sxlua: " .. fmt:format(...) .. "\n"
  if outlet then return outlet:write(line) end
  io.stderr:write(line)
end

-- The exit status for wait()'s results, with one line when the filter killed it. An
-- exit code is 0..255 and a signal 1..64: anything else is the policy's mistake.
function M.exit_status(program, how, value, reported)
  if how == "exited" then
    if math_type(value) ~= "integer" or value < 0 or value > 255 then
      say("%s: an exit status is 0..255, got %s", program, tostring(value))
      return EXIT_RUNNER
    end
    return value
  end
  if math_type(value) ~= "integer" or value < 1 or value > 64 then
    say("%s: a signal is 1..64, got %s", program, tostring(value))
    return EXIT_RUNNER
  end
  if value == require("sx.process").signals.SYS and not reported then
    say("%s was killed by the seccomp filter (SIGSYS): it made a forbidden syscall", program)
  end
  return 128 + value
end

local OPTIONS = { filter = true, filters = true, env = true, cwd = true, no_new_privs = true,
                  pid_namespace = true, on = true }

-- A policy that drops a constructor's `nil, err` returns no filter: say that error first,
-- with its line (sx.error keeps the last one made).
local function say_dropped_error()
  local last = require("sx.error").last
  if last then say("%s", tostring(last)) end
end

-- The filters and spawn options a declarative policy returned, or nil, message, and true
-- when a filter is missing (so a dropped error may be why).
local function declaration(result)
  local seccomp = require "sx.seccomp"
  if seccomp.is_filter(result) then return { filters = { result } } end
  if type(result) ~= "table" or getmetatable(result) ~= nil then
    return nil, "the policy must return a filter or a table of options, got " .. type(result),
           result == nil
  end
  for k in pairs(result) do
    if not OPTIONS[k] then
      return nil, ("unknown option '%s' in the table the policy returned"):format(tostring(k))
    end
  end
  local filters = result.filters or { result.filter }
  if result.filter ~= nil and result.filters ~= nil then
    return nil, "give filter or filters, not both"
  end
  if type(filters) ~= "table" or #filters == 0 then
    return nil, "the policy's table has no filter", true
  end
  for i, f in ipairs(filters) do
    if not seccomp.is_filter(f) then
      return nil, ("filters[%d] is not a filter (%s)"):format(i, type(f)), f == nil
    end
  end
  if result.on ~= nil and type(result.on) ~= "table" then
    return nil, "on must be a table of handlers: { openat = function(call) ... end }"
  end
  return { filters = filters, env = result.env, cwd = result.cwd,
           no_new_privs = result.no_new_privs, pid_namespace = result.pid_namespace,
           on = result.on }
end

-- Might socketcall, ipc or io_uring let through a call the policy stops? sx.doors is
-- loaded only where io_uring_setup gets through or an arch has the multiplexers (an
-- allow list without io_uring costs five emulated calls an arch), and asks itself
-- (open_doors) before it reads a rule. Siblings a deny list forgot (execveat beside
-- execve) are left to `sxlua summary`: an authoring check every run would pay for.
local RING_SIZES = { 1, 2, 8, 4096, 32768 }   -- (sx.doors.RING_SIZES: a spec holds them alike)
M.RING_SIZES = RING_SIZES

-- Is io_uring off on this host for everyone (kernel.io_uring_disabled = 2, Linux 6.6)?
-- Then io_uring_setup fails whatever a filter says, and its door is shut.
local function io_uring_disabled()
  local f = io.open("/proc/sys/kernel/io_uring_disabled")
  local v = f and f:read("l")
  if f then f:close() end
  return v == "2"
end

-- Has an arch of the stack the multiplexers; does io_uring_setup pass a filter of it?
local function may_have_doors(filters)
  local core, action = require "sx.core", require "sx.action"
  local muxed, uring = false, false
  for _, f in ipairs(filters) do
    for _, a in ipairs(f.arches) do
      muxed = muxed or MULTIPLEXING[a] or false
      local nr = not uring and core.syscall_number("io_uring_setup", a)
      if nr and a == "x32" then nr = nr | 0x40000000 end   -- (core's tables leave the bit out)
      for _, size in ipairs(nr and RING_SIZES or {}) do
        local kind = action.kind(core.emulate(f.bpf, core.audit(a), nr, size, 0x1000, 0, 0, 0, 0))
        if kind ~= "kill" and kind ~= "errno" and kind ~= "trap" then uring = true end
      end
    end
  end
  return muxed, uring
end

-- A warning each, at the rule's line, where a policy stops socket(), openat(), execve,
-- ... but a door makes them anyway: socketcall and ipc on i386, ppc64le and s390x, and
-- io_uring. (A run and --check alike.)
local function warn_doors(policy, filters)
  local muxed, uring = may_have_doors(filters)
  uring = uring and not io_uring_disabled()
  if not muxed and not uring then return end
  local doors = require "sx.doors"
  if not doors.open_doors(filters, { io_uring = uring }) then return end
  for _, g in ipairs(doors.gaps(filters, { siblings = false, io_uring = uring })) do
    say("%s: %s", g.where or policy, doors.warning(g))
  end
end

local function run_declared(policy, decl, argv, mode)
  if #argv == 0 then
    say("no program to run: sxlua %s [args...] -- program [args...]", policy)
    return EXIT_RUNNER
  end
  local spawn = require("sx.process").spawn
  local ok, p, err = pcall(spawn, { argv = argv, env = decl.env, cwd = decl.cwd,
                                    no_new_privs = decl.no_new_privs,
                                    pid_namespace = decl.pid_namespace,
                                    supervise = mode, on = decl.on })
  if not ok then say("%s: %s", policy, p) return EXIT_RUNNER end
  if not p then
    if err.code == "not_found" then say("%s: command not found", argv[1]) return EXIT_NOTFOUND end
    if err.code == "no_namespace" then
      say("%s; run it with --no-pid-namespace to go without one (then the program can "
          .. "signal sxlua and outlive it: see sxlua --help)", err.message)
      return EXIT_RUNNER
    end
    say("%s: %s", argv[1], err.message)
    return EXIT_RUNNER
  end
  for i, f in ipairs(decl.filters) do
    local installed, ierr = p:install(f)
    if not installed then
      p:close()
      say("%s: cannot install filter %d: %s", policy, i, ierr.message)
      return EXIT_RUNNER
    end
  end
  local proceeded, perr = p:proceed()
  if not proceeded then
    p:close()
    if perr.code == "exec_failed" then
      say("%s: %s", argv[1], perr.message)
      return perr.errno_name == "ENOENT" and EXIT_NOTFOUND or EXIT_NOEXEC
    end
    if perr.index then say("%s: cannot install filter %d: %s", policy, perr.index, perr.message)
    else say("%s: %s", argv[1], perr.message) end
    return EXIT_RUNNER
  end
  if p.unsupervised then say("%s: %s", policy, p.unsupervised) end
  local reporter = require("sx.supervise").reporter
  local report, summary, killed = reporter(mode, function(line) say("%s", line) end)
  local how, value = p:wait{ forward = FORWARD, report = report }
  summary()
  if not how then say("%s: %s", argv[1], value.message) return EXIT_RUNNER end
  return M.exit_status(argv[1], how, value, killed[p.pid])
end

-- The collector as Lua sets it (sxlua starts it lazier while its modules load): for a
-- policy, and for the supervisor of a long run.
local function collect_normally() collectgarbage("incremental", 200, 100) end

-- A raised error as sxlua says it: with the line it was raised at. sx's own errors carry
-- one already (sx.error.where); for the rest (error("...", 0), an error object) the first
-- frame outside sx is the policy's, still on the stack here, and none of its frames was
-- dropped by a tail call (sx.no_tail_calls).
local function handler(e)
  local msg = type(e) == "string" and e or tostring(e)
  if not msg:find("^[^\n]-:%d+: ") then
    local where = require("sx.error").where()
    if where then msg = where .. ": " .. msg end
  end
  return msg
end

-- Run a policy chunk as sxlua does. Returns true and its results (a table, n = count),
-- or false and the exit status (the error already said).
local function run_policy(policy, policy_args, argv, version, mode)
  local chunk, lerr = require("sx.no_tail_calls").loadfile(policy)
  if not chunk then say("%s", lerr) return false, EXIT_RUNNER end
  local argt = { [0] = policy }
  for j, a in ipairs(policy_args) do argt[j] = a end
  _G.arg = argt
  local report = require("sx.supervise").reporter(mode, function(line) say("%s", line) end)
  _G.sxlua = { argv = argv, policy = policy, args = policy_args, version = version,
               supervise = mode, report = report,
               exit_status = M.exit_status }
  local error_ = require "sx.error"
  error_.last = nil
  collect_normally()
  local results = table.pack(xpcall(chunk, handler, unpack(policy_args)))
  if not results[1] then
    local msg = results[2]
    if not msg:find("^[^\n]-:%d+: ") then msg = policy .. ": " .. msg end
    say("%s", msg)
    return false, EXIT_RUNNER
  end
  local r1, r2 = results[2], results[3]
  if r1 == nil and r2 ~= nil then
    -- sx's errors know their line; one the policy made itself gets at least the file
    if type(r2) == "table" and r2.where == nil and r2.message then r2.where = policy end
    say("%s", tostring(r2))
    return false, EXIT_RUNNER
  end
  return true, { n = results.n - 1, unpack(results, 2, results.n) }
end

-- The filters of a declarative policy, for the inspection commands (sx.commands). An
-- imperative policy cannot be inspected: spawning is refused, so nothing ever runs.
function M.load_policy(policy, policy_args)
  local process = require "sx.process"
  local spawn = process.spawn
  process.spawn = function()
    error("this policy runs processes itself; inspection needs a policy that returns its filter", 2)
  end
  local ok, results = run_policy(policy, policy_args, {})
  process.spawn = spawn
  if not ok then return nil end            -- run_policy has said why
  local decl, derr, missing = declaration(results[1])
  if not decl then
    if missing then say_dropped_error() end
    return nil, policy .. ": " .. derr
  end
  return decl.filters
end

local function main(args, version)
  if args[1] == "learn" then
    collect_normally()
    outlet = require("sx.outlet").open(2)
    return require("sx.learn").main(args, 2, say, M)
  end
  if COMMAND_NAMES[args[1]] then
    return require("sx.commands").run(args[1], args, 2, M.load_policy)
  end
  local i, check, share_pid_namespace, mode = 1, false, false, "kills"
  while args[i] and args[i]:sub(1, 1) == "-" and args[i] ~= "--" do
    local o = args[i]
    if o == "-h" or o == "--help" then
      local text = usage()
      io.stdout:write(text.RUNNER, "\n", text.COMMANDS)
      return 0
    elseif o == "-V" or o == "--version" then io.stdout:write("sxlua ", version or "", "\n") return 0
    elseif o == "-c" or o == "--check" then check = true
    elseif o == "--no-pid-namespace" then share_pid_namespace = true
    elseif o == "--report" then mode = "denials"
    elseif o == "--complain" then mode = "complain"
    elseif o == "--no-supervise" then mode = nil
    else
      say("unknown option '%s' (see sxlua --help)", o)
      return EXIT_RUNNER
    end
    i = i + 1
  end
  local policy = args[i]
  if not policy or policy == "--" then
    io.stderr:write(usage().RUNNER)
    return EXIT_RUNNER
  end
  local policy_args, argv, dd = {}, {}, nil
  for j = i + 1, #args do
    if dd then argv[#argv + 1] = args[j]
    elseif args[j] == "--" then dd = j
    else policy_args[#policy_args + 1] = args[j] end
  end
  -- A policy runs from here on: the stack it goes down into, populated at once (sxlua's
  -- host; plain Lua has none).
  local has_host, host = pcall(require, "sx.host")
  if has_host then host.populate_stack() end
  -- Without CAP_SYS_ADMIN a PID namespace needs a user namespace, entered while this
  -- process is still dumpable (spawn makes it not); if the kernel refuses, spawn says so.
  local process = require "sx.process"
  if not check and not share_pid_namespace then process.enter_user_namespace() end
  if not check then outlet = require("sx.outlet").open(2) end
  local spawned_before = process.spawned()
  local ok, results = run_policy(policy, policy_args, argv, version, mode)
  if not ok then return results end
  local r1, r2 = results[1], results[2]
  if r1 == "exited" or r1 == "signaled" then
    return M.exit_status(argv[1] or policy, r1, r2)
  end
  if math_type(r1) == "integer" then return M.exit_status(policy, "exited", r1) end
  if r1 == nil then
    if process.spawned() > spawned_before then return 0 end
    say_dropped_error()
    say("%s: the policy returned nothing (a declarative policy ends with `return filter`)", policy)
    return EXIT_RUNNER
  end
  local decl, derr, missing = declaration(r1)
  if not decl then
    if missing then say_dropped_error() end
    say("%s: %s", policy, derr)
    return EXIT_RUNNER
  end
  warn_doors(policy, decl.filters)
  if check then
    for n, f in ipairs(decl.filters) do io.stdout:write(("filter %d: %s\n"):format(n, tostring(f))) end
    return 0
  end
  if share_pid_namespace then decl.pid_namespace = false end
  if mode == "complain" then
    say("complain mode: nothing the policy denies is stopped; it is listed instead")
  end
  return run_declared(policy, decl, argv, mode)
end

-- main(args, version) -> exit status. args are sxlua's arguments (argv[1..]).
function M.main(args, version)
  local status = main(args, version)
  if outlet then
    outlet:finish()
    outlet = nil
  end
  return status
end

return M

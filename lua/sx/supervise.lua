-- sx.supervise: the supervisor that answers a workload's notified syscalls (sx.process
-- runs it inside p:wait()).
--
-- A filter's own `notify` rules go to Lua handlers: on[name](call) returns call:fail(e),
-- call:ret(v), call:inject_fd(fd) or call:continue(). A call without a handler fails
-- with ENOSYS (as when nobody listens), one whose handler raises or answers nothing with
-- EPERM; both are reported. The supervisor can also see the calls a policy denies, when
-- proceed turned their actions into notifications (the modes below): it then decides
-- them as the filters would and reports them.
--
--   mode       what is notified                 what the supervisor does
--   kills      kill_process, kill_thread        kills the caller (SIGKILL; the workload's
--                                               own process is reported as SIGSYS)
--   denials    kills, errno, log                as the filter says; reports each kind
--   complain   every action but allow           lets the call go on; records it
--   learn      every call                       lets it go on; records it
--
-- Reading a pointer argument and then letting the call continue decides nothing: the
-- memory can change after the check (seccomp_unotify(2)). Handlers that grant something
-- should do it themselves and inject the result (call:inject_fd), like policies/broker.lua.

local core = require "sx.process_core"
local score = require "sx.core"
local error_ = require "sx.error"

local ipairs, tostring, format, require = ipairs, tostring, string.format, require

local M = {}

-- This module is what every supervised run needs: the modes, what each has the kernel
-- notify (proceed), and the reports. The supervisor itself, which decides and answers
-- notifications, is sx.supervisor: new() loads it.

local NOTIFY = core.notify

M.MODES = { kills = true, denials = true, complain = true, learn = true }

-- The kinds of action (sx.action.kind) each mode has the kernel notify.
M.NOTIFIED = {
  kills = { "kill" },
  denials = { "kill", "errno", "log" },
  complain = { "kill", "trap", "errno", "trace", "log" },
  learn = { "kill", "trap", "errno", "trace", "log", "allow" },
}

-- Modes whose notifications change what happens (complain lets denied calls through,
-- learn records every call): without a listener they cannot be kept, where the others
-- let the kernel decide as the supervisor would have, unreported.
local NEEDS_LISTENER = { complain = true, learn = true }

-- kinds(mode, filters) -> the SX_NOTIFY bits proceed takes, and why there are none when
-- the mode wants some; or raises for a mode that cannot be kept. Only a plan of one
-- filter is rewritten: the kernel gives a process one listener, and in a stack a
-- notification loses to another filter's errno or trap, where the kill it stands for
-- would have won.
function M.kinds(mode, filters)
  if not mode then return 0 end
  if #filters > 1 then
    if NEEDS_LISTENER[mode] then
      error_.raise(("%s mode needs a policy of one filter; this one has %d"):format(mode, #filters))
    end
    return 0, ("the policy has %d filters: kills stay with the kernel, unreported (reports " ..
               "cover a policy of one filter)"):format(#filters)
  end
  local bits = NEEDS_LISTENER[mode] and NOTIFY.required or 0
  for _, kind in ipairs(M.NOTIFIED[mode]) do bits = bits | NOTIFY[kind] end
  return bits
end

-- new{ mode =, filters = {f...}, on = { name = handler }, event = function(ev),
--      record = function(call) (learning: it sees each call, which then goes on), pid = }
-- -> the supervisor of one process (sx.supervisor, loaded by the first call of new:
-- a workload that is never notified never loads it).
function M.new(opts) return require("sx.supervisor").new(opts) end

---------------------------------------------------------------------------- reports

-- What decided an event: its rule (where it was written, `at` before that, else its
-- number; and the group it came from), or the default (and where it was given).
local function deciding(ev, at)
  if not ev.rule then
    return (ev.bad_arch and "the bad-arch action" or "the default") ..
           (ev.default_where and (" (%s)"):format(ev.default_where) or "")
  end
  return (ev.rule_where and at .. ev.rule_where or "rule " .. ev.rule) ..
         (ev.rule_group and (" (from %s)"):format(ev.rule_group) or "")
end

-- "python3 (pid 4242) killed: socket(AF_UNIX, SOCK_STREAM, 0): kill_process, the default
-- (policy.lua:3)"
function M.format(ev)
  local name, text = ev.describe()
  if ev.arch ~= score.host_arch() then text = ev.arch .. " " .. text end   -- "i386 getpid()"
  local how = ({ killed = "killed", denied = "denied", ["let through"] = "would be stopped",
                 failed = "refused", logged = "logged" })[ev.outcome] or ev.outcome
  local line = format("%s (pid %d) %s: %s: %s, %s", name, ev.pid, how, text, tostring(ev.action),
                      deciding(ev, "rule at "))
  if ev.message then line = line .. " [" .. ev.message .. "]" end
  return line
end

-- reporter(mode, write) -> report(event), summary(), killed: what sxlua prints. Every
-- kill and every call a handler could not answer gets a line; with mode "denials" or
-- "complain" the first call of each (syscall, rule) that the policy denies or would deny
-- gets one, and summary() writes how many of each there were. killed[pid] is set for
-- each process a line reported killed.
-- At most this many different (syscall, rule) pairs are listed: a workload that makes
-- every syscall number there is would otherwise grow sxlua without bound.
M.MAX_LISTED = 4096

function M.reporter(mode, write)
  local counts, order, killed, unlisted = {}, {}, {}, 0
  local listed = mode == "denials" or mode == "complain"
  local COUNTED = { killed = true, denied = true, logged = true, ["let through"] = true }
  local host = score.host_arch()
  local function report(ev)
    local handled = ev.kind == "notify"
    if ev.outcome == "killed" then killed[ev.tgid or ev.pid] = true end
    if ev.outcome == "failed" or (ev.outcome == "killed" and not listed) then
      return write(M.format(ev))
    end
    if not listed or handled or not COUNTED[ev.outcome] then return end
    local key = ev.arch .. "\0" .. ev.syscall .. "\0" .. tostring(ev.filter) .. "\0" ..
                tostring(ev.rule)
    local c = counts[key]
    if not c then
      if #order >= M.MAX_LISTED then
        unlisted = unlisted + 1
        if unlisted == 1 then
          write(format("more than %d different calls denied: the rest are counted, not listed",
                       M.MAX_LISTED))
        end
        return
      end
      c = { n = 0, name = (ev.arch ~= host and ev.arch .. " " or "") .. ev.syscall,
            action = tostring(ev.action), by = deciding(ev, "") }
      counts[key] = c
      order[#order + 1] = key
      write(M.format(ev))
    end
    c.n = c.n + 1
  end
  local function summary()
    if not listed or #order == 0 then return end
    write(mode == "complain" and "what the policy would have stopped:" or "denials:")
    for _, key in ipairs(order) do
      local c = counts[key]
      write(format("%8d  %-16s %-16s %s", c.n, c.name, c.action, c.by))
    end
    if unlisted > 0 then write(format("%8d  calls of other kinds, not listed", unlisted)) end
  end
  return report, summary, killed
end

return M

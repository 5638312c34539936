-- sx.supervisor: the supervisor of one process, which decides and answers its notified
-- syscalls inside p:wait() (sx.process). What it does for each mode, the calls' methods
-- and the events it reports are described in sx.supervise, which loads this module when
-- a process is first notified.

local core = require "sx.process_core"
local score = require "sx.core"
local action = require "sx.action"
local error_ = require "sx.error"

local type, pairs, ipairs, tostring, pcall, setmetatable, getmetatable, io, math_type, require =
  type, pairs, ipairs, tostring, pcall, setmetatable, getmetatable, io, math.type, require

local M = {}

local X32_BIT = 0x40000000

-- The action kinds each mode turns into notifications, as sets. A notification whose
-- call the filter decides otherwise means the emulation and the kernel disagree.
local REWRITTEN = {}
for mode, kinds in pairs(require("sx.supervise").NOTIFIED) do
  REWRITTEN[mode] = {}
  for _, kind in ipairs(kinds) do REWRITTEN[mode][kind] = true end
end

-- The architecture a notification came from, by its audit value and number (x32 shares
-- x86_64's audit value and sets a bit of the number). Found once a pair: learn mode asks
-- for every syscall the workload makes.
local arch_by_audit = {}
local function arch_of(audit, nr)
  local x32 = nr & X32_BIT ~= 0
  local key = audit * 2 + (x32 and 1 or 0)
  local found = arch_by_audit[key]
  if found then return found end
  found = ("audit 0x%x"):format(audit)
  for _, a in ipairs(score.arches()) do
    if score.audit(a) == audit and (a ~= "x32" or x32) and (a ~= "x86_64" or not x32) then
      found = a
      break
    end
  end
  arch_by_audit[key] = found
  return found
end

local rank = action.rank

-- What the stack of original filters decides for a call: the action's value, and the
-- filter that decided it (the newest of equals, as the kernel picks). The whole
-- seccomp_data, instruction pointer included, as the kernel gave it.
local function decide(filters, call)
  local best, by
  for i, f in ipairs(filters) do
    local a = call.args
    local v = score.emulate(f.bpf, call.audit, call.nr, a[1], a[2], a[3], a[4], a[5], a[6],
                            call.ip)
    if not best or rank(v) <= rank(best) then best, by = v, i end
  end
  return best or 0x7fff0000, by
end

local function comm(pid)
  local f = io.open(("/proc/%d/comm"):format(pid))
  if not f then return "?" end
  local name = (f:read("l") or "?")
  f:close()
  return name
end

---------------------------------------------------------------------------- calls

local Call = {}
Call.__index = Call

local Reply = {}

local function reply(t) return setmetatable(t, Reply) end

-- The caller can make its memory stall whoever reads it (a userfaultfd page): a read that
-- takes longer than this is given up on, and the supervisor goes on.
local READ_MS = 1000
local ETIMEDOUT, EAGAIN = score.errno_number("ETIMEDOUT"), score.errno_number("EAGAIN")

-- A read's failure, for people.
local function read_error(e)
  if e == ETIMEDOUT then
    return ("the caller's memory did not answer within %d ms"):format(READ_MS)
  elseif e == EAGAIN then
    return "not read: earlier reads of the workload's memory are still stalled"
  end
  return core.strerror(e)
end

-- call:string(i [, max]) -> argument i (from 0) read as a string from the caller, or nil
-- and a message. It is checked still valid after the read.
function Call:string(i, max)
  local s, e = core.read_string(self.pid, self.args[i + 1], max or 4096, READ_MS)
  if not s then return nil, read_error(e) end
  if not core.notif_valid(self.listener, self.id) then return nil, "the call is gone" end
  return s
end

-- call:bytes(i, n) -> n bytes (fewer where the memory ends) at argument i, or nil, message.
function Call:bytes(i, n)
  local s, e = core.read(self.pid, self.args[i + 1], n, READ_MS)
  if not s then return nil, read_error(e) end
  if not core.notif_valid(self.listener, self.id) then return nil, "the call is gone" end
  return s
end

-- call:fail(e): the call fails with errno e (a name such as "EACCES", or a number).
function Call:fail(e)
  local n = type(e) == "string" and score.errno_number(e:upper()) or e
  if math_type(n) ~= "integer" or n < 1 or n > 4095 then
    error_.raise(("fail: unknown errno '%s'"):format(tostring(e)))
  end
  return reply{ error = n }
end

-- call:ret(v): the call returns v without running.
function Call:ret(v)
  if math_type(v) ~= "integer" then error_.raise("ret: the value is an integer") end
  return reply{ value = v }
end

-- call:inject_fd(fd [, { cloexec = true, close = true }]): descriptor fd of the supervisor
-- (an integer or a Lua file) becomes the call's result, a new descriptor in the caller;
-- close = true closes the supervisor's own once it is sent.
function Call:inject_fd(fd, opts)
  opts = opts or {}
  if io.type(fd) == "file" then fd = core.fileno(fd) end
  if math_type(fd) ~= "integer" then
    error_.raise("inject_fd: a descriptor is an integer or a file")
  end
  return reply{ fd = fd, cloexec = opts.cloexec or false, close = opts.close or false }
end

-- call:continue(): the call runs as if allowed. Not a security decision (see the top).
function Call:continue()
  return reply{ continue = true }
end

local function send(call, r)
  if r.continue then return core.notif_send(call.listener, call.id, 0, 0, true) end
  if r.fd then
    local ok, e = core.notif_addfd(call.listener, call.id, r.fd, r.cloexec)
    if r.close then core.close_fd(r.fd) end
    -- The kernel refused the descriptor (ADDFD takes no O_PATH one): the call still
    -- waits for an answer, so it fails with the reason.
    if not ok and e ~= 2 then core.notif_send(call.listener, call.id, e) end
    return ok, e
  end
  if r.error then return core.notif_send(call.listener, call.id, r.error) end
  return core.notif_send(call.listener, call.id, 0, r.value)
end

---------------------------------------------------------------------------- the supervisor

local Supervisor = {}
Supervisor.__index = Supervisor

-- new{ mode =, filters = {f...}, on = { name = handler }, event = function(ev),
--      record = function(call) (learning: it sees each call, which then goes on), pid = }
function M.new(opts)
  return setmetatable({ mode = opts.mode, filters = opts.filters, on = opts.on or {},
                        event = opts.event, learn = opts.record, pid = opts.pid, killed = {} },
                      Supervisor)
end

-- The event a call makes: who, what, the action and the rule that decided.
-- The rule fields of an event (rule, rule_where, rule_group) are looked up the first
-- time one is read: a call a handler answered is seldom reported, and the lookup walks
-- the policy's rules.
local RULE_FIELDS = { rule = true, rule_where = true, rule_group = true }
local LazyRule = {
  __index = function(ev, k)
    if not RULE_FIELDS[k] then return nil end
    local f, rule = ev._f, nil
    if f and f.rules and not ev.bad_arch then
      local ok, r = pcall(require("sx.inspect").deciding_rule, f, ev.nr, ev.args, ev.arch)
      rule = ok and r or nil
    end
    setmetatable(ev, nil)
    ev.rule = rule
    ev.rule_where = rule and f.rules[rule].where
    ev.rule_group = rule and f.rules[rule].group
    return ev[k]
  end,
}

-- Is `arch` none of the filter's (its bad-arch action decides then, not a rule)?
local function foreign(f, arch)
  if not f or not f.arches then return false end
  for _, a in ipairs(f.arches) do
    if a == arch then return false end
  end
  return true
end

function Supervisor:record(call, value, by, outcome, message)
  if not self.event then return end
  local f = by and self.filters[by]
  self.event(setmetatable({
    pid = call.pid, tgid = call.tgid, syscall = call.syscall, nr = call.nr, arch = call.arch,
    args = call.args, bad_arch = foreign(f, call.arch),
    action = action.canonical(value), kind = action.kind(value), outcome = outcome,
    filter = by, _f = f,
    default_where = f and f.where, message = message,
    describe = function()
      if call.described then return call.comm, call.described end
      return comm(call.pid), require("sx.decode").call(call.syscall, call.args,
                                         function(i) return call:string(i) end, call.arch)
    end,
  }, LazyRule))
end

-- Kill the caller's whole process, as kill_process would (the notification is answered
-- after: the thread is still blocked in the call, so its pid is not reused); remember it.
-- True when the kill was sent while the call was still pending.
function Supervisor:kill(call)
  -- What the report says, read first (the memory goes with the process), each string
  -- given up on after 100 ms: a caller can make its memory stall a reader.
  call.comm = comm(call.pid)
  call.described = require("sx.decode").call(call.syscall, call.args, function(i)
    return core.read_string(call.pid, call.args[i + 1], 4096, 100)
  end, call.arch)
  local tgid = core.tgid(call.pid)
  call.tgid = tgid
  local killed = tgid and core.notif_valid(call.listener, call.id) and core.kill(tgid, 9)
  if killed then self.killed[tgid] = true end
  core.notif_send(call.listener, call.id, 1)
  return killed and true or false
end

-- A notified call of the policy's own: its handler's answer, or a failure. Returns the
-- answer to send (a Reply), the outcome and a message.
function Supervisor:handle(call)
  local h = self.on[call.syscall]
  if not h then return reply{ error = 38 }, "failed", "no handler" end          -- ENOSYS
  local ok, r = pcall(h, call)
  if not ok then return reply{ error = 1 }, "failed", tostring(r) end           -- EPERM
  if getmetatable(r) ~= Reply then
    return reply{ error = 1 }, "failed", "the handler answered nothing"
  end
  return r, r.continue and "continued" or r.fd and "injected" or r.error and "denied" or "returned"
end

-- dispatch(n): answer one notification (n as sx.process_core gives it). The event is
-- recorded before the answer, while the caller still waits, so a report can read its
-- arguments.
function Supervisor:dispatch(n)
  local call = setmetatable(n, Call)
  call.audit = n.arch
  call.arch = arch_of(n.arch, n.nr)
  call.syscall = score.syscall_name(n.nr, call.arch) or tostring(n.nr)
  if self.learn then                -- learning: every call goes on, and is written down
    self.learn(call)
    return core.notif_send(call.listener, call.id, 0, 0, true)
  end
  local value, by = decide(self.filters, call)
  local kind = action.kind(value)
  local complain = self.mode == "complain" or self.mode == "learn"
  if kind ~= "notify" and not (REWRITTEN[self.mode] or {})[kind] then
    -- The kernel notified a call that the emulation says it would not have: never let it
    -- go on. Fail closed, as hard as the filter could have: the caller dies.
    if self:kill(call) then
      self:record(call, value, by, "killed", "the kernel notified a call sx's emulation "
                  .. "decides as " .. kind .. ": failed closed")
    end
  elseif kind == "notify" then
    local r, outcome, message = self:handle(call)
    self:record(call, value, by, outcome, message)
    local sent, e = send(call, r)
    if not sent and e ~= 2 then            -- ENOENT: the caller is gone, nothing to say
      self:record(call, value, by, "failed", "the answer was refused: " .. core.strerror(e))
    end
  elseif kind == "allow" or kind == "log" or complain then
    self:record(call, value, by, kind == "allow" and "allowed" or kind == "log" and "logged"
                or "let through")
    core.notif_send(call.listener, call.id, 0, 0, true)
  elseif kind == "kill" then
    if self:kill(call) then self:record(call, value, by, "killed") end
  elseif kind == "errno" then
    self:record(call, value, by, "denied")
    -- the kernel's own SECCOMP_RET_ERRNO caps the number at MAX_ERRNO
    core.notif_send(call.listener, call.id, math.min(value & 0xffff, 4095))
  else                                     -- trap, trace: the kernel keeps them
    self:record(call, value, by, "failed", "this action cannot be supervised")
    core.notif_send(call.listener, call.id, 1)
  end
end

return M

-- sx.multiplexers: socketcall and ipc, the calls that carry other calls.
--
-- On i386, ppc64le and s390x a program can make socket(), connect(), ..., semctl(),
-- shmget(), ... through socketcall(call, args) and ipc(call, ...) as well as by their own
-- numbers. A filter sees only the multiplexer's call number (arg0): the call's own
-- arguments lie in memory, which seccomp cannot read. So a rule for `socket` does not
-- cover socketcall(SYS_SOCKET, ...): a policy that denies socket there must deny that
-- too. gaps(f) finds where a filter forgot; sxlua warns about each.

local core = require "sx.core"
local action = require "sx.action"

local ipairs, type, next, tostring = ipairs, type, next, tostring
local concat, fmt = table.concat, string.format

local M = {}

-- The architectures whose kernels take the multiplexers.
M.ARCHES = { i386 = true, ppc64le = true, s390x = true }

-- Each multiplexed call: its multiplexer and the call number in arg0 there
-- (linux/net.h's SYS_SOCKET..., and ipc's SEMOP... from linux/ipc.h).
M.SUBCALL = {
  socket = { "socketcall", 1 }, bind = { "socketcall", 2 }, connect = { "socketcall", 3 },
  listen = { "socketcall", 4 }, accept = { "socketcall", 5 }, getsockname = { "socketcall", 6 },
  getpeername = { "socketcall", 7 }, socketpair = { "socketcall", 8 }, send = { "socketcall", 9 },
  recv = { "socketcall", 10 }, sendto = { "socketcall", 11 }, recvfrom = { "socketcall", 12 },
  shutdown = { "socketcall", 13 }, setsockopt = { "socketcall", 14 },
  getsockopt = { "socketcall", 15 }, sendmsg = { "socketcall", 16 },
  recvmsg = { "socketcall", 17 }, accept4 = { "socketcall", 18 }, recvmmsg = { "socketcall", 19 },
  sendmmsg = { "socketcall", 20 },
  semop = { "ipc", 1 }, semget = { "ipc", 2 }, semctl = { "ipc", 3 }, semtimedop = { "ipc", 4 },
  msgsnd = { "ipc", 11 }, msgrcv = { "ipc", 12 }, msgget = { "ipc", 13 }, msgctl = { "ipc", 14 },
  shmat = { "ipc", 21 }, shmdt = { "ipc", 22 }, shmget = { "ipc", 23 }, shmctl = { "ipc", 24 },
}

local rank = action.rank     -- the kernel takes the lowest (the most restrictive)

-- The most permissive answer the filter gives mux(call, ...) on arch: arg0 is all it can
-- test, but a policy may test the others too (a pointer, for socketcall), and ipc's
-- kernel drops a version kept in arg0's upper 16 bits.
local function mux_answer(f, mux, call, arch)
  local widest
  for _, arg0 in ipairs(mux == "ipc" and { call, call | 0x10000 } or { call }) do
    for _, arg1 in ipairs({ 0, 0x1000, 0xffffffff }) do
      local value = action.value(f:eval(mux, { arg0, arg1, 0, 0, 0, 0 }, arch))
      if not widest or rank(value) > rank(widest) then widest = value end
    end
  end
  return widest
end

-- For each multiplexed call the filter has rules for: the strictest answer they can give
-- (the default too, where no unconditional rule backs the conditional ones) and the
-- line that gives it; the names in the order the rules first name them.
local function strictest_by_name(f)
  local default, out, backed = action.value(f.default), {}, {}
  local primary = f.arches[1]
  for _, r in ipairs(f.rules) do
    local name = r.syscall
    if type(name) ~= "string" then name = core.syscall_name(name, primary) end
    if name and M.SUBCALL[name] then
      local value, s = action.value(r.action), out[name]
      if not s then
        out[name], out[#out + 1] = { value = value, where = r.where }, name
      elseif rank(value) < rank(s.value) then
        s.value, s.where = value, r.where
      end
      if not (r.args and next(r.args)) then backed[name] = true end
    end
  end
  for _, name in ipairs(out) do
    local s = out[name]
    if not backed[name] and rank(default) < rank(s.value) then s.value, s.where = default, f.where end
  end
  return out
end

-- The stack's answer to mux(call, ...) on arch: the kernel runs every filter and takes
-- the most restrictive; each filter's is its most permissive (mux_answer). A filter not
-- built for arch gives its bad-arch action; raw BPF, whose is unknown, is taken to allow.
local function stack_answer(filters, mux, call, arch)
  local answer
  for _, f in ipairs(filters) do
    local value
    for _, a in ipairs(f.arches) do
      if a == arch then value = mux_answer(f, mux, call, arch) end
    end
    value = value or action.value(f.bad_arch or "allow")
    if not answer or rank(value) < rank(answer) then answer = value end
  end
  return answer
end

-- The gaps of one filter of the stack on one arch that has multiplexers, added to out.
local function arch_gaps(filters, strictest, arch, out)
  local by_mux = {}
  for _, name in ipairs(strictest) do
    local s, sub = strictest[name], M.SUBCALL[name]
    local mux, call = sub[1], sub[2]
    local theirs = core.syscall_number(mux, arch) and action.kind(s.value) ~= "log"
                   and stack_answer(filters, mux, call, arch)
    if theirs and rank(s.value) < rank(theirs) then
      local g = by_mux[mux]
      if not g then
        g = { arch = arch, mux = mux, names = {}, calls = {}, action = action.canonical(s.value),
              mux_action = action.canonical(theirs), where = s.where }
        by_mux[mux], out[#out + 1] = g, g
      end
      g.names[#g.names + 1], g.calls[#g.calls + 1] = name, call
    end
  end
end

-- gaps(filters) -> a list of { arch =, mux =, names = { ... }, calls = { n, ... },
-- action =, mux_action =, where = }: for each filter of the stack (a filter alone is a
-- stack of one), each arch of it that has multiplexers, and each multiplexer, the calls
-- it carries that the policy's rules answer more strictly than the stack answers the
-- multiplexer (`log` stops nothing and is not counted). Raw BPF has no rules to compare.
function M.gaps(filters)
  if filters.bpf then filters = { filters } end
  local out = {}
  for _, f in ipairs(filters) do
    local strictest
    for _, arch in ipairs(f.arches) do
      if M.ARCHES[arch] and f.rules then
        strictest = strictest or strictest_by_name(f)
        arch_gaps(filters, strictest, arch, out)
      end
    end
  end
  return out
end

-- The warning sxlua prints for a gap, without its "where: " prefix.
function M.warning(g)
  local calls = {}
  for i, n in ipairs(g.calls) do calls[i] = fmt("%d", n) end
  return fmt("warning: on %s the policy answers %s with %s, but %s with arg0 %s gets %s: " ..
    "a program makes %s through %s, whose other arguments no filter can read; deny %s " ..
    "too (where arg0 is the call's number)",
    g.arch, concat(g.names, ", "), tostring(g.action), g.mux, concat(calls, ", "),
    tostring(g.mux_action), #g.names > 1 and "these calls" or "that call", g.mux, g.mux)
end

return M

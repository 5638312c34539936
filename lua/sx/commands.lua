-- sx.commands: sxlua's commands for seeing inside a filter before trusting it.
--
--   sxlua dump    SOURCE                  the program, one instruction a line
--   sxlua explain SOURCE -- SYSCALL [ARG...] which rule decides, the action, the path
--   sxlua summary SOURCE                  per action, which syscalls get it; the cache
--   sxlua bpf     [-o FILE] SOURCE        the raw program (for bwrap --seccomp FD)
--   sxlua export  SOURCE                  the filter as an OCI / Docker seccomp profile
--   sxlua groups  [@GROUP...]             syscall groups and their members
--
-- SOURCE is a policy (policy.lua [policy args...]), --bpf FILE (raw BPF someone else
-- built) or --oci PROFILE.json (Docker / podman / OCI); --arch ARCH picks the
-- architecture for --bpf, --oci and explain. Each command returns an exit status.

local seccomp = require "sx.seccomp"
local inspect = require "sx.inspect"

local io, ipairs, tostring, tonumber, type, concat, require =
  io, ipairs, tostring, tonumber, type, table.concat, require

local M = {}

local EXIT_RUNNER = 125

M.USAGE = [=[
Usage: sxlua COMMAND [options] SOURCE [-- SYSCALL [ARG...]]

Commands that show what a filter does, without running anything:
  dump      the BPF program, one instruction a line, with syscall names
  explain   one decision: which rule decides, the action, the instructions run
            (sxlua explain policy.lua -- socket 2 1 0)
  summary   per action, which syscalls get it; which depend on arguments; which
            the kernel's constant-action cache answers without running the filter
  bpf       the raw program, to stdout or -o FILE (bwrap --seccomp FD reads it)
  export    the filter as an OCI / Docker seccomp profile (JSON)
  groups    the syscall groups (@system-service, ...), or one group's members

SOURCE is one of:
  policy.lua [policy args...]   a policy, as sxlua runs it
  --bpf FILE                    raw BPF (8 bytes an instruction), e.g. from bwrap
  --oci PROFILE.json            a Docker, podman or OCI seccomp profile
Options:
  --arch ARCH   architecture of --bpf and --oci sources, and of explain's probe
  -o FILE       where bpf writes (default: standard output)
A policy that returns several filters is shown filter by filter; explain also
gives the kernel's combined answer (the most severe action wins).
]=]

M.COMMANDS = { dump = true, explain = true, summary = true, bpf = true, export = true,
               groups = true }

local function say(fmt, ...)
  io.stderr:write("sxlua: ", fmt:format(...), "\n")
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local data = f:read("a")
  f:close()
  return data
end

-- Options and the source: { arch=, out=, bpf=, oci=, policy=, policy_args=, probe= }.
local function parse(args, i)
  local o = { policy_args = {}, probe = {} }
  while args[i] do
    local a = args[i]
    if a == "--arch" or a == "--bpf" or a == "--oci" or a == "-o" then
      if not args[i + 1] then return nil, a .. " needs a value" end
      o[a == "-o" and "out" or a:sub(3)] = args[i + 1]
      i = i + 2
    elseif a == "--" then
      for j = i + 1, #args do o.probe[#o.probe + 1] = args[j] end
      break
    elseif a:sub(1, 1) == "-" and not o.policy then
      return nil, ("unknown option '%s' (see sxlua --help)"):format(a)
    elseif not o.policy and not o.bpf and not o.oci then
      o.policy = a
      i = i + 1
    else
      o.policy_args[#o.policy_args + 1] = a
      i = i + 1
    end
  end
  local sources = (o.policy and 1 or 0) + (o.bpf and 1 or 0) + (o.oci and 1 or 0)
  if sources ~= 1 then return nil, "give one source: policy.lua, --bpf FILE or --oci FILE" end
  return o
end

-- The filters a source stands for, or nil and a message.
local function filters_of(o, load_policy)
  if o.bpf then
    local data, err = read_file(o.bpf)
    if not data then return nil, err end
    local f, ferr = seccomp.load(data, o.arch)
    if not f then return nil, o.bpf .. ": " .. tostring(ferr) end
    return { f }
  elseif o.oci then
    local data, err = read_file(o.oci)
    if not data then return nil, err end
    local f, report = require("sx.oci").import(data, { arch = o.arch })
    if not f then return nil, o.oci .. ": " .. tostring(report) end
    return { f }
  end
  return load_policy(o.policy, o.policy_args)
end

local function each(filters, fn)
  for n, f in ipairs(filters) do
    if #filters > 1 then io.stdout:write(("# filter %d of %d: %s\n"):format(n, #filters, tostring(f))) end
    fn(f)
  end
end

-- The kernel's answer for a stack: the most severe action wins (the signed comparison of
-- the action bits); on a tie, the filter installed last, which the kernel runs first.
local function combined(results)
  local best
  for n = #results, 1, -1 do
    local value = results[n].value
    local rank = (value & 0xffff0000) ~ 0x80000000      -- signed order as unsigned
    if not best or rank < best.rank then best = { rank = rank, n = n } end
  end
  return best.n
end

local function explain(o, filters)
  local name = o.probe[1]
  if not name then return nil, "explain needs a syscall: sxlua explain SOURCE -- SYSCALL [ARG...]" end
  local syscall = tonumber(name) or name
  local args = {}
  for j = 2, #o.probe do
    local v = math.tointeger(tonumber(o.probe[j]))
    if not v then
      local ok, constants = pcall(require, "sx.constants")
      v = ok and constants.values[o.probe[j]]
    end
    if not v then return nil, ("argument '%s' is not a number or a known constant"):format(o.probe[j]) end
    args[j - 1] = v
  end
  local results = {}
  for n, f in ipairs(filters) do
    local e, err = f:explain(syscall, args, o.arch)
    if not e then return nil, tostring(err) end
    if #filters > 1 then io.stdout:write(("# filter %d of %d: %s\n"):format(n, #filters, tostring(f))) end
    io.stdout:write(inspect.format_explain(e))
    local value = require("sx.action").value(e.action)
    results[n] = { value = value, action = e.action }
  end
  if #filters > 1 then
    local n = combined(results)
    io.stdout:write(("# the kernel's answer: %s (from filter %d)\n"):format(tostring(results[n].action), n))
  end
  return true
end

local function write_bpf(o, filters)
  if #filters > 1 then return nil, "the policy has several filters; bpf writes one program" end
  local out, err = io.stdout, nil
  if o.out then
    out, err = io.open(o.out, "wb")
    if not out then return nil, err end
  end
  out:write(filters[1].bpf)
  if o.out then out:close() end
  return true
end

local function groups(args, i)
  if not args[i] then
    for _, name in ipairs(seccomp.groups()) do
      local members, description = seccomp.group(name)
      io.stdout:write(("%-18s %3d  %s\n"):format(name, #members, description or ""))
    end
    return true
  end
  for j = i, #args do
    local members, err = seccomp.group(args[j])
    if not members then return nil, tostring(err) end
    io.stdout:write(args[j], ": ", concat(members, " "), "\n")
  end
  return true
end

local ACTIONS = {
  dump = function(_, filters) each(filters, function(f) io.stdout:write(f:disasm()) end) return true end,
  summary = function(_, filters)
    each(filters, function(f) io.stdout:write(inspect.format_summary(f.summary)) end)
    return true
  end,
  export = function(_, filters)
    if #filters > 1 then return nil, "the policy has several filters; a profile holds one" end
    local text, err = require("sx.oci").export(filters[1])
    if not text then return nil, tostring(err) end
    io.stdout:write(text, text:sub(-1) == "\n" and "" or "\n")
    return true
  end,
  explain = explain,
  bpf = write_bpf,
}

-- run(command, args, i, load_policy) -> exit status. args[i..] follow the command;
-- load_policy(path, policy_args) -> filters | nil, message (sx.runner provides it).
function M.run(command, args, i, load_policy)
  local ok, err
  if command == "groups" then
    ok, err = groups(args, i)
  else
    local o, perr = parse(args, i)
    if not o then say("%s", perr) return EXIT_RUNNER end
    local filters, ferr = filters_of(o, load_policy)
    if not filters then
      if ferr then say("%s", ferr) end
      return EXIT_RUNNER
    end
    ok, err = ACTIONS[command](o, filters)
  end
  if not ok then say("%s", err) return EXIT_RUNNER end
  return 0
end

return M

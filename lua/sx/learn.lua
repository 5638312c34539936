-- sx.learn: learn a least-privilege policy from a run of the program.
--
--   sxlua learn [-o policy.lua] [--merge old.lua] [--default ACTION] -- program [args...]
--
-- The program runs under a filter that hands every syscall of its whole process tree to
-- the supervisor, which records it and lets it go on (the workload behaves as it would
-- unfiltered). For the arguments that matter to a policy it records the values seen:
-- socket family and type, clone/clone3/unshare flags, PROT_EXEC in mmap and mprotect,
-- ioctl requests, prctl options, personality. The policy written is an ordinary
-- declarative policy.lua: an allow list sorted by name, one syscall a line with the calls
-- seen and its group; text conditions where the run used an argument narrowly; the
-- default; a header saying how it was made. --merge unions a new run into one written
-- before (several runs, different code paths); the file stays one a person edits.

local seccomp = require "sx.seccomp"

local pairs, ipairs, next, type, format, concat, sort, tonumber, math_type, pcall, require, os =
  pairs, ipairs, next, type, string.format, table.concat, table.sort, tonumber, math.type,
  pcall, require, os

local M = {}

local CLONE_NEW = { "CLONE_NEWNS", "CLONE_NEWCGROUP", "CLONE_NEWUTS", "CLONE_NEWIPC",
                    "CLONE_NEWUSER", "CLONE_NEWPID", "CLONE_NEWNET", "CLONE_NEWTIME" }
local CLONE_NEW_BITS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 |
                       0x20000000 | 0x40000000 | 0x00000080
local PROT_EXEC, MAP_ANONYMOUS = 0x4, 0x20
local MAX_VALUES = 16      -- more distinct values than this: the argument is not narrow

-- The values of the arguments a policy cares about, for one call: a list of
-- {key, value} (key names what was recorded, e.g. "family").
local function interesting(call)
  local a, name = call.args, call.syscall
  if name == "socket" or name == "socketpair" then
    return { { "family", a[1] & 0xffffffff }, { "type", a[2] & 0xf } }
  elseif name == "clone" then
    return { { "namespaces", a[1] & CLONE_NEW_BITS } }
  elseif name == "clone3" then
    local bytes = call:bytes(0, 8)
    local flags = bytes and #bytes == 8 and ("<I8"):unpack(bytes) or -1
    return { { "namespaces", flags == -1 and -1 or flags & CLONE_NEW_BITS } }
  elseif name == "unshare" or name == "setns" then
    return { { "flags", a[name == "unshare" and 1 or 2] & 0xffffffff } }
  elseif name == "mmap" or name == "mmap2" then
    return { { "exec", a[3] & PROT_EXEC ~= 0 and (a[4] & MAP_ANONYMOUS ~= 0 and 2 or 1) or 0 } }
  elseif name == "mprotect" or name == "pkey_mprotect" then
    return { { "exec", a[3] & PROT_EXEC ~= 0 and 1 or 0 } }
  elseif name == "ioctl" then
    return { { "request", a[2] & 0xffffffff } }
  elseif name == "prctl" then
    return { { "option", a[1] & 0xffffffff } }
  elseif name == "personality" then
    return { { "persona", a[1] & 0xffffffff } }
  end
end

---------------------------------------------------------------------------- recording

-- recorder() -> record(call), and the recording:
-- { arches = { [arch] = { [syscall] = count } }, values = { [syscall] = { [key] = { [value] = count } } } }
-- A workload can make every syscall number there is, and ioctl with every request: past
-- these, new ones are counted, not kept (the recording would grow without bound). More
-- than MAX_VALUES values already make an argument unconditional.
local MAX_KINDS = 2048          -- syscalls (names, or numbers without one) per arch

function M.recorder()
  local rec, kinds, distinct = { arches = {}, values = {}, unrecorded = 0 }, {}, {}
  local function record(call)
    local per = rec.arches[call.arch]
    if not per then per = {}; rec.arches[call.arch] = per; kinds[call.arch] = 0 end
    if not per[call.syscall] then
      if kinds[call.arch] >= MAX_KINDS then
        rec.unrecorded = rec.unrecorded + 1
        return
      end
      kinds[call.arch] = kinds[call.arch] + 1
    end
    per[call.syscall] = (per[call.syscall] or 0) + 1
    local found = interesting(call)
    if found then
      local v = rec.values[call.syscall] or {}
      rec.values[call.syscall] = v
      for _, kv in ipairs(found) do
        local seen = v[kv[1]]
        if not seen then seen = {}; v[kv[1]] = seen; distinct[seen] = 0 end
        if seen[kv[2]] then seen[kv[2]] = seen[kv[2]] + 1
        elseif distinct[seen] <= MAX_VALUES then seen[kv[2]], distinct[seen] = 1, distinct[seen] + 1 end
      end
    end
  end
  return record, rec
end

---------------------------------------------------------------------------- names

local function value_name(key, v)
  local decode = require "sx.decode"
  local name = key == "request" and decode.ioctl_name(v) or key == "family" and decode.name("AF_", v)
               or key == "option" and decode.name("PR_", v)
  return name or format(v < 10 and "%d" or "0x%x", v)
end

-- The group a syscall belongs to: the smallest one that has it.
local group_of
local function group(name)
  if not group_of then
    group_of = {}
    local size = {}
    for _, g in ipairs(seccomp.groups()) do
      if g ~= "@known" then
        local members = seccomp.group(g) or {}
        for _, m in ipairs(members) do
          if not size[m] or #members < size[m] then group_of[m], size[m] = g, #members end
        end
      end
    end
  end
  return group_of[name]
end

-- The name of argument `index` of `syscall` in a text condition (its name in the tables,
-- or argN).
local function arg_name(syscall, index)
  local args = seccomp.syscall_args(syscall)
  local n = args and args[index + 1] and args[index + 1].name
  if n and n:find("^[%a_][%w_]*$") then return n end
  return "arg" .. index
end

---------------------------------------------------------------------------- conditions

local function sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  sort(out)
  return out
end

-- A text condition for syscall `name` from the values recorded, a comment on what was
-- seen, and extra rules; or nil when the run does not show a narrow use.
local function condition(name, values)
  if not values then return nil end
  if (name == "socket" or name == "socketpair") and values.family then
    local vs = sorted_keys(values.family)
    if #vs > MAX_VALUES then return nil end
    local arg, parts, text = arg_name(name, 0), {}, {}
    for i, v in ipairs(vs) do
      parts[i] = ("%s == %s"):format(arg, value_name("family", v))
      text[i] = ("%s %d"):format(value_name("family", v), values.family[v])
    end
    return concat(parts, " || "), "families: " .. concat(text, ", ")
  elseif name == "unshare" and values.flags then
    local vs = sorted_keys(values.flags)
    if #vs > MAX_VALUES then return nil end
    local arg, parts = arg_name(name, 0), {}
    for i, v in ipairs(vs) do parts[i] = ("%s == 0x%x"):format(arg, v) end
    return concat(parts, " || "), "flags seen only"
  elseif name == "mprotect" and values.exec and not values.exec[1] then
    return ("%s & PROT_EXEC == 0"):format(arg_name(name, 2)), "never made memory executable"
  elseif name == "mmap" and values.exec and not values.exec[2] then
    return ("!(%s & PROT_EXEC && %s & MAP_ANONYMOUS)"):format(arg_name(name, 2), arg_name(name, 3)),
           "no anonymous executable mapping (files, such as libraries, may be)"
  elseif (name == "ioctl" or name == "prctl" or name == "personality") then
    local key = name == "ioctl" and "request" or name == "prctl" and "option" or "persona"
    local vs = values[key] and sorted_keys(values[key]) or {}
    if #vs == 0 or #vs > MAX_VALUES then return nil end
    local arg, parts = arg_name(name, name == "ioctl" and 1 or 0), {}
    for i, v in ipairs(vs) do parts[i] = ("%s == %s"):format(arg, value_name(key, v)) end
    return concat(parts, " || "), "only these"
  end
end

---------------------------------------------------------------------------- the policy

-- The values recorded for a syscall, written so that --merge reads them back:
-- "family=2:3 family=1:1" (key=value:count).
local function values_text(values)
  local out = {}
  for _, key in ipairs(sorted_keys(values or {})) do
    for _, v in ipairs(sorted_keys(values[key])) do out[#out + 1] = ("%s=%d:%d"):format(key, v, values[key][v]) end
  end
  return concat(out, " ")
end

-- Did the run make no new namespace, through clone and clone3 alike? (-1: clone3's flags
-- could not be read.)
local function without_namespaces(rec)
  local any = false
  for _, name in ipairs{ "clone", "clone3" } do
    local ns = rec.values[name] and rec.values[name].namespaces
    if ns then
      for v in pairs(ns) do if v ~= 0 then return false end end
      any = true
    end
  end
  return any
end

-- policy(rec, opts) -> the text of policy.lua. opts: command (a list), default, date,
-- kernel, arch.
function M.policy(rec, opts)
  local host = opts.arch or seccomp.arch()
  local counts = {}
  for name, n in pairs(rec.arches[host] or {}) do counts[name] = n end
  -- clone3's flags lie in memory a filter cannot read: when the run made no namespace and
  -- used clone too, the policy sends clone3 back to clone (ENOSYS), whose flags it checks
  local no_ns = without_namespaces(rec) and counts.clone ~= nil
  if no_ns then counts.clone3 = nil end
  local names = sorted_keys(counts)
  local words = {}
  for i, w in ipairs(opts.command or {}) do
    words[i] = w:find("^[%w%-_./=:,@]+$") and w or "'" .. w:gsub("'", "'\\''") .. "'"
  end
  -- The command goes in a comment: a line break or other control byte in an argument
  -- would end it, so those are written as Lua escapes (\n, \0, ...).
  local command = concat(words, " "):gsub("%c", function(c)
    return c == "\n" and "\\n" or c == "\t" and "\\t" or ("\\%d"):format(c:byte())
  end)
  local lines = {
    "-- Learned by sxlua learn from a run of:",
    "--   " .. command,
    ("-- on %s, Linux %s, %s. It allows what that run did, and nothing else: review it,"):format(
      opts.date or os.date("!%Y-%m-%d"), opts.kernel or "?", host),
    "-- run the program's other paths with --merge, and edit it as you would any policy.",
  }
  if (rec.unrecorded or 0) > 0 then
    lines[#lines + 1] = ("-- The run made %d more calls of syscall numbers past the first %d of an arch, " ..
                         "not recorded: this policy denies them."):format(rec.unrecorded, MAX_KINDS)
  end
  if counts.io_uring_setup then
    lines[#lines + 1] = "-- The run used io_uring: its operations (open, connect, read, ...) are no " ..
                        "syscalls, so this policy"
    lines[#lines + 1] = "-- does not limit them (sxlua warns of each it stops). Deny io_uring_setup " ..
                        "if the program can do without."
  end
  for arch, other in pairs(rec.arches) do
    if arch ~= host then
      local n = 0
      for _ in pairs(other) do n = n + 1 end
      lines[#lines + 1] = ("-- The run also made %d kinds of %s syscall; this policy is for %s only."):format(n, arch, host)
    end
  end
  lines[#lines + 1] = 'local seccomp = require "sx.seccomp"'
  lines[#lines + 1] = ""
  lines[#lines + 1] = "-- Every syscall the program made: how many times, and the group it belongs to."
  lines[#lines + 1] = "local allowed = {"
  local width = 0
  for _, name in ipairs(names) do if #name > width then width = #name end end
  for _, name in ipairs(names) do
    local g = group(name)
    lines[#lines + 1] = ("  %-" .. (width + 3) .. "s -- %d%s"):format('"' .. name .. '",', counts[name],
                                                         g and (" " .. g) or "")
  end
  lines[#lines + 1] = "}"
  lines[#lines + 1] = ""
  lines[#lines + 1] = "-- Arguments the program used narrowly: only these are allowed. (seen: what --merge reads)"
  lines[#lines + 1] = "local only = {"
  for _, name in ipairs(names) do
    local cond, why = condition(name, rec.values[name])
    local values = values_text(rec.values[name])
    if name == "clone" and no_ns then
      cond = ("%s & (%s) == 0"):format(arg_name("clone", 0), concat(CLONE_NEW, "|"))
      why = "no new namespaces"
      local c3 = values_text(rec.values.clone3)
      values = values .. (c3 ~= "" and (" clone3." .. c3:gsub(" ", " clone3.")) or "")
    end
    if cond then
      lines[#lines + 1] = ("  %s = %q, -- %s; seen: %s"):format(name, cond, why, values)
    elseif values ~= "" then
      lines[#lines + 1] = ("  -- %s: any; seen: %s"):format(name, values)
    end
  end
  lines[#lines + 1] = "}"
  lines[#lines + 1] = ""
  lines[#lines + 1] = "local b = seccomp.builder()"
  lines[#lines + 1] = "for _, name in ipairs(allowed) do b:allow(name, only[name]) end"
  if no_ns then
    lines[#lines + 1] = "-- clone3 takes its flags in memory, which a filter cannot read: ENOSYS sends glibc"
    lines[#lines + 1] = "-- back to clone, whose flags the condition above checks."
    lines[#lines + 1] = "b:deny(\"clone3\", seccomp.errno(\"ENOSYS\"))"
  end
  lines[#lines + 1] = ("return b:build{ default = %q }"):format(opts.default or "kill_process")
  return concat(lines, "\n") .. "\n"
end

---------------------------------------------------------------------------- merging

-- parse(text) -> the recording a policy written by policy() holds (its allow list with
-- counts, and the values seen), for --merge; or nil, message.
function M.parse(text, arch)
  local rec = { arches = {}, values = {} }
  local counts = {}
  rec.arches[arch or seccomp.arch()] = counts
  local block = text:match("\nlocal allowed = {\n(.-)\n}")
  if not block then return nil, "no `local allowed = { ... }` list (was it written by sxlua learn?)" end
  for line in (block .. "\n"):gmatch("([^\n]*)\n") do
    local name, count = line:match('^%s*"([%w_]+)",%s*%-%-%s*(%d+)')
    name = name or line:match('^%s*"([%w_]+)",')
    if name then counts[name] = (counts[name] or 0) + (tonumber(count) or 0) end
  end
  local only = text:match("\nlocal only = {\n(.-)\n}") or ""
  for line in (only .. "\n"):gmatch("([^\n]*)\n") do
    local name, values = line:match("^%s*%-?%-?%s*([%w_]+)[ =:].-seen: ([^)]*)")
    if name and values then
      for owner, key, value, count in values:gmatch("([%w_]*%.?)([%w_]+)=(%-?%d+):(%d+)") do
        local who = owner ~= "" and owner:sub(1, -2) or name
        local v = rec.values[who] or {}
        rec.values[who] = v
        v[key] = v[key] or {}
        local n = math_type(tonumber(value)) and tonumber(value)
        v[key][n] = (v[key][n] or 0) + tonumber(count)
      end
    end
  end
  return rec
end

-- merge(a, b) -> one recording with the calls and values of both.
function M.merge(a, b)
  local out = { arches = {}, values = {} }
  for _, rec in ipairs{ a, b } do
    for arch, counts in pairs(rec.arches) do
      out.arches[arch] = out.arches[arch] or {}
      for name, n in pairs(counts) do out.arches[arch][name] = (out.arches[arch][name] or 0) + n end
    end
    for name, keys in pairs(rec.values) do
      out.values[name] = out.values[name] or {}
      for key, vals in pairs(keys) do
        out.values[name][key] = out.values[name][key] or {}
        for v, n in pairs(vals) do out.values[name][key][v] = (out.values[name][key][v] or 0) + n end
      end
    end
  end
  return out
end

---------------------------------------------------------------------------- sxlua learn

M.USAGE = [[
Usage: sxlua learn [options] -- program [args...]

Run program, recording every syscall of its whole process tree (through seccomp
user notification: no ptrace, no extra privileges; the program behaves as it
would unfiltered), then write a least-privilege policy.lua for it.
Options:
  -o FILE             write the policy to FILE (default: standard output)
  --merge OLD.lua     add this run to a policy sxlua learn wrote before
  --default ACTION    the action for everything else (default: kill_process)
  --no-pid-namespace  run the program without a PID namespace of its own
On SIGINT or SIGTERM sxlua passes the signal on, and writes the policy once the
program has ended. The exit status is the program's.
]]

local function read_file(path) return require("sx.commands").read_file(path) end

-- main(args, i, say, runner) -> exit status: `sxlua learn` with its arguments from args[i].
-- runner gives exit_status and FORWARD (sx.runner's).
function M.main(args, i, say, runner)
  local process = require "sx.process"
  local out, merge, default, share = nil, nil, "kill_process", false
  while args[i] and args[i] ~= "--" do
    local o = args[i]
    if o == "-o" or o == "--merge" or o == "--default" then
      if not args[i + 1] then say("learn: %s needs a value", o) return 125 end
      if o == "-o" then out = args[i + 1] elseif o == "--merge" then merge = args[i + 1]
      else default = args[i + 1] end
      i = i + 2
    elseif o == "--no-pid-namespace" then share, i = true, i + 1
    elseif o == "-h" or o == "--help" then io.stdout:write(M.USAGE) return 0
    else say("learn: unknown option '%s' (see sxlua learn --help)", o) return 125 end
  end
  local argv = {}
  for j = i + 1, #args do argv[#argv + 1] = args[j] end
  if #argv == 0 then io.stderr:write(M.USAGE) return 125 end
  if not seccomp.action(default) then say("learn: --default: unknown action '%s'", default) return 125 end
  local before
  if merge then
    local text, err = read_file(merge)
    if not text then say("learn: --merge: %s", err) return 125 end
    before, err = M.parse(text)
    if not before then say("learn: --merge %s: %s", merge, err) return 125 end
  end
  if not share then process.enter_user_namespace() end
  local f = assert(seccomp.from_rules({}, "allow", { bad_arch = "allow" }))
  local p, err = process.spawn{ argv = argv, supervise = "learn", pid_namespace = not share }
  if not p then
    say("%s: %s", argv[1], err.message)
    return err.code == "not_found" and 127 or 125
  end
  assert(p:install(f))
  local ok, perr = p:proceed()
  if not ok then
    if perr.code == "exec_failed" then say("%s: %s", argv[1], perr.message) return 126 end
    say("learn: %s", perr.message)       -- (no listener: nothing to record with)
    return 125
  end
  local record, rec = M.recorder()
  local how, value = p:wait{ forward = runner.FORWARD, record = record }
  if not how then say("%s: %s", argv[1], value.message) return 125 end
  if before then rec = M.merge(before, rec) end
  local text = M.policy(rec, { command = argv, default = default,
                               kernel = (read_file("/proc/sys/kernel/osrelease") or "?"):gsub("%s+$", "") })
  if out then
    local file, err = io.open(out, "w")
    if file then
      local wrote, werr = file:write(text)
      local closed, cerr = file:close()          -- (a full disk may only show here)
      err = not wrote and werr or not closed and cerr or nil
    end
    if err then say("learn: %s", err) return 125 end
    local n = 0
    for _ in pairs(rec.arches[seccomp.arch()] or {}) do n = n + 1 end
    say("learned %d syscalls; wrote %s", n, out)
  else
    io.stdout:write(text)
  end
  return runner.exit_status(argv[1], how, value)
end

return M

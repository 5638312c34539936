-- sx.commands: sxlua's commands for seeing inside a filter before trusting it, and
-- for running a Lua script with the sx modules at hand.
--
--   sxlua dump    [--json] SOURCE                  the program, one instruction a line
--   sxlua explain [--json] SOURCE -- SYSCALL [ARG...] which rule decides, the action, the path
--   sxlua summary [--json] SOURCE                  per action, which syscalls get it; the cache
--   sxlua bpf     [-o FILE] [--allow-exec] SOURCE  the raw program (for bwrap --seccomp FD)
--   sxlua export  [--format oci|spo] [--name NAME] [--allow-exec] SOURCE
--                                                  an OCI / Docker profile, or a Kubernetes
--                                                  SeccompProfile (security-profiles-operator)
--   sxlua groups  [@GROUP...]                      syscall groups and their members
--   sxlua run     script.lua [args...]             a Lua script with the sx modules
--
-- SOURCE is a policy (policy.lua [policy args...]), --bpf FILE (raw BPF someone else
-- built) or --oci PROFILE.json (Docker / podman / OCI / SeccompProfile); --arch ARCH picks
-- the architecture for --bpf, --oci and explain. While a policy runs here, what it prints
-- goes to stderr, so stdout carries only what the command writes. Each command returns an
-- exit status. Their help text and names are in sx.usage.

local seccomp = require "sx.seccomp"
local inspect = require "sx.inspect"
local action = require "sx.action"
local json = require "sx.json"

local io, ipairs, pairs, tostring, tonumber, type, concat, require, pcall, error, xpcall,
      loadfile, unpack, traceback, _G =
  io, ipairs, pairs, tostring, tonumber, type, table.concat, require, pcall, error, xpcall,
  loadfile, table.unpack, debug.traceback, _G

local M = {}

local EXIT_RUNNER = 125
local EXIT_SCRIPT = 1

-- One line on stderr, written whole (one write: never cut by another process's line).
local function say(fmt, ...)
  io.stderr:write("sxlua: " .. fmt:format(...) .. "\n")
end

-- read_file(path) -> its bytes, or nil, message (also sxlua learn's)
local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local data = f:read("a")
  f:close()
  return data
end
M.read_file = read_file

-- Options that take a value, and flags; each names the commands it is for.
local VALUE_OPTIONS = { ["--arch"] = "arch", ["--bpf"] = "bpf", ["--oci"] = "oci", ["-o"] = "out",
                        ["--format"] = "format", ["--name"] = "name" }
local FLAGS = { ["--json"] = "json", ["--allow-exec"] = "allow_exec" }
local FOR = {
  out = { bpf = true }, json = { dump = true, explain = true, summary = true },
  format = { export = true }, name = { export = true }, allow_exec = { bpf = true, export = true },
}

-- Options and the source: { arch=, out=, bpf=, oci=, json=, format=, name=, allow_exec=,
-- policy=, policy_args=, probe= }.
local function parse(command, args, i)
  local o = { policy_args = {}, probe = {} }
  while args[i] do
    local a = args[i]
    if VALUE_OPTIONS[a] then
      if not args[i + 1] then return nil, a .. " needs a value" end
      o[VALUE_OPTIONS[a]] = args[i + 1]
      i = i + 2
    elseif FLAGS[a] then
      o[FLAGS[a]] = true
      i = i + 1
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
  for key, commands in pairs(FOR) do
    if o[key] and not commands[command] then
      for option, k in pairs(VALUE_OPTIONS) do if k == key then key = option end end
      for option, k in pairs(FLAGS) do if k == key then key = option end end
      return nil, ("%s is not an option of %s (see sxlua --help)"):format(key, command)
    end
  end
  if o.format and o.format ~= "oci" and o.format ~= "spo" then
    return nil, ("unknown --format '%s' (oci or spo)"):format(o.format)
  end
  if o.name and o.format ~= "spo" then return nil, "--name is for --format spo" end
  local sources = (o.policy and 1 or 0) + (o.bpf and 1 or 0) + (o.oci and 1 or 0)
  if sources ~= 1 then return nil, "give one source: policy.lua, --bpf FILE or --oci FILE" end
  return o
end

-- load_policy with what the policy prints sent to stderr (sx.host moves the descriptor,
-- so a child's output and io.stdout go there too).
local function quietly(load_policy, policy, policy_args)
  local ok, host = pcall(require, "sx.host")
  local saved = ok and host.stdout_to_stderr()
  local done, filters, err = pcall(load_policy, policy, policy_args)
  if saved then host.restore_stdout(saved) end
  if not done then error(filters, 0) end
  return filters, err
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
    o.report = report
    return { f }
  end
  return quietly(load_policy, o.policy, o.policy_args)
end

local function each(filters, fn)
  for n, f in ipairs(filters) do
    if #filters > 1 then io.stdout:write(("# filter %d of %d: %s\n"):format(n, #filters, tostring(f))) end
    fn(f)
  end
end

-- ---- --json -------------------------------------------------------------------------
-- Field names are stable (docs/sxlua.1 lists them). 64-bit argument values are hex
-- strings ("0x29"), so JSON readers that hold numbers as doubles lose nothing.

local function hex(v) return ("0x%x"):format(v) end

-- The import report of an --oci source, as JSON data.
local function report_json(r)
  local caps = {}
  for c in pairs(r.caps or {}) do caps[#caps + 1] = c end
  table.sort(caps)
  local function entries(list)
    local out = json.array()
    for i, e in ipairs(list) do out[i] = { path = e.path, names = json.array(e.names), reason = e.reason } end
    return out
  end
  local skipped = {}
  for arch, names in pairs(r.skipped) do skipped[arch] = json.array(names) end
  local unknown, overlaps = json.array(), json.array()
  for i, u in ipairs(r.unknown) do unknown[i] = { name = u.name, path = u.path, known = u.known } end
  for i, v in ipairs(r.overlaps) do overlaps[i] = { name = v.name, first = v.first, second = v.second } end
  return { arches = json.array(r.arches), arches_from = r.arches_from, native = r.native,
           kernel = r.kernel, caps = json.array(caps), excluded = entries(r.excluded),
           dropped = entries(r.dropped), skipped = skipped, unknown = unknown,
           overlaps = overlaps, unsupported_arches = json.array(r.unsupported_arches),
           notes = json.array(r.notes) }
end

local function write_json(o, t)
  if o.report then t.import = report_json(o.report) end
  io.stdout:write(json.encode(t), "\n")
end

local function dump_json(f)
  local text = {}
  for line in f:disasm():gmatch("[^\n]+") do
    text[#text + 1] = line:gsub("^%s*%d+: ", ""):gsub("%s+$", ""):gsub("  +", " ")
  end
  local insns = json.array()
  for pc = 0, #f.bpf // 8 - 1 do
    local code, jt, jf, k = ("=I2BBI4"):unpack(f.bpf, pc * 8 + 1)
    insns[pc + 1] = { pc = pc, code = code, jt = jt, jf = jf, k = k, text = text[pc + 1] }
  end
  return { arches = json.array(f.arches), instructions = insns }
end

local function summary_json(f)
  local s = f.summary
  local per_arch = json.array()
  for i, a in ipairs(s.arches) do
    local actions = {}
    for k, names in pairs(a.actions) do actions[k] = json.array(names) end
    local not_eligible = json.array()
    for j, n in ipairs(a.cache.not_eligible) do not_eligible[j] = { syscall = n.syscall, reason = n.reason } end
    per_arch[i] = { arch = a.arch, actions = actions, depends_on_arguments = json.array(a.conditional),
                    cache = { kernel_caches_arch = a.cache.kernel_caches_arch,
                              eligible = a.cache.eligible, not_eligible = not_eligible } }
  end
  return { arches = json.array(f.arches), instructions = s.insns, per_arch = per_arch }
end

-- ---- the commands -----------------------------------------------------------------------

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
  local results, per_filter = {}, json.array()
  for n, f in ipairs(filters) do
    local e, err = f:explain(syscall, args, o.arch)
    if not e then return nil, tostring(err) end
    local value = action.value(e.action)
    results[n] = { value = value, action = e.action }
    if o.json then
      per_filter[n] = { arch = e.arch, nr = e.nr, syscall = e.syscall, action = tostring(e.action),
                        value = value, rule = e.rule, reason = e.reason, executed = e.executed,
                        path = json.array(e.path) }
    else
      if #filters > 1 then io.stdout:write(("# filter %d of %d: %s\n"):format(n, #filters, tostring(f))) end
      io.stdout:write(inspect.format_explain(e))
    end
  end
  local n = combined(results)
  if o.json then
    local hex_args = json.array()
    for k = 1, 6 do hex_args[k] = hex(args[k] or 0) end
    write_json(o, { args = hex_args, filters = per_filter, action = tostring(results[n].action),
                    value = results[n].value, decided_by = n })
    return true
  end
  if #filters > 1 then
    io.stdout:write(("# the kernel's answer: %s (from filter %d)\n"):format(tostring(results[n].action), n))
  end
  if o.report then io.stdout:write("\n", require("sx.oci").format_report(o.report, o.oci)) end
  return true
end

-- ---- programs for other runtimes: bpf and export --------------------------------------

local RUNS = { [0x7fff0000] = true, [0x7ffc0000] = true }     -- allow, log

-- The filter as bpf and export write it: with execve allowed (--allow-exec), or as it
-- is, with the action it gives execve when that stops the program from starting.
local function for_runtimes(o, f)
  if o.allow_exec then
    local g, err = seccomp.exec_allowed(f)
    if not g then return nil, "--allow-exec: " .. tostring(err) end
    return g
  end
  local act = f:eval("execve", nil, f.arches[1])
  if RUNS[action.value(act) & 0xffff0000] then return f end
  return f, act
end

-- Said after the program is written: runtimes install the filter before they execute the
-- workload, so one that forbids execve kills every workload at its start.
local function warn_exec(act)
  say("warning: this filter forbids execve (%s): runc, crun and bwrap --seccomp install it " ..
      "before they execute the workload, which then dies at its start.", tostring(act))
  say("warning: add --allow-exec to allow execve and execveat in the program (later execs " ..
      "are then allowed too), or run the workload with sxlua itself, which lets only the " ..
      "program's own execve through (exec-once).")
end

-- Calls the policy stops that a door still makes (sx.doors): socketcall and ipc on i386,
-- ppc64le and s390x, io_uring, siblings. summary and bpf look for every kind; export
-- leaves socketcall and ipc to runc's libseccomp, which copies socket's rules there.
local function warn_doors(o, filters, opts)
  local doors = require "sx.doors"
  for _, g in ipairs(doors.gaps(filters, opts)) do
    say("%s: %s", g.where or o.policy or o.oci or o.bpf, doors.warning(g))
  end
end

local function write_bpf(o, filters)
  if #filters > 1 then return nil, "the policy has several filters; bpf writes one program" end
  local f, forbidden = for_runtimes(o, filters[1])
  if not f then return nil, forbidden end
  local out, err = io.stdout, nil
  if o.out then
    out, err = io.open(o.out, "wb")
    if not out then return nil, err end
  end
  out:write(f.bpf)
  if o.out then out:close() end
  if forbidden then warn_exec(forbidden) end
  warn_doors(o, filters)
  return true
end

local function export(o, filters)
  if #filters > 1 then return nil, "the policy has several filters; a profile holds one" end
  local f, forbidden = for_runtimes(o, filters[1])
  if not f then return nil, forbidden end
  local text, err
  if o.format == "spo" then
    text, err = require("sx.spo").export(f, { name = o.name })
  else
    text, err = require("sx.oci").export(f)
  end
  if not text then return nil, tostring(err) end
  io.stdout:write(text, text:sub(-1) == "\n" and "" or "\n")
  if forbidden then warn_exec(forbidden) end
  warn_doors(o, filters, { multiplexers = false })
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

-- run: a Lua script with the sx modules (sxlua's own Lua, the modules built in), its
-- arguments as `...` and arg[1..]. An error prints as lua prints it, and exits 1.
local function run_script(args, i)
  local script = args[i]
  if not script then say("run needs a script: sxlua run script.lua [args...]") return EXIT_SCRIPT end
  local chunk, err = loadfile(script, "t")
  if not chunk then say("%s", err) return EXIT_SCRIPT end
  local argt = { [0] = script }
  for j = i + 1, #args do argt[#argt + 1] = args[j] end
  _G.arg = argt
  local ok, e = xpcall(chunk, function(x) return traceback(tostring(x), 2) end, unpack(argt, 1, #argt))
  if not ok then say("%s", e) return EXIT_SCRIPT end
  return 0
end

-- dump and summary: each filter as text (then, for summary, the import report of an
-- --oci source), or one JSON object with a list of them.
local function per_filter(as_text, as_json, with_report)
  return function(o, filters)
    if o.json then
      local list = json.array()
      for n, f in ipairs(filters) do list[n] = as_json(f) end
      write_json(o, { filters = list })
    else
      each(filters, function(f) io.stdout:write(as_text(f)) end)
      if with_report and o.report then
        io.stdout:write("\n", require("sx.oci").format_report(o.report, o.oci))
      end
      if with_report then warn_doors(o, filters) end
    end
    return true
  end
end

local ACTIONS = {
  dump = per_filter(function(f) return f:disasm() end, dump_json),
  summary = per_filter(function(f) return inspect.format_summary(f.summary) end, summary_json, true),
  export = export,
  explain = explain,
  bpf = write_bpf,
}

-- run(command, args, i, load_policy) -> exit status. args[i..] follow the command;
-- load_policy(path, policy_args) -> filters | nil, message (sx.runner provides it).
function M.run(command, args, i, load_policy)
  if command == "run" then return run_script(args, i) end
  local ok, err
  if command == "groups" then
    ok, err = groups(args, i)
  else
    local o, perr = parse(command, args, i)
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

-- bench/spawn.lua: the rows of issue 16, what starting a program under a filter costs, for
-- bench/bench.lua.
--
--   local spawn = require "spawn"
--   local result = spawn.run(ctx)     -- ctx: BUILD, OUT, PROFILE, RUNS, LUA_ENV and the
--                                     -- driver's sh, write, log, callgrind
--   result.rows, result.targets, result.text (markdown), result.readme (one sentence)
--
-- Process-level rows run two commands as alternating pairs (bench/spawn_bench.c): CPU is
-- user + system of every process each command started; each ratio is the median of the
-- pairs' ratios. The warm rows run in one fresh lua5.4 (bench/spawn_warm.lua). Where the
-- kernel is not involved (start-up, building a filter, importing a profile) callgrind
-- counts instructions too. Nothing is asserted: each goal is reported as met or missed.
local seccomp = require "sx.seccomp"
local oci = require "sx.oci"
local lsc = require "support.lsc"
local inputs = require "inputs"
local driver = require "driver"

local fmt, concat, ipairs, pairs, next = string.format, table.concat, ipairs, pairs, next

local M = {}

local words       -- the driver's: a string's words, as a list (set by run)

local ARCH = "x86_64"
local PROGRAM = "/bin/true"

-- What /bin/true needs (glibc's start-up and exit), wait4 for bwrap's init (it installs
-- the filter too), and futex: the small allow list.
local SMALL = { "read", "write", "close", "mmap", "mprotect", "munmap", "brk", "pread64",
                "access", "execve", "arch_prctl", "set_tid_address", "openat", "newfstatat",
                "set_robust_list", "prlimit64", "rseq", "exit_group", "getrandom",
                "rt_sigprocmask", "wait4", "futex" }

local function without(list, name)
  local out = {}
  for _, n in ipairs(list) do if n ~= name then out[#out + 1] = n end end
  return out
end

-- A policy file that allows `names` (everything else kills), and its rule file.
local function allow_policy(ctx, name, names)
  local path = fmt("%s/%s.lua", ctx.OUT, name)
  ctx.write(path, concat({
    "-- " .. name .. ": an allow list for the spawn benchmark (written by bench/spawn.lua)",
    'local seccomp = require "sx.seccomp"',
    "local rules = {}",
    'for i, name in ipairs { "' .. concat(names, '", "') .. '" } do rules[i] = { "allow", name } end',
    'local f = assert(seccomp.from_rules(rules, "kill_process", { arch = "x86_64" }))',
    "return f", "" }, "\n"))
  local rules = {}
  for i, n in ipairs(names) do rules[i] = { "allow", n } end
  local rulefile = fmt("%s/%s.rules", ctx.OUT, name)
  ctx.write(rulefile, lsc.rulefile(rules, "kill_process", { arch = ARCH }))
  return { name = name, policy = path, rules = rulefile, count = #names }
end

local function deny_policy(ctx)
  local input = inputs.deny_list()
  local names = {}
  for i, r in ipairs(input.rules) do names[i] = r.syscall end
  local path = ctx.OUT .. "/deny40.lua"
  ctx.write(path, concat({
    "-- deny40: 40 syscalls denied with EPERM, the rest allowed (written by bench/spawn.lua)",
    'local seccomp = require "sx.seccomp"',
    'local f = assert(seccomp.deny_list({ "' .. concat(names, '", "') .. '" }, { arch = "x86_64" }))',
    "return f", "" }, "\n"))
  local rulefile = ctx.OUT .. "/deny40.rules"
  ctx.write(rulefile, lsc.rulefile(input.rules, input.default, input.opts))
  return { name = "deny40", policy = path, rules = rulefile, count = #names }
end

-- Docker's profile for x86_64, i386 and x32: sxlua imports the JSON itself (sx.oci), the
-- C launcher gets the same rules less those for syscalls libseccomp 2.5.4 does not know.
local DOCKER_ARCHES = { "x86_64", "i386", "x32" }
local function docker_policy(ctx)
  local path = ctx.OUT .. "/docker3.lua"
  ctx.write(path, concat({
    "-- Docker's default profile for x86_64, i386 and x32, through sx.oci (bench/spawn.lua)",
    'local oci = require "sx.oci"',
    fmt("local f = assert(io.open(%q, \"rb\"))", ctx.PROFILE),
    'local profile = f:read("a")',
    "f:close()",
    'local filter = assert(oci.import(profile, { arches = { "x86_64", "i386", "x32" } }))',
    "return filter", "" }, "\n"))
  local f = assert(io.open(ctx.PROFILE, "rb"))
  local all, default, opts = assert(oci.to_rules(f:read("a"), { arches = DOCKER_ARCHES }))
  f:close()
  -- libseccomp resolves a name per arch; it needs to know it on one of them at least
  local names = {}
  for _, r in ipairs(all) do names[#names + 1] = r.syscall end
  local theirs, rules = lsc.numbers(names, DOCKER_ARCHES), {}
  for _, r in ipairs(all) do
    if next(theirs[r.syscall] or {}) ~= nil then rules[#rules + 1] = r end
  end
  local rulefile = ctx.OUT .. "/docker3.rules"
  ctx.write(rulefile, lsc.rulefile(rules, default, opts))
  return { name = "docker3", policy = path, rules = rulefile, count = #rules,
           left_out = #all - #rules }
end

-- How many syscall entries and names the profile has.
local function profile_size(path)
  local f = assert(io.open(path, "rb"))
  local t = require("cjson").decode(f:read("a"))
  f:close()
  local names = 0
  for _, e in ipairs(t.syscalls) do names = names + #(e.names or { e.name }) end
  return { entries = #t.syscalls, names = names }
end

-- Two commands as alternating pairs: { a = {wall, cpu, faults}, b = ..., ratio, wall_ratio,
-- failed }.
local function pairs_of(ctx, label, a, b)
  local r = driver.rounds(ctx, "spawn: " .. label, ctx.RUNS, false, { a, b })
  local ratio = r.ratio(1, 2)
  return { label = label, a = r.cmds[1], b = r.cmds[2], ratio = ratio.cpu,
           wall_ratio = ratio.wall, failed = r.failed }
end

-- The lengths of the filters a run of `cmd` installs, in order (strace -f).
local function installed_lengths(ctx, cmd)
  local out = ctx.OUT .. "/strace-seccomp.txt"
  ctx.sh(fmt("strace -f -e trace=seccomp -o %s %s > /dev/null 2>&1 || true", out, cmd))
  local lens = {}
  for line in io.lines(out) do
    local len = line:match("SECCOMP_SET_MODE_FILTER, [^{]*{len=(%d+)")
    if len then lens[#lens + 1] = tonumber(len) end
  end
  return lens
end

local function callgrind_cmd(ctx, cmd)
  return ctx.callgrind(cmd)
end

-- Syscalls of one run of `cmd`, all its processes, by strace -c -f: total and the top few.
local function syscalls(ctx, cmd)
  local out = ctx.OUT .. "/strace.txt"
  ctx.sh(fmt("strace -f -c -o %s %s > /dev/null 2>&1 || true", out, cmd))
  local total, top = 0, {}
  for line in io.lines(out) do
    local calls, name = line:match("^%s*[%d.]+%s+[%d.]+%s+%d+%s+(%d+)%s+%d*%s*([%w_]+)$")
    if calls and name ~= "total" then
      total = total + tonumber(calls)
      top[#top + 1] = { name, tonumber(calls) }
    end
  end
  table.sort(top, function(x, y) return x[2] > y[2] end)
  local parts = {}
  for i = 1, math.min(6, #top) do parts[i] = fmt("%s %d", top[i][1], top[i][2]) end
  return total, concat(parts, ", ")
end

function M.run(ctx)
  words = ctx.words
  local sxlua = ctx.BUILD .. "/sxlua"
  local launch = ctx.BUILD .. "/bench/lsc_launch"
  local small = allow_policy(ctx, "small_futex", SMALL)
  local nofutex = allow_policy(ctx, "small_nofutex", without(SMALL, "futex"))
  local noexec = allow_policy(ctx, "small_noexec", without(SMALL, "execve"))
  local deny = deny_policy(ctx)
  local docker = docker_policy(ctx)
  local bpf = ctx.OUT .. "/small_futex.bpf"
  ctx.sh(fmt("%s bpf -o %s %s", sxlua, bpf, small.policy))

  local rows, targets = {}, {}
  local function row(r, goal, goal_text)
    r.goal, r.goal_text = goal, goal_text
    if goal then r.met = r.ratio <= goal end
    rows[#rows + 1] = r
    return r
  end

  -- 1. sxlua against a C libseccomp launcher, the same filter
  local launchers = {}
  for _, p in ipairs({ small, nofutex, deny, docker }) do
    local r = pairs_of(ctx, "sxlua " .. p.name .. " vs C launcher",
                       fmt("-- %s %s -- %s", sxlua, p.policy, PROGRAM),
                       fmt("-- %s %s -- %s", launch, p.rules, PROGRAM))
    r.what = fmt("`sxlua %s.lua -- /bin/true` / C libseccomp launcher, same filter", p.name)
    launchers[p.name] = row(r, 1.10, "<= 1.10x")
  end

  -- 2. and 3. sx.process in a warm lua5.4; exec-once against the plain path
  ctx.log("spawn: warm sx.process and C loops")
  local warm = {}
  local out = ctx.sh(fmt("%s lua5.4 bench/spawn_warm.lua %s %s %d 10 %s", ctx.LUA_ENV,
                         small.policy, noexec.policy, ctx.WARM_ROUNDS, PROGRAM))
  for line in out:gmatch("[^\n]+") do
    local w = words(line)
    warm[w[1]] = { cpu = tonumber(w[2]), c_fork = tonumber(w[3]), c_vfork = tonumber(w[4]),
                   sx = tonumber(w[5]) }
  end
  local function warm_row(what, a, b, ratio, goal, goal_text)
    return row({ label = what, what = what, a = { cpu = warm[a].cpu }, b = { cpu = warm[b].cpu },
                 ratio = ratio, warm = true }, goal, goal_text)
  end
  local key = { launchers = launchers, warm = warm }
  key.warm_fork = warm_row("sx.process warm (spawn, install, proceed, wait) / C fork+seccomp+exec loop",
           "sx", "c_fork", warm.sx.c_fork, 1.0, "<= 1.0x")
  key.warm_vfork = warm_row("sx.process warm / C vfork+exec loop (no filter)", "sx", "c_vfork",
           warm.sx.c_vfork, nil, "stretch: approach 1.0x")
  key.warm_no_ns = warm_row("sx.process warm, pid_namespace = false / C fork+seccomp+exec loop", "sx_no_ns",
           "c_fork", warm.sx_no_ns.c_fork, nil, "(not sxlua's default)")
  warm_row("exec-once (a filter forbidding execve) / the plain path, sx.process warm",
           "sx_once", "sx", warm.sx_once.sx, 1.2, "<= 1.2x")
  local r = pairs_of(ctx, "exec-once vs plain, sxlua",
                     fmt("-- %s %s -- %s", sxlua, noexec.policy, PROGRAM),
                     fmt("-- %s %s -- %s", sxlua, small.policy, PROGRAM))
  r.what = "exec-once / plain path, `sxlua` (process level)"
  row(r, 1.2, "<= 1.2x")

  -- 4. sxlua's default path (a PID namespace) against bwrap --unshare-pid, the same BPF
  local bwrap = fmt("--fd 9=%s -- bwrap --dev-bind / / --unshare-pid --seccomp 9 %s", bpf,
                    PROGRAM)
  r = pairs_of(ctx, "sxlua vs bwrap --unshare-pid",
               fmt("-- %s %s -- %s", sxlua, small.policy, PROGRAM), bwrap)
  r.what = "`sxlua small_futex.lua -- /bin/true` (PID namespace) / `bwrap --unshare-pid " ..
           "--seccomp` (same BPF)"
  key.bwrap = row(r, 1.0, "<= 1.0x")
  r = pairs_of(ctx, "sxlua --no-pid-namespace vs bwrap --unshare-pid",
               fmt("-- %s --no-pid-namespace %s -- %s", sxlua, small.policy, PROGRAM), bwrap)
  r.what = "`sxlua --no-pid-namespace` / `bwrap --unshare-pid --seccomp`"
  row(r, nil, "(reported)")

  -- 5. start-up
  local lua_ir = callgrind_cmd(ctx, "lua5.4 -e ''")
  for _, opt in ipairs({ "--version", "--help" }) do
    r = pairs_of(ctx, "sxlua " .. opt, fmt("-- %s %s", sxlua, opt), "-- lua5.4 -e ''")
    r.what = fmt("`sxlua %s` / `lua5.4 -e ''`", opt)
    r.ir, r.peer_ir = callgrind_cmd(ctx, sxlua .. " " .. opt), lua_ir
    row(r, 1.3, "<= 1.3x")
  end

  -- 6. oci.import of Docker's profile against the compile of the same rules
  ctx.log("spawn: oci.import against the compile")
  local w = words(ctx.sh(fmt("%s lua5.4 bench/oci_import.lua pair %s", ctx.LUA_ENV,
                             ctx.PROFILE)))
  local function oci_ir(what)
    local function run(n)
      return ctx.callgrind(fmt("lua5.4 bench/oci_import.lua once %s %s %d", ctx.PROFILE, what,
                               n), nil, ctx.LUA_ENV)
    end
    return (run(20) - run(0)) / 20
  end
  local import_ir, compile_ir, decode_ir = oci_ir("import"), oci_ir("compile"), oci_ir("decode")
  r = { label = "oci.import", what = fmt("`oci.import` of Docker's profile (3 arches, %s " ..
        "rules) / `from_rules` of the same rules, a table a rule as `oci.to_rules` gives " ..
        "them (import hands it an entry's names as one rule: %s µs)", w[4], w[5]),
        a = { cpu = tonumber(w[1]) },
        b = { cpu = tonumber(w[2]) }, ratio = tonumber(w[3]), ir = import_ir,
        peer_ir = compile_ir, decode_ir = decode_ir, in_process = true }
  key.oci = row(r, 5, "<= 5x")

  -- where the time goes: instructions to build each policy's filter (sxlua --check), the
  -- C launcher's, syscalls and page faults of one spawn
  local check_ir = {}
  for _, p in ipairs({ small, nofutex, deny, docker }) do
    check_ir[p.name] = ctx.callgrind(fmt("%s --check %s", sxlua, p.policy))
  end
  -- sxlua's CPU in parts: start-up (--version), the policy (--check), the spawn; the C
  -- launcher's; the program alone; and the run less what sxlua's default adds that the
  -- launcher has no part of (its PID namespace, its supervisor, both). All eight in the
  -- same rounds, so that the VM's state (it drifts, at times to half its speed for
  -- minutes) is the same for every part.
  local function run_with(opts) return fmt("%s %s%s -- %s", sxlua, opts, small.policy, PROGRAM) end
  local pr = driver.rounds(ctx, "spawn: parts (--version, --check, run, launcher, program, " ..
                           "run without a namespace, a supervisor, both)", ctx.RUNS, false, {
    fmt("%s --version", sxlua), fmt("%s --check %s", sxlua, small.policy), run_with(""),
    fmt("%s %s -- %s", launch, small.rules, PROGRAM), PROGRAM,
    run_with("--no-pid-namespace "), run_with("--no-supervise "),
    run_with("--no-supervise --no-pid-namespace ") })
  local version, check, run, launcher, program = pr.cmds[1], pr.cmds[2], pr.cmds[3], pr.cmds[4], pr.cmds[5]
  local parts = { check = { a = check, b = run }, start = { a = version, b = program },
                  launcher = { a = launcher, b = program },
                  -- the run against itself less the namespace, less the supervisor; the
                  -- run less both against the launcher
                  no_ns = { a = run, b = pr.cmds[6], ratio = pr.ratio(3, 6).cpu },
                  no_supervise = { a = run, b = pr.cmds[7], ratio = pr.ratio(3, 7).cpu },
                  bare = { a = pr.cmds[8], b = launcher, ratio = 1 / pr.ratio(4, 8).cpu } }

  -- syscalls per spawn from a warm lua5.4: 40 spawns a way, less none
  local per_spawn = {}
  for _, way in ipairs({ "sx", "sx_no_ns", "c_fork" }) do
    local function count(n)
      return (syscalls(ctx, fmt("env %s lua5.4 bench/spawn_warm.lua %s %s 1 %d %s %s",
                                ctx.LUA_ENV, small.policy, noexec.policy, n, PROGRAM, way)))
    end
    per_spawn[way] = (count(40) - count(0)) / 40
  end

  -- a page of fresh memory, faulted in one at a time or populated at once (sxlua
  -- populates its heap: src/sxlua.c)
  local pc = words(ctx.sh(fmt("%s/bench/page_cost 64 31", ctx.BUILD)))
  local page = { fault = tonumber(pc[1]), populate = tonumber(pc[2]) }

  -- the filters a supervised run installs (the terminal guard, then the policy's as
  -- supervised) against the policy's own program
  local lens = installed_lengths(ctx, run_with(""))
  local f = assert(io.open(bpf, "rb"))
  local installed = { supervised = lens[#lens], policy = #f:read("a") // 8 }
  f:close()

  local sc = {}
  for key, cmd in pairs({
    sxlua = fmt("%s %s -- %s", sxlua, small.policy, PROGRAM),
    sxlua_no_ns = fmt("%s --no-pid-namespace %s -- %s", sxlua, small.policy, PROGRAM),
    sxlua_check = fmt("%s --check %s", sxlua, small.policy),
    launcher = fmt("%s %s -- %s", launch, small.rules, PROGRAM),
    program = PROGRAM,
    bwrap = fmt("bwrap --dev-bind / / --unshare-pid --seccomp 9 %s 9<%s", PROGRAM, bpf),
  }) do
    local total, top = syscalls(ctx, cmd)
    sc[key] = { total = total, top = top }
  end

  return M.report(rows, {
    small = small, docker = docker, check_ir = check_ir, sc = sc,
    parts = parts, per_spawn = per_spawn, key = key, profile = profile_size(ctx.PROFILE),
    page = page, installed = installed,
    launchers = launchers, lua_ir = lua_ir, runs = ctx.RUNS, rounds = ctx.WARM_ROUNDS,
  })
end

local function mil(ir) return ir >= 1e6 and fmt("%.2fM", ir / 1e6) or fmt("%.0fk", ir / 1e3) end

-- Why the goals that are missed are missed, from this run's numbers.
function M.why(p, d, rows)
  local k, pt, ps = d.key, d.parts, d.per_spawn
  local small = k.launchers.small_futex
  local start, check, run, program = pt.start.a.cpu, pt.check.a.cpu, pt.check.b.cpu, pt.start.b.cpu
  local launcher = pt.launcher.a.cpu
  local lists = { small, k.launchers.small_nofutex, k.launchers.deny40 }
  local lo, hi = math.huge, -math.huge
  for _, r in ipairs(lists) do lo, hi = math.min(lo, r.ratio), math.max(hi, r.ratio) end
  local missed = false
  for _, r in ipairs(rows) do missed = missed or (r.goal ~= nil and not r.met) end
  if not missed then
    p("Every goal of this section is met in this run.")
    p("")
    return
  end
  p("#### The goals missed, and why")
  p("")
  -- (a paragraph for each goal this run missed)
  if not (small.met and lists[2].met and lists[3].met) then
    p("- **sxlua against the C launcher, small lists and the deny list (%s, goal " ..
      "1.10x).** Beyond the program (%.0f µs of /bin/true), sxlua spends %.0f µs on start-up " ..
      "(exec, Lua's state and libraries, the runner), %.0f on the policy (sx.seccomp " ..
      "and the modules it needs, loaded from bytecode, and the compile: `sxlua --check` is %s " ..
      "instructions against %s for `lua5.4 -e ''`) and %.0f on the spawn; the C launcher " ..
      "spends %.0f on all of it (its start-up, libseccomp's build, fork, load, wait), %s " ..
      "than sxlua's start-up and policy alone. With a policy that cost nothing sxlua would " ..
      "be at %.2fx. Two parts of the spawn are what sxlua's default adds that the launcher " ..
      "has no part of (the same rounds): the PID namespace and its reaper (the run is " ..
      "%.3fx the run with `--no-pid-namespace`) and the supervisor (%.3fx the run with " ..
      "`--no-supervise`: the listener handed over, and the policy's filter installed as " ..
      "%s instructions where the policy is %s, the gate in front and the guard's tail " ..
      "behind, src/gate.h); with neither, sxlua is at %.2fx the launcher. The " ..
      "spawn makes more syscalls too: sx.process %.0f a spawn (%.0f without a PID namespace) " ..
      "where a C fork+seccomp+exec makes %.0f (with the program's own), and it hands the " ..
      "spawn back and forth (parked, proceed, exec'd, ended) where fork+exec hands it over " ..
      "once. Docker's profile is the other way round (%.2fx): libseccomp takes most of the " ..
      "launcher's %.0f µs to build the 3-arch filter.",
      lo == hi and fmt("%.2fx", lo) or fmt("%.2fx to %.2fx", lo, hi),
      program, start, check - start, mil(d.check_ir.small_futex), mil(d.lua_ir),
      run - check - program, launcher - program,
      launcher - program < check and "less" or "more", (run - (check - start)) / launcher,
      pt.no_ns.ratio, pt.no_supervise.ratio, d.installed.supervised, d.installed.policy,
      pt.bare.ratio, ps.sx, ps.sx_no_ns, ps.c_fork, k.launchers.docker3.ratio,
      k.launchers.docker3.b.cpu)
  end
  if not k.warm_fork.met then
    p("- **sx.process warm against the C fork+seccomp+exec loop (%.2fx, goal 1.0x).** Without " ..
      "a PID namespace it is %.2fx: the namespace and its reaper (sxlua's default) cost the " ..
      "difference, %.0f µs a spawn: a second clone, and the reaper's turn between the " ..
      "workload's end and the parent's wake-up. On this VM a hand-over to a task on another " ..
      "CPU costs an interrupt, which is why the children now move to the caller's CPU until " ..
      "the workload proceeds. The " ..
      "CLONE_VM agent copies no page tables, which is how it stays near fork despite its %.0f " ..
      "syscalls a spawn against %.0f; vfork+exec (no filter, no namespace) is %.0f µs " ..
      "(%.2fx).", k.warm_fork.ratio, k.warm_no_ns.ratio,
      k.warm_fork.a.cpu - k.warm_no_ns.a.cpu, ps.sx, ps.c_fork, k.warm_vfork.b.cpu,
      k.warm_vfork.ratio)
  end
  if not k.bwrap.met then
    p("- **sxlua against bwrap --unshare-pid (%.2fx, goal 1.0x).** bwrap's whole run, PID " ..
      "namespace, mounts and /bin/true included, is %.0f µs of CPU in the pairs, %.0f less " ..
      "than sxlua's; sxlua's start-up alone (exec, Lua's state, the runner: `sxlua " ..
      "--version`, the parts above) is %.0f, and its policy %.0f more. A host that starts " ..
      "Lua and loads and compiles its policy at every run pays that where bwrap, a C " ..
      "program, reads a finished BPF program from a descriptor; the agent's part is the " ..
      "spawn above.", k.bwrap.ratio, k.bwrap.b.cpu, k.bwrap.a.cpu - k.bwrap.b.cpu, start,
      check - start)
  end
  if not k.oci.met then
    p("- **oci.import against the compile of the same rules (%.2fx in time, %.2fx in " ..
      "instructions; goal 5x).** Of the %s instructions of an import, lua-cjson's decode " ..
      "alone is %s (%.2fx the compile) and the compile %s; the rest (%s) reads and checks " ..
      "%d entries and %d names, writes the report (what was excluded, skipped on which arch, " ..
      "dropped, overlaps) and makes the %d rule tables that from_rules then reads. In this Lua every table is a few " ..
      "allocations and every call of a builtin (type, next, pairs) a few hundred " ..
      "instructions, so the check of a profile costs more than compiling it in C.",
      k.oci.ratio, k.oci.ir / k.oci.peer_ir, mil(k.oci.ir), mil(k.oci.decode_ir),
      k.oci.decode_ir / k.oci.peer_ir, mil(k.oci.peer_ir),
      mil(k.oci.ir - k.oci.decode_ir - k.oci.peer_ir), d.profile.entries, d.profile.names,
      d.docker.count + d.docker.left_out)
  end
  p("")
end


function M.report(rows, d)
  local out, targets = {}, {}
  local function p(...) out[#out + 1] = fmt(...) end
  p("### 4. Spawn cost and start-up (issue 16)")
  p("")
  p("Process-level rows: %d alternating pairs of the two commands (`bench/spawn_bench " ..
    "RUNS -- A --vs -- B`), CPU = user + system of every process the command started, " ..
    "those it waited for and those it left behind (spawn_bench is a child subreaper: " ..
    "`bwrap --unshare-pid` exits without waiting for its PID 1, which makes the mounts, " ..
    "runs the program and reaps it), medians in µs; the ratio is the median of the " ..
    "pairs' CPU ratios. Warm rows: one " ..
    "lua5.4 spawning `/bin/true` %d rounds of 10 per way, each way's batches alternating " ..
    "with the others' (`bench/spawn_warm.lua`; the C loops are `bench/spawn_peer.c` in " ..
    "the same process), CPU of the process and its reaped children per spawn. The " ..
    "small allow list has %d syscalls (what /bin/true needs, wait4, futex), kill_process " ..
    "otherwise.", d.runs, d.rounds, d.small.count)
  p("")
  p("| row | A (µs CPU) | B (µs CPU) | ratio A/B | goal | | A faults | B faults | Ir A | Ir B |")
  p("|---|---:|---:|---:|---|---|---:|---:|---:|---:|")
  for _, r in ipairs(rows) do
    local status = r.goal and (r.met and "met" or "**missed**") or ""
    p("| %s | %.0f | %.0f | %.2fx | %s | %s | %s | %s | %s | %s |", r.what, r.a.cpu, r.b.cpu,
      r.ratio, r.goal_text or "", status, r.a.faults and fmt("%.0f", r.a.faults) or "",
      r.b.faults and fmt("%.0f", r.b.faults) or "", r.ir and mil(r.ir) or "",
      r.peer_ir and mil(r.peer_ir) or "")
    if r.goal then
      targets[#targets + 1] = fmt("- %s %s: %.2fx (goal %s)", r.met and "MET" or "MISSED",
                                  r.what, r.ratio, r.goal_text)
    end
  end
  p("")
  p("The C launcher (`bench/lsc_launch.c`) builds the filter with libseccomp, forks; the " ..
    "child loads it and execs, the parent waits (fork, filter, exec, wait). Docker's row: " ..
    "sxlua imports the JSON itself (sx.oci, %d rules for the 3 arches); the C launcher gets " ..
    "the %d of them whose syscalls libseccomp 2.5.4 knows on one arch at least (%d left " ..
    "out).", d.docker.count + d.docker.left_out, d.docker.count, d.docker.left_out)
  p("")
  p("Instructions of `sxlua --check` (callgrind: start-up, the policy's modules, building " ..
    "the filter; no spawn): %s; `lua5.4 -e ''` %s. (libseccomp's compiles are in section " ..
    "1: its filter is made in the launcher's child, where callgrind does not follow.)",
    concat({ fmt("small_futex %s", mil(d.check_ir.small_futex)),
             fmt("small_nofutex %s", mil(d.check_ir.small_nofutex)),
             fmt("deny40 %s", mil(d.check_ir.deny40)),
             fmt("docker3 %s", mil(d.check_ir.docker3)) }, ", "), mil(d.lua_ir))
  p("")
  p("Syscalls of one run, every process of it (`strace -f -c`; the top ones):")
  p("")
  p("| command | syscalls | most made |")
  p("|---|---:|---|")
  for _, k in ipairs({ "program", "launcher", "sxlua_check", "sxlua", "sxlua_no_ns", "bwrap" }) do
    local names = {
      program = "/bin/true alone", launcher = "C launcher, small_futex",
      sxlua_check = "`sxlua --check small_futex.lua` (no spawn)",
      sxlua = "`sxlua small_futex.lua -- /bin/true`",
      sxlua_no_ns = "`sxlua --no-pid-namespace small_futex.lua -- /bin/true`",
      bwrap = "`bwrap --unshare-pid --seccomp`",
    }
    p("| %s | %d | %s |", names[k], d.sc[k].total, d.sc[k].top)
  end
  p("")
  local pt = d.parts
  p("Where sxlua's CPU goes, small_futex around /bin/true (medians of commands run " ..
    "in the same rounds): " ..
    "start-up %.0f µs (`sxlua --version`), the policy %.0f (`sxlua --check`: its modules " ..
    "and the compile, %.0f in all), the spawn %.0f (the run, %.0f in all, less `--check`), " ..
    "of which the program itself takes %.0f (/bin/true alone). The C launcher: %.0f in all, " ..
    "%.0f beyond the program (its start-up, libseccomp's build, fork, load, wait).",
    pt.start.a.cpu, pt.check.a.cpu - pt.start.a.cpu, pt.check.a.cpu,
    pt.check.b.cpu - pt.check.a.cpu, pt.check.b.cpu, pt.start.b.cpu, pt.launcher.a.cpu,
    pt.launcher.a.cpu - pt.launcher.b.cpu)
  p("")
  p("Syscalls per spawn from a warm lua5.4 (strace -f -c of 40 spawns less none): " ..
    "sx.process %.0f, sx.process without a PID namespace %.0f, C fork+seccomp+exec %.0f " ..
    "(each with /bin/true's own).", d.per_spawn.sx, d.per_spawn.sx_no_ns, d.per_spawn.c_fork)
  p("")
  p("A page of fresh memory on this machine (`bench/page_cost 64 31`, CPU a page, medians): " ..
    "%.2f µs touched one at a time (a fault each), %s populated in one " ..
    "`MADV_POPULATE_WRITE`. Every process pays the faults of its loader, libraries, heap and " ..
    "stack (the faults columns above); sxlua populates the first 256 KB of its heap in one " ..
    "call (src/sxlua.c), where a small run's Lua state, modules and policy land, and the " ..
    "64 KB of stack under the runner once a policy is to run. (The " ..
    "faults columns are rusage's, which counts a populated page as a fault too: sxlua's " ..
    "count those it populates.)",
    d.page.fault, d.page.populate and fmt("%.2f µs", d.page.populate)
      or "not measured (refused: a kernel before 5.14) when")
  p("")
  M.why(p, d, rows)
  local readme = {}
  for _, r in ipairs(rows) do readme[r.label] = r end
  return { rows = rows, targets = targets, text = concat(out, "\n"), by_label = readme, data = d }
end

return M

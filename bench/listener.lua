-- bench/listener.lua: the rows of issues 14 and 13, what the seccomp listener costs, for
-- bench/bench.lua.
--
--   local listener = require "listener"
--   local result = listener.run(ctx)  -- ctx: BUILD, OUT, ROUNDS and the driver's sh,
--                                     -- write, log, words
--   result.targets, result.text (markdown)
--
--   lua5.4 bench/listener.lua BUILD OUT    (bench/run --listener) these rows alone, printed;
--                                          docs/benchmarks.md comes from a full run only
--
-- Learn mode (issue 14): `sxlua learn` against `strace -f` against the workload alone.
-- Supervision (issue 13): sxlua's default (kills go through the listener) and --report
-- against --no-supervise, on a workload its policy never denies; and one notified call,
-- a getppid loop answered by a handler against the same loop with getppid allowed.
-- Each comparison runs its commands in rounds (bench/spawn_bench with three commands or
-- more; pairs with two): CPU is user + system of every process each command started (see
-- bench/spawn_bench.c); each ratio is the median of the rounds' ratios. Rows marked "one CPU"
-- run the whole round under `taskset -c 0`. Nothing is asserted.

local driver = require "driver"

local fmt, concat, ipairs = string.format, table.concat, ipairs

local M = {}

-- A pipeline of three processes (fork, exec, pipes) and one process making ~10k stat
-- calls: short, and syscall-heavy. /usr/bin/python3, not a python3 earlier on the PATH
-- (a pyenv shim is a shell script of its own).
local WORKLOADS = {
  { name = "pipeline", cmd = "sh -c 'ls / | sort | head -3'",
    text = "`sh -c 'ls / | sort | head -3'`" },
  { name = "stat_loop", cmd = [==[/usr/bin/python3 -c 'import os; [os.stat("/") for _ in range(10000)]']==],
    text = "`python3 -c` of 10,000 `os.stat(\"/\")`" },
}
local GETPPID_CALLS = 20000
local GETPPID_ANSWER = 7

-- How many syscalls one run of `cmd` makes, all its processes (strace -f -c).
local function syscall_count(ctx, cmd)
  local out = ctx.OUT .. "/listener-strace.txt"
  ctx.sh(fmt("strace -f -c -o %s %s > /dev/null 2>&1 || true", out, cmd))
  local total
  for line in io.lines(out) do
    local calls = line:match("^%s*[%d.]+%s+[%d.]+%s+%d+%s+(%d+)%s+%d*%s*total$")
    if calls then total = tonumber(calls) end
  end
  return assert(total, "no total in " .. out)
end

local function notify_policies(ctx)
  local function policy(name, text)
    local path = fmt("%s/%s.lua", ctx.OUT, name)
    ctx.write(path, text)
    return path
  end
  local head = "-- %s (written by bench/listener.lua)\nlocal seccomp = require \"sx.seccomp\"\n"
  return policy("getppid_notify", fmt(head, "getppid notified, answered by a handler") ..
                  "local f = assert(seccomp.builder():allow{ \"@system-service\" }" ..
                  ":rule(\"notify\", { \"getppid\" }):build())\n" ..
                  fmt("return { filter = f, on = { getppid = function(call) return call:ret(%d) end } }\n",
                      GETPPID_ANSWER)),
         policy("getppid_allow", fmt(head, "the same, getppid plainly allowed") ..
                  "local f = assert(seccomp.builder():allow{ \"@system-service\", \"getppid\" }:build())\n" ..
                  "return { filter = f }\n")
end

-- What the supervisor does in Lua for each notified call beyond learn's record, timed
-- in-process under `sxlua run` (os.clock over 20,000 calls): run the filter in the emulator
-- (the action), and find the deciding rule (sx.inspect.deciding_rule, for the event).
local function handler_parts(ctx, sxlua, policy)
  local script = ctx.OUT .. "/handler_parts.lua"
  ctx.write(script, concat({
    "-- the notified call's parts, timed (written by bench/listener.lua)",
    'local seccomp, score, inspect = require "sx.seccomp", require "sx.core", require "sx.inspect"',
    "local f = dofile(...).filter",
    'local nr, audit, args = seccomp.syscall_number("getppid", "x86_64"), score.audit("x86_64"), { 0, 0, 0, 0, 0, 0 }',
    "local function us(fn) local t = os.clock() for _ = 1, 20000 do fn() end return (os.clock() - t) / 0.02 end",
    'print(us(function() score.emulate(f.bpf, audit, nr, 0, 0, 0, 0, 0, 0) end),',
    '      us(function() inspect.deciding_rule(f, nr, args, "x86_64") end), #f.rules)', "" }, "\n"))
  local w = ctx.words(ctx.sh(fmt("%s run %s %s", sxlua, script, policy)))
  return { emulate = tonumber(w[1]), deciding_rule = tonumber(w[2]), rules = tonumber(w[3]) }
end

function M.run(ctx)
  local sxlua = ctx.BUILD .. "/sxlua"
  local rounds = ctx.ROUNDS or 21
  local slow = ctx.SLOW_ROUNDS or 15      -- the rows whose rounds take a second or more
  local learn, supervise = {}, {}
  for _, w in ipairs(WORKLOADS) do
    w.syscalls = syscall_count(ctx, w.cmd)
    -- issue 14: learn / strace / bare, with the machine's scheduling and on one CPU
    local cmds = { fmt("%s learn -o %s/learned.lua -- %s", sxlua, ctx.OUT, w.cmd),
                   "strace -f -qq -o /dev/null " .. w.cmd, w.cmd }
    for _, pin in ipairs({ false, true }) do
      local r = driver.rounds(ctx, "learn vs strace vs bare, " .. w.name,
                          (pin or w.name == "pipeline") and rounds or slow, pin, cmds)
      r.workload = w
      learn[#learn + 1] = r
    end
    -- issue 13: a policy learned from the workload, so that nothing is denied
    local policy = fmt("%s/learned-%s.lua", ctx.OUT, w.name)
    ctx.sh(fmt("%s learn -o %s -- %s > /dev/null 2>&1", sxlua, policy, w.cmd))
    local r = driver.rounds(ctx, "supervised vs --no-supervise vs --report, " .. w.name, rounds,
                        false, { fmt("%s %s -- %s", sxlua, policy, w.cmd),
                                 fmt("%s --report %s -- %s", sxlua, policy, w.cmd),
                                 fmt("%s --no-supervise %s -- %s", sxlua, policy, w.cmd) })
    r.workload = w
    supervise[#supervise + 1] = r
  end
  -- issue 13: one notified call, a getppid loop
  local notify, allow = notify_policies(ctx)
  local per_call = handler_parts(ctx, sxlua, notify)
  local loop = fmt("%s/bench/getppid_loop %d", ctx.BUILD, GETPPID_CALLS)
  local notified = {}
  for _, pin in ipairs({ false, true }) do
    notified[#notified + 1] = driver.rounds(ctx, "getppid notified vs allowed", pin and rounds or slow,
                                        pin, { fmt("%s %s -- %s %d", sxlua, notify, loop,
                                                   GETPPID_ANSWER),
                                               fmt("%s %s -- %s", sxlua, allow, loop) })
  end
  return M.report({ learn = learn, supervise = supervise, notified = notified,
                    per_call = per_call, nproc = ctx.sh("nproc") })
end

local function cpus(r) return r.pin and "one CPU" or "as scheduled" end
-- a table cell: GitHub's tables take `\|` for a | inside a code span
local function cell(text) return (text:gsub("|", "\\|")) end

function M.report(d)
  local out, targets = {}, {}
  local function p(...) out[#out + 1] = fmt(...) end
  p("### 6. The seccomp listener: learn mode (issue 14) and supervision (issue 13)")
  p("")
  p("Rounds of three commands (`bench/spawn_bench RUNS -- A --vs -- B --vs -- C`): each " ..
    "round runs every command once, in an order rotated and reversed from round to round; " ..
    "CPU = user + system of every process the command started, " ..
    "medians in µs; each ratio is the median of the rounds' ratios. \"one CPU\": the whole " ..
    "round under `taskset -c 0`; \"as scheduled\": the machine's %s CPUs as the kernel " ..
    "places the processes.", d.nproc or "2")
  p("")
  p("Recording a run: `sxlua learn -o x.lua -- W` / `strace -f -qq -o /dev/null W` / W " ..
    "alone. \"µs a syscall\": CPU beyond the workload alone's, per syscall it makes (strace " ..
    "-f -c of one run).")
  p("")
  p("| workload W | CPUs | rounds | learn (µs CPU) | strace (µs CPU) | W (µs CPU) | " ..
    "learn / strace | learn / W | strace / W | wall learn / strace | syscalls | " ..
    "µs a syscall, learn / strace |")
  p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
  for _, r in ipairs(d.learn) do
    local l, s, b = r.cmds[1], r.cmds[2], r.cmds[3]
    local n = r.workload.syscalls
    p("| %s | %s | %d | %.0f | %.0f | %.0f | %.2fx | %.2fx | %.2fx | %.2fx | %d | %.1f / %.1f |",
      cell(r.workload.text), cpus(r), r.rounds, l.cpu, s.cpu, b.cpu, r.ratio(1, 2).cpu,
      r.ratio(1, 3).cpu, r.ratio(2, 3).cpu, r.ratio(1, 2).wall, n, (l.cpu - b.cpu) / n,
      (s.cpu - b.cpu) / n)
  end
  p("")
  p("Supervision of a workload its policy never denies (the policy: what `sxlua learn` " ..
    "recorded from W at the start of this run): `sxlua policy.lua -- W` (kills go through " ..
    "the listener), `sxlua --report` (kills, errnos and logs do) and `sxlua --no-supervise` " ..
    "(the kernel decides all).")
  p("")
  p("| workload W | rounds | default (µs CPU) | --no-supervise (µs CPU) | --report (µs CPU) | " ..
    "default / --no-supervise | --report / --no-supervise |")
  p("|---|---:|---:|---:|---:|---:|---:|")
  for _, r in ipairs(d.supervise) do
    p("| %s | %d | %.0f | %.0f | %.0f | %.2fx | %.2fx |", cell(r.workload.text), r.rounds,
      r.cmds[1].cpu, r.cmds[3].cpu, r.cmds[2].cpu, r.ratio(1, 3).cpu, r.ratio(2, 3).cpu)
  end
  p("")
  p("A notified call: `bench/getppid_loop %d` under `sxlua`, getppid notified and answered " ..
    "by an `on.getppid` handler (`call:ret(%d)`; the loop fails unless every call returns " ..
    "it) / the same loop with getppid allowed; alternating pairs. Per call: the difference " ..
    "of the medians over %d calls.", GETPPID_CALLS, GETPPID_ANSWER, GETPPID_CALLS)
  p("")
  p("| CPUs | pairs | notified (µs CPU) | allowed (µs CPU) | notified / allowed | " ..
    "µs CPU a notified call | µs wall a notified call |")
  p("|---|---:|---:|---:|---:|---:|---:|")
  for _, r in ipairs(d.notified) do
    local a, b = r.cmds[1], r.cmds[2]
    p("| %s | %d | %.0f | %.0f | %.1fx | %.1f | %.1f |", cpus(r), r.rounds, a.cpu, b.cpu,
      r.ratio(1, 2).cpu, (a.cpu - b.cpu) / GETPPID_CALLS, (a.wall - b.wall) / GETPPID_CALLS)
  end
  p("")
  local failed = {}
  for _, list in ipairs({ d.learn, d.supervise, d.notified }) do
    for _, r in ipairs(list) do
      if r.failed > 0 then
        failed[#failed + 1] = fmt("%s%s: %d", r.label, r.pin and " (one CPU)" or "", r.failed)
      end
    end
  end
  p("Runs that exited non-zero in these rows: %s.", #failed == 0 and "none" or concat(failed, "; "))
  p("")
  M.why(p, d)

  -- the goal of issue 14, on each workload as scheduled (one CPU in brackets)
  for _, r in ipairs(d.learn) do
    if not r.pin then
      local one
      for _, q in ipairs(d.learn) do
        if q.pin and q.workload == r.workload then one = q end
      end
      local ratio = r.ratio(1, 2).cpu
      targets[#targets + 1] = fmt("- %s `sxlua learn` / `strace -f`, CPU of recording %s: " ..
                                  "%.2fx (one CPU: %.2fx) (goal < 1.0x)",
                                  ratio < 1.0 and "MET" or "MISSED", r.workload.text, ratio,
                                  one.ratio(1, 2).cpu)
    end
  end
  local sup = {}
  for _, r in ipairs(d.supervise) do
    sup[#sup + 1] = fmt("%s %.2fx (--report %.2fx)", r.workload.name, r.ratio(1, 3).cpu,
                        r.ratio(2, 3).cpu)
  end
  local per = {}
  for _, r in ipairs(d.notified) do
    per[#per + 1] = fmt("%.1f µs %s", (r.cmds[1].cpu - r.cmds[2].cpu) / GETPPID_CALLS,
                        r.pin and "on one CPU" or "as scheduled")
  end
  targets[#targets + 1] = fmt("- (for comparison) supervision of a run never denied / " ..
                              "--no-supervise: %s; CPU of a notified call: %s", concat(sup, ", "),
                              concat(per, ", "))
  return { targets = targets, text = concat(out, "\n"), data = d }
end

-- Where recording's time goes, from this run's numbers.
function M.why(p, d)
  local by = {}
  for _, r in ipairs(d.learn) do by[r.workload.name .. (r.pin and "/1" or "")] = r end
  local function per(r, i) return (r.cmds[i].cpu - r.cmds[3].cpu) / r.workload.syscalls end
  local s, s1 = by.stat_loop, by["stat_loop/1"]
  local n = d.notified
  p("Where the time goes. A syscall recorded costs `sxlua learn` a notification (the " ..
    "caller stops, the supervisor reads the notification, records it in Lua, answers " ..
    "continue) and `strace -f` two ptrace stops (entry and exit), reading the registers, " ..
    "decoding the call and writing its line. On the stat loop and one CPU that is %.1f µs a syscall " ..
    "for learn against %.1f for strace; as scheduled on %s CPUs it is %.1f against %.1f. " ..
    "Each stop hands the CPU to the other process and back: on one CPU a context switch, " ..
    "across two a wake-up of the other CPU each way, which in this run made a recorded " ..
    "syscall %.1fx its one-CPU cost for learn and %.1fx for strace; that factor changes " ..
    "from run to run with where the kernel places the two. A notified call answered by a handler (`call:ret`) " ..
    "costs %.1f µs of CPU on one CPU (%.1f as scheduled), against learn's %.1f a syscall " ..
    "of python's (a getppid loop against a stat loop: the workloads differ); where learn " ..
    "records, the supervisor runs the filter in its emulator to find the action " ..
    "(%.2f µs a call, timed in-process). The rule that decided, among the policy's %d " ..
    "(`sx.inspect.deciding_rule`, %.1f µs a call), is looked up only when a report reads " ..
    "it: a handled call that is answered prints nothing and never pays for it.",
    per(s1, 1), per(s1, 2), d.nproc or "2", per(s, 1), per(s, 2), per(s, 1) / per(s1, 1),
    per(s, 2) / per(s1, 2),
    (n[2].cmds[1].cpu - n[2].cmds[2].cpu) / GETPPID_CALLS,
    (n[1].cmds[1].cpu - n[1].cmds[2].cpu) / GETPPID_CALLS, per(s1, 1), d.per_call.emulate,
    d.per_call.rules, d.per_call.deciding_rule)
  p("")
end

-- lua5.4 bench/listener.lua BUILD OUT: these rows alone, printed (bench/run --listener)
if arg and arg[0] and arg[0]:match("listener%.lua$") then
  local BUILD, OUT = assert(arg[1], "BUILD"), assert(arg[2], "OUT")
  local result = M.run({ BUILD = BUILD, OUT = OUT, sh = driver.sh, write = driver.write,
                         log = driver.log, words = driver.words })
  print(result.text)
  print(concat(result.targets, "\n"))
end

return M

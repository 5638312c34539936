-- bench/spawn_warm.lua: spawning from a warm lua5.4, sx.process against C loops in the same
-- process (bench/spawn_peer.c), in alternating batches.
--
--   lua5.4 bench/spawn_warm.lua POLICY NOEXEC_POLICY ROUNDS BATCH PROGRAM [WAY]
--
-- Every round runs a batch of each way to spawn PROGRAM (it must exit 0) and takes the
-- CPU per spawn of each batch (this process and the children it reaped: user + system):
--   sx         sx.process: spawn, install POLICY's filter, proceed, wait (the default,
--              a PID namespace of its own)
--   sx_no_ns   the same with pid_namespace = false
--   sx_once    the same with NOEXEC_POLICY's filter, which forbids execve (the exec gate)
--   c_fork     fork; no_new_privs, POLICY's filter (the same BPF), execv; wait
--   c_vfork    vfork, execv, wait (no filter)
-- Prints one line a way: its name, the median CPU µs per spawn, and the median over the
-- rounds of its ratio to c_fork, to c_vfork and to sx. WAY runs that way alone (no
-- warming, no ratios): strace counts what one way does.
local process = require "sx.process"
local peer = require "bench.spawn_peer"

local sort, fmt = table.sort, string.format

local policy, noexec, rounds, batch, program, only =
  arg[1], arg[2], math.tointeger(tonumber(arg[3])), math.tointeger(tonumber(arg[4])), arg[5],
  arg[6]
assert(policy and noexec and rounds and batch and program,
       "usage: spawn_warm.lua POLICY NOEXEC_POLICY ROUNDS BATCH PROGRAM")
local plain = assert(assert(loadfile(policy))())
local once = assert(assert(loadfile(noexec))())

local function sx_spawns(filter, pid_namespace)
  return function(n)
    for _ = 1, n do
      local p = assert(process.spawn { argv = { program }, pid_namespace = pid_namespace })
      assert(p:install(filter))
      assert(p:proceed())
      local how, value = p:wait()
      assert(how == "exited" and value == 0, fmt("%s %s", tostring(how), tostring(value)))
    end
  end
end

local WAYS = {
  { "sx", sx_spawns(plain) },
  { "sx_no_ns", sx_spawns(plain, false) },
  { "sx_once", sx_spawns(once) },
  { "c_fork", function(n) assert(peer.fork_exec(n, plain.bpf, program) == 0) end },
  { "c_vfork", function(n) assert(peer.vfork_exec(n, program) == 0) end },
}

if only then
  for _, way in ipairs(WAYS) do
    if way[1] == only then
      for _ = 1, rounds do way[2](batch) end
      return
    end
  end
  error("no way named " .. only)
end

local function median(v)
  local c = {}
  for i, x in ipairs(v) do c[i] = x end
  sort(c)
  return #c % 2 == 1 and c[(#c + 1) // 2] or (c[#c // 2] + c[#c // 2 + 1]) / 2
end

for _, way in ipairs(WAYS) do way[2](2) end       -- warm: every path run once
local per = {}
for _, way in ipairs(WAYS) do per[way[1]] = {} end
for r = 1, rounds do
  -- a different way first each round, so none always follows another
  for k = 0, #WAYS - 1 do
    local way = WAYS[(r + k) % #WAYS + 1]
    local c0 = peer.cpu()
    way[2](batch)
    per[way[1]][r] = (peer.cpu() - c0) / batch
  end
end
for _, way in ipairs(WAYS) do
  local name, ratios = way[1], { c_fork = {}, c_vfork = {}, sx = {} }
  for r = 1, rounds do
    for peer_name, list in pairs(ratios) do list[r] = per[name][r] / per[peer_name][r] end
  end
  print(fmt("%s %.1f %.4f %.4f %.4f", name, median(per[name]), median(ratios.c_fork),
            median(ratios.c_vfork), median(ratios.sx)))
end

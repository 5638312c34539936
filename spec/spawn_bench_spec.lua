-- bench/spawn_bench charges a command for every process it started. Its CPU figures are
-- the spawn rows of docs/benchmarks.md: a harness that missed a process would make a peer
-- look cheaper than it is. It did: bwrap --unshare-pid exits without waiting for its PID 1,
-- which makes the mounts and runs the program, and wait4's rusage of bwrap alone left
-- both out.
local proc = require "support.proc"

local fmt = string.format

local BENCH = proc.build .. "/bench/spawn_bench"
local LUA = os.getenv("SX_LUA") or "lua5.4"
-- a process that burns 80 ms of its own CPU
local BURN = fmt("%s -e 'local t = os.clock() repeat until os.clock() - t > 0.08'", LUA)

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- One run of `cmd` through spawn_bench: wall µs, CPU µs, faults, failed runs.
local function measure(cmd)
  local p = io.popen(fmt("%s 1 -- sh -c %s 2>&1", BENCH, sh_quote(cmd)))
  local out = p:read("a")
  p:close()
  local wall, cpu, faults, failed = out:match("^(%S+) (%S+) (%S+) (%S+)\n$")
  assert(wall, "spawn_bench printed: " .. out)
  return tonumber(wall), tonumber(cpu), tonumber(faults), tonumber(failed)
end

local function have(cmd)
  return os.execute(fmt("command -v %s > /dev/null", cmd)) == true
end

describe("spawn_bench", function()
  it("charges a command for what it waited for", function()
    local _, cpu, _, failed = measure(BURN)
    assert.are.equal(0, failed)
    assert.is_true(cpu >= 80000, "CPU " .. cpu)
  end)

  it("charges a command for a child it left behind, and waits for it", function()
    local wall, cpu, _, failed = measure(BURN .. " & exit 0")
    assert.are.equal(0, failed)
    assert.is_true(cpu >= 80000, "CPU " .. cpu)
    assert.is_true(wall >= 80000, "wall " .. wall)
  end)

  local it_bwrap = have("bwrap") and it or pending
  it_bwrap("charges bwrap --unshare-pid for its PID 1 and the program", function()
    local _, cpu, _, failed = measure("bwrap --dev-bind / / --unshare-pid " .. BURN)
    assert.are.equal(0, failed)
    assert.is_true(cpu >= 80000, "CPU " .. cpu)
  end)
end)

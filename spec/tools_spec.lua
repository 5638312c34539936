-- The tools a contributor runs: tools/test shows why a test failed, as it finishes.
local source = assert(os.getenv("SX_SOURCE_DIR"), "run through ctest")
local lua = assert(os.getenv("SX_LUA"))

local function sh(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  return out
end

describe("tools/test's progress filter", function()
  local dir = os.tmpname()
  os.remove(dir)
  before_each(function() assert(os.execute("mkdir -p " .. dir)) end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  -- What ctest -V makes of one test: its preamble and output as "N: line", then the
  -- closing line.
  local function ctest_log(n, name, output, verdict)
    local t = { ("%d: Test command: %s /usr/bin/busted spec/%s_spec.lua"):format(n, lua, name),
                ("%d: Test timeout computed to be: 10000000"):format(n) }
    for line in (output .. "\n"):gmatch("(.-)\n") do t[#t + 1] = n .. ": " .. line end
    t[#t + 1] = ("1/2 Test #%d: %s ..........   %s    0.01 sec"):format(n, name, verdict)
    return table.concat(t, "\n") .. "\n"
  end

  it("prints a failing spec's busted message under its line, and a passing one alone", function()
    local spec = dir .. "/deliberate_spec.lua"
    local f = assert(io.open(spec, "w"))
    f:write([[
describe("deliberate", function()
  it("fails", function() assert.equal("wanted", "got") end)
  it("passes", function() end)
end)
]])
    f:close()
    local busted = sh(("cd %s && %s /usr/bin/busted --output=plainTerminal %s 2>&1"):format(dir, lua, spec))
    assert.matches("Failure %->", busted)
    local log = ctest_log(7, "passing", "+\n1 success / 0 failures / 0 errors / 0 pending", "Passed")
             .. ctest_log(25, "deliberate", busted, "***Failed")
    f = assert(io.open(dir .. "/ctest.log", "w"))
    f:write(log)
    f:close()
    local shown = sh(("awk -f %s/tools/ctest_progress.awk %s/ctest.log"):format(source, dir))
    local lines = {}
    for line in shown:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.matches("^1/2 Test #7: passing .* Passed", lines[1])
    assert.matches("^1/2 Test #25: deliberate .*Failed", lines[2])
    assert.equal("    Failure -> " .. spec .. " @ 2", lines[3])
    assert.equal("    deliberate fails", lines[4])
    assert.matches("deliberate_spec.lua:2: Expected objects to be equal.", lines[5], 1, true)
    assert.is_truthy(shown:find("(string) 'got'", 1, true))
    assert.is_nil(shown:find("Test command", 1, true))
  end)

  it("shows the end of a test's output when it has no busted message (a crash)", function()
    local f = assert(io.open(dir .. "/ctest.log", "w"))
    f:write(ctest_log(3, "crash", "started\nSegmentation fault", "***Exception: SegFault"))
    f:close()
    local shown = sh(("awk -f %s/tools/ctest_progress.awk %s/ctest.log"):format(source, dir))
    assert.matches("Test #3: crash", shown)
    assert.matches("\n    started\n    Segmentation fault\n", shown)
  end)
end)

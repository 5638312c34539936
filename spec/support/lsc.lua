-- support.lsc: libseccomp 2.5 as a peer, through the lsc_helper command (a test and
-- benchmark tool; the product never links libseccomp). Writes rule sets in the rule-file
-- format of bench/rulefile.h, which sx's C benchmarks read too.
--
--   local lsc = require "support.lsc"
--   local bpf, err = lsc.compile(rules, default, opts [, optimize])

local action = require "sx.action"
local integer64 = require("sx.rules").integer64

local io, os, type, ipairs, tostring, assert, concat, fmt =
  io, os, type, ipairs, tostring, assert, table.concat, string.format

local M = {}

local function build_dir()
  return os.getenv("SX_BUILD_DIR") or "build"
end

function M.helper()
  return build_dir() .. "/lsc_helper"
end

function M.available()
  local f = io.open(M.helper(), "rb")
  if f then f:close() end
  return f ~= nil
end

local function value(a)
  return assert(action.value(a))
end

local function arches_of(opts)
  return opts.arches or { opts.arch }
end

-- The rule file for a rule set in sx.seccomp's form.
function M.rulefile(rules, default, opts)
  local out = {
    "arches " .. concat(arches_of(opts), " "),
    fmt("default 0x%08x", value(default)),
    fmt("bad_arch 0x%08x", value(opts.bad_arch or "kill_process")),
  }
  for _, r in ipairs(rules) do
    local act, sys = r.action or r[1], r.syscall or r[2]
    local line = { fmt("rule 0x%08x", value(act)),
                   type(sys) == "number" and ("#" .. sys) or sys }
    for _, c in ipairs(r.args or {}) do
      line[#line + 1] = fmt("%d %s 0x%x 0x%x", c.index, c.op, assert(integer64(c.value)),
                            c.mask and assert(integer64(c.mask)) or 0)
    end
    out[#out + 1] = concat(line, " ")
  end
  return concat(out, "\n") .. "\n"
end

local function tmpname()
  return os.tmpname()
end

-- Run the helper on `input` text; returns its stdout, or nil and its stderr.
local function run(args, input)
  local inp, errf = tmpname(), tmpname()
  local f = assert(io.open(inp, "wb"))
  f:write(input)
  f:close()
  local p = assert(io.popen(fmt("%s %s < %s 2> %s", M.helper(), args, inp, errf), "r"))
  local out = p:read("a")
  local ok = p:close()
  local e = io.open(errf, "rb")
  local msg = e and e:read("a") or ""
  if e then e:close() end
  os.remove(inp)
  os.remove(errf)
  if not ok then return nil, (msg:gsub("%s+$", "")) end
  return out
end

local BIG_ENDIAN = { s390x = true }

-- libseccomp exports a big-endian arch's program in that byte order; sx's emulator (and
-- sx's own output) use the host's.
local function host_order(bpf)
  local out = {}
  for i = 1, #bpf, 8 do
    out[#out + 1] = string.pack("=I2BBI4", string.unpack(">I2BBI4", bpf, i))
  end
  return concat(out)
end

-- libseccomp's BPF for a rule set (optimize 1: its default if-chain, 2: binary tree), in
-- the host's byte order.
function M.compile(rules, default, opts, optimize)
  local bpf, err = run("compile " .. tostring(optimize or 1), M.rulefile(rules, default, opts))
  if bpf and BIG_ENDIAN[arches_of(opts)[1]] then bpf = host_order(bpf) end
  return bpf, err
end

-- Compile a rule file's text as it is.
function M.compile_text(text, optimize)
  return run("compile " .. tostring(optimize or 1), text)
end

-- libseccomp's numbers for `names` on each of `arches`: t[name][i] (nil when unknown).
function M.numbers(names, arches)
  local out = assert(run("names " .. concat(arches, " "), concat(names, "\n") .. "\n"))
  local t = {}
  for line in out:gmatch("[^\n]+") do
    local words = {}
    for w in line:gmatch("%S+") do words[#words + 1] = w end
    local nums = {}
    for i = 2, #words do
      local n = math.tointeger(tonumber(words[i]))
      nums[i - 1] = n >= 0 and n or nil
    end
    t[words[1]] = nums
  end
  return t
end

return M

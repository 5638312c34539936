-- bench/oci_import.lua: sx.oci.import of a profile against the compile of the same rules
-- (seccomp.from_rules of what oci.to_rules gives), in lua5.4.
--
--   lua5.4 bench/oci_import.lua once PROFILE WHAT N   N calls of WHAT (import, compile, or
--                                                     decode: lua-cjson's alone), for
--                                                     callgrind (run with N = 0 too and
--                                                     take the difference)
--   lua5.4 bench/oci_import.lua pair PROFILE          31 pairs of alternating batches:
--       median µs per import, per compile, the median of the pairs' ratios, the rules, and
--       the median µs per compile of the list form import hands from_rules (a batch of
--       it after each pair)
-- The profile is imported for x86_64, i386 and x32, as Docker does on an x86_64 host.
local oci = require "sx.oci"
local seccomp = require "sx.seccomp"
local timing = require "timing"

local mode, path = arg[1], arg[2]
local f = assert(io.open(assert(path, "a profile"), "rb"))
local text = f:read("a")
f:close()
local OPTS = { arches = { "x86_64", "i386", "x32" } }

local rules, default, build = assert(oci.to_rules(text, OPTS))
-- the list form import hands from_rules: each run of unconditional rules of one action as
-- one rule with a list of syscalls (what sx.oci's rule_runs makes)
local lists, run, run_action = {}, nil, nil
for _, r in ipairs(rules) do
  if r.args then run = nil lists[#lists + 1] = r
  elseif run and r.action == run_action then run[#run + 1] = r.syscall
  else run, run_action = { r.syscall }, r.action lists[#lists + 1] = { run_action, run } end
end
local function import() return assert(oci.import(text, OPTS)) end
local function compile() return assert(seccomp.from_rules(rules, default, build)) end
local function compile_lists() return assert(seccomp.from_rules(lists, default, build)) end
assert(import().bpf == compile().bpf, "the import and the compile differ")
assert(compile_lists().bpf == compile().bpf, "the list form compiles to another program")

local batch_size, median = timing.batch_size, timing.median
local function batch(fn, n) return timing.batch(fn, n) * 1e6 end   -- µs per call

if mode == "once" then
  local decode = require("cjson").decode
  local fn = assert(({ import = import, compile = compile,
                       decode = function() return decode(text) end })[arg[3]],
                    "WHAT: import, compile or decode")
  for _ = 1, math.tointeger(tonumber(arg[4])) do fn() end
elseif mode == "pair" then
  local n_import, n_compile = batch_size(import, 0.01), batch_size(compile, 0.01)
  local n_lists = batch_size(compile_lists, 0.01)
  local imports, compiles, listed, ratios = {}, {}, {}, {}
  for b = 1, 31 do
    imports[b] = batch(import, n_import)
    compiles[b] = batch(compile, n_compile)
    listed[b] = batch(compile_lists, n_lists)
    ratios[b] = imports[b] / compiles[b]
  end
  print(("%.1f %.1f %.2f %d %.1f"):format(median(imports), median(compiles), median(ratios),
                                          #rules, median(listed)))
else
  error("usage: oci_import.lua once|pair PROFILE ...")
end

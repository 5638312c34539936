-- bench/oci_import.lua: sx.oci.import of a profile against the compile of the same rules
-- (seccomp.from_rules of what oci.to_rules gives), in lua5.4.
--
--   lua5.4 bench/oci_import.lua once PROFILE WHAT N   N calls of WHAT (import, compile, or
--                                                     decode: lua-cjson's alone), for
--                                                     callgrind (run with N = 0 too and
--                                                     take the difference)
--   lua5.4 bench/oci_import.lua pair PROFILE          31 pairs of alternating batches:
--       median µs per import, per compile, and the median of the pairs' ratios
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
local function import() return assert(oci.import(text, OPTS)) end
local function compile() return assert(seccomp.from_rules(rules, default, build)) end
assert(import().bpf == compile().bpf, "the import and the compile differ")

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
  local imports, compiles, ratios = {}, {}, {}
  for b = 1, 31 do
    imports[b] = batch(import, n_import)
    compiles[b] = batch(compile, n_compile)
    ratios[b] = imports[b] / compiles[b]
  end
  print(("%.1f %.1f %.2f %d"):format(median(imports), median(compiles), median(ratios), #rules))
else
  error("usage: oci_import.lua once|pair PROFILE ...")
end

-- sx.install: put a filter on the calling process (for gateways that drop to their
-- syscall envelope once initialised). Irreversible: a filter cannot be removed.
--
--   assert(seccomp.install(f))                  -- every thread (TSYNC), no_new_privs as needed
--   seccomp.install(f, { log = true, tsync = false, no_new_privs = true })

local core = require "sx.core"
local error_ = require "sx.error"
local filter = require "sx.filter"

local ipairs, concat = ipairs, table.concat

local M = {}

local OPTIONS = { tsync = true, log = true, spec_allow = true, no_new_privs = true }
local FLAG = core.INSTALL

-- install(f [, opts]) -> true | nil, err (err.code install_failed, tsync_failed with
-- err.tid, unsupported_arch, bad_program; err.errno).
function M.install(f, opts)
  if not filter.is(f) then error_.raise("install takes a filter") end
  opts = error_.check_options(opts, OPTIONS, "install")
  local host = core.host_arch()
  local covers = false
  for _, a in ipairs(f.arches) do covers = covers or a == host end
  if not covers then
    return nil, error_.new("unsupported_arch", ("this filter is for %s but this process runs on %s")
                           :format(concat(f.arches, ", "), host or "an unsupported architecture"),
                           { arch = f.arches[1] })
  end
  local flags = 0
  if opts.tsync ~= false then flags = flags | FLAG.tsync end
  if opts.log then flags = flags | FLAG.log end
  if opts.spec_allow then flags = flags | FLAG.spec_allow end
  if opts.no_new_privs == true then flags = flags | FLAG.no_new_privs
  elseif opts.no_new_privs == false then flags = flags | FLAG.keep_privs end
  local ok, code, message, errno, tid = core.install(f.bpf, flags)
  if ok then return true end
  return nil, error_.new(code, message, { errno = errno, tid = tid ~= 0 and tid or nil })
end

return M

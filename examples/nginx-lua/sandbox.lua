-- examples/nginx-lua/sandbox.lua: each nginx worker drops to its syscall envelope.
--
-- Run from init_worker_by_lua_block (LuaJIT, through the FFI binding sx.ffi, which needs
-- only libsx.so). Workers install the filter on themselves; the master never runs this,
-- so it stays unfiltered and reloads (which exec nothing, but do fork new workers)
-- keep working.
local sx = require "sx.ffi"

local M = {}

-- What a web worker never needs: running programs, debugging others, changing the system.
M.denied = {
  "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev",
  "mount", "umount2", "pivot_root", "chroot", "swapon", "swapoff", "reboot",
  "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
  "bpf", "perf_event_open", "add_key", "request_key", "keyctl", "unshare", "setns",
}

function M.install()
  local filter = assert(sx.deny_list(M.denied, { deny_action = "errno(EPERM)" }))
  local ok, err = sx.install(filter)
  if not ok then
    ngx.log(ngx.ERR, "sx: could not install the seccomp filter: ", tostring(err))
    return false
  end
  return true
end

return M

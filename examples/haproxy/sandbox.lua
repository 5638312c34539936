-- examples/haproxy/sandbox.lua: HAProxy drops to its syscall envelope once it is up.
--
-- Loaded with `lua-load` (HAProxy links Lua 5.3: build sx with -DSX_LUA=5.3). The filter
-- is built while the configuration loads, so a policy mistake stops HAProxy from
-- starting; it is installed by a task once the scheduler runs, on every thread (TSYNC).
-- Set SX_LUA_PATH / SX_LUA_CPATH in HAProxy's environment if sx is not installed (see
-- README.md here): Lua search paths, put before HAProxy's own, with or without a ';' at
-- the end.
local function before(extra, path)
  if not extra or extra == "" then return path end
  return (extra:gsub(";+$", "")) .. ";" .. path
end
package.path = before(os.getenv("SX_LUA_PATH"), package.path)
package.cpath = before(os.getenv("SX_LUA_CPATH"), package.cpath)

local seccomp = require "sx.seccomp"

-- What a proxy never needs: running programs, debugging others, changing the system.
local filter = assert(seccomp.deny_list({
  "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev",
  "mount", "umount2", "pivot_root", "chroot", "swapon", "swapoff", "reboot",
  "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
  "bpf", "perf_event_open", "add_key", "request_key", "keyctl", "unshare", "setns",
  "unlink", "unlinkat", "rmdir",
}, { deny_action = seccomp.errno "EPERM" }))

local installed, install_error = false, nil

core.register_task(function()
  local ok, err = seccomp.install(filter)
  installed, install_error = ok == true, err and tostring(err)
  if not ok then core.Alert("sx: could not install the seccomp filter: " .. tostring(err)) end
end)

local function reply(applet, status, body)
  applet:set_status(status)
  applet:add_header("content-type", "text/plain")
  applet:add_header("content-length", tostring(#body))
  applet:start_response()
  applet:send(body)
end

-- /hello: HAProxy keeps serving through the filter.
core.register_service("hello", "http", function(applet)
  reply(applet, 200, "hello from behind the filter\n")
end)

-- /status: did the install succeed?
core.register_service("status", "http", function(applet)
  reply(applet, 200, installed and "installed\n" or ("not installed: " .. tostring(install_error) .. "\n"))
end)

-- /denied: a denied syscall (unlink) answers EPERM instead of ENOENT.
core.register_service("denied", "http", function(applet)
  local ok, message, errno = os.remove("/nonexistent/sx-haproxy-probe")
  reply(applet, 200, ("remove: %s errno=%s\n"):format(tostring(message), tostring(errno)))
end)

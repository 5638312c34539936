-- attacks/nnp_off.lua: exec allowed, and no_new_privs left unset (the policy opts out).
local seccomp = require "sx.seccomp"
return { filter = seccomp.deny_list({ "socket" }), no_new_privs = false }

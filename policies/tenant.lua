-- policies/tenant.lua: one policy, a different filter for each tenant, named by the
-- policy's argument.
--
--   sxlua policies/tenant.lua alice -- ./job      (alice may use the network)
--   sxlua policies/tenant.lua bob   -- ./job      (bob may not; EACCES)
--   sxlua policies/tenant.lua guest -- ./job      (guest: no network, no writing files)
--
-- Every tenant gets the deny list of policies/dangerous.lua; the tenant's table adds
-- its own rules. An unknown or missing tenant is an error: nothing runs.
local seccomp = require "sx.seccomp"

local tenant = ...
local here = arg and arg[0] and arg[0]:match("^(.*)/") or "."
local _, dangerous = dofile(here .. "/dangerous.lua")

local O_WRONLY, O_RDWR, O_CREAT, O_TRUNC = 0x1, 0x2, 0x40, 0x200
local EACCES = seccomp.errno("EACCES")

local NETWORK = { "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4" }

-- Deny opening a file for writing: any of the write/create bits in the flags of openat
-- (argument 2) and of the older open (argument 1, where the architecture has it).
-- openat2 hides its flags in a struct a filter cannot read: ENOSYS sends libc back to
-- openat. Files are not changed by name either.
local function read_only()
  local rules = {}
  for _, call in ipairs{ { "openat", 2 }, { "open", 1 } } do
    if seccomp.syscall_number(call[1]) then
      for _, bit in ipairs{ O_WRONLY, O_RDWR, O_CREAT, O_TRUNC } do
        rules[#rules + 1] = { EACCES, call[1],
                              { { index = call[2], op = "masked_eq", mask = bit, value = bit } } }
      end
    end
  end
  rules[#rules + 1] = { seccomp.errno("ENOSYS"), "openat2" }
  for _, name in ipairs{ "creat", "unlink", "unlinkat", "rename", "renameat", "renameat2",
                         "mkdir", "mkdirat", "rmdir", "truncate", "ftruncate", "link",
                         "linkat", "symlink", "symlinkat", "mknod", "mknodat", "chmod",
                         "fchmod", "fchmodat", "chown", "fchown", "lchown", "fchownat" } do
    if seccomp.syscall_number(name) then rules[#rules + 1] = { EACCES, name } end
  end
  return rules
end

local function no_network()
  local rules = {}
  for _, name in ipairs(NETWORK) do rules[#rules + 1] = { EACCES, name } end
  return rules
end

local TENANTS = {
  alice = function() return {} end,
  bob = no_network,
  guest = function()
    local rules = no_network()
    for _, r in ipairs(read_only()) do rules[#rules + 1] = r end
    return rules
  end,
}

if tenant == nil then
  error("name the tenant: sxlua tenant.lua NAME -- program (alice, bob or guest)")
end
local build = TENANTS[tenant]
if not build then
  error(("unknown tenant '%s' (known: alice, bob, guest)"):format(tostring(tenant)))
end

local rules = build()
for _, name in ipairs(dangerous) do rules[#rules + 1] = { seccomp.errno("EPERM"), name } end
return seccomp.from_rules(rules, "allow")

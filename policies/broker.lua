-- policies/broker.lua: a per-tenant file broker.
--
--   sxlua policies/broker.lua TENANT_DIR -- program [args...]
--
-- The program runs with TENANT_DIR as its working directory and opens files only through
-- sxlua: read and write beneath TENANT_DIR, read-only the system files a dynamically
-- linked program needs to start (/usr, /lib, /etc/ld.so.cache, ...). sxlua opens each
-- file itself, with openat2(RESOLVE_BENEATH) from the directory that holds it, and hands
-- the program the descriptor: a path that climbs out ("..", a symlink, /proc/self/root)
-- gets EACCES, and a path the program swaps in memory after sxlua read it changes
-- nothing, since sxlua never lets the call itself go on. Every other way to open a file
-- by name is denied, and so is every call that would change or reach a file by name
-- where the broker does not look: link, rename, unlink, mkdir, chmod, chown, utimes,
-- truncate, mknod, the mount API (open_tree: a descriptor of any file), io_uring (its
-- OPENAT is no syscall, so no rule sees it), userfaultfd (a page that stalls the
-- broker's reads), and AF_UNIX sockets (connect and bind take a path, or an abstract
-- name, in memory no rule can read: a host service's socket is a way out). socketpair
-- stays. The program may still stat any path. The rest of @system-service is allowed.
-- A descriptor opened read-only still lets root change its file: fchmod, fchown,
-- fsetxattr and fremovexattr are denied too (a root workload gave a binary under /usr a
-- file capability and mode 0777 through one: review), ioctl takes only requests about
-- terminals and descriptors (FS_IOC_SETFLAGS, FIFREEZE and the like act on the file or
-- its filesystem), and fcntl takes no lease (F_SETLEASE: a lease on a system file holds
-- up everyone who opens it). The broker's own opens never wait (sx_open_beneath opens
-- with O_NONBLOCK: a leased file, or a FIFO without a peer, fails instead of holding up
-- the supervisor).
local seccomp = require "sx.seccomp"
local process = require "sx.process"

local tenant = ...
if type(tenant) ~= "string" then error("usage: sxlua policies/broker.lua TENANT_DIR -- program", 0) end
tenant = tenant:gsub("/+$", "")

local O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_CLOEXEC, O_TMPFILE =
  0x1, 0x2, 0x40, 0x200, 0x400, 0x80000, 0x410000
local EACCES = "EACCES"

-- Where each path may lead: the tenant's tree, read and write; the system's, read-only.
local root = assert(process.open_dir(tenant))
local SYSTEM = { "/usr", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/localtime" }
local system = {}           -- prefix -> directory descriptor, opened on first use

-- The directory to open `path` beneath and the path relative to it, whether it may be
-- written, or nil.
local function place(path)
  if path:sub(1, 1) ~= "/" then return root, path, true end
  if path == tenant or path:sub(1, #tenant + 1) == tenant .. "/" then
    local rest = path:sub(#tenant + 2)
    return root, rest ~= "" and rest or ".", true
  end
  for _, prefix in ipairs(SYSTEM) do
    if path == prefix or path:sub(1, #prefix + 1) == prefix .. "/" then
      local dir, rest = prefix:match("^(.*)/([^/]+)$")
      if path ~= prefix then dir, rest = prefix, path:sub(#prefix + 2) end
      if dir == "" then dir = "/" end
      system[dir] = system[dir] or assert(process.open_dir(dir))
      return system[dir], rest, false
    end
  end
end

-- Open what the program asked for, as the broker allows it, and hand it over.
local function broker(call, path_arg, flags, mode)
  local path = call:string(path_arg)
  if not path then return call:fail("EFAULT") end
  local dir, rest, writable = place(path)
  if not dir then return call:fail(EACCES) end
  local writes = flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND) ~= 0 or
                 flags & O_TMPFILE == O_TMPFILE
  if writes and not writable then return call:fail(EACCES) end
  if path:sub(1, 1) ~= "/" and call.syscall == "openat" and
     (call.args[1] & 0xffffffff) ~= 0xffffff9c then   -- relative to a descriptor: refused
    return call:fail(EACCES)
  end
  local fd, err = process.open_beneath(dir, rest, flags & 0xffffffff & ~O_CLOEXEC, mode)
  if not fd then return call:fail(err == "EXDEV" and EACCES or err) end
  return call:inject_fd(fd, { cloexec = flags & O_CLOEXEC ~= 0, close = true })
end

local handlers = {
  openat = function(call) return broker(call, 1, call.args[3], call.args[4] & 0xfff) end,
  open = function(call) return broker(call, 0, call.args[2], call.args[3] & 0xfff) end,
  creat = function(call)
    return broker(call, 0, O_CREAT | O_WRONLY | O_TRUNC, call.args[2] & 0xfff)
  end,
}

-- The names this machine has (open and creat are not on every architecture).
local brokered, on = {}, {}
for name, handler in pairs(handlers) do
  if seccomp.syscall_number(name) then brokered[#brokered + 1] = name; on[name] = handler end
end
table.sort(brokered)

-- The names of `list` this machine has.
local function present(list)
  local out = {}
  for _, name in ipairs(list) do
    if seccomp.syscall_number(name) then out[#out + 1] = name end
  end
  return out
end

-- The ioctl requests the program may make: about terminals and descriptors only.
local IOCTLS = { "TCGETS", "TCSETS", "TCSETSW", "TCSETSF", "TCFLSH", "TCSBRK", "TIOCGWINSZ",
                 "TIOCSWINSZ", "TIOCGPGRP", "TIOCSPGRP", "TIOCOUTQ", "TIOCGSID", "FIONREAD",
                 "FIONBIO", "FIOCLEX", "FIONCLEX", "FIOASYNC" }
local F_SETLEASE = 1024                   -- F_LINUX_SPECIFIC_BASE, on every architecture

local filter = assert(seccomp.builder()
  :allow{ "@system-service" }
  :allow("ioctl", "arg1 == " .. table.concat(IOCTLS, " || arg1 == "))
  :deny("ioctl", seccomp.errno(EACCES))
  :deny("fcntl", "arg1 == " .. F_SETLEASE, seccomp.errno(EACCES))
  :allow("fcntl")
  :rule("notify", brokered)
  :deny({ "openat2", "open_by_handle_at", "name_to_handle_at" }, seccomp.errno(EACCES))
  :allow("socket", "family != AF_UNIX")
  :deny("socket", "family == AF_UNIX", seccomp.errno(EACCES))
  :deny(present{ "link", "linkat", "symlink", "symlinkat", "rename", "renameat", "renameat2",
                 "unlink", "unlinkat", "rmdir", "mkdir", "mkdirat", "mknod", "mknodat",
                 "chmod", "fchmodat", "fchmodat2", "chown", "lchown", "fchownat",
                 "fchmod", "fchown", "truncate", "utime", "utimes", "futimesat", "utimensat",
                 "setxattr", "lsetxattr", "removexattr", "lremovexattr", "fsetxattr",
                 "fremovexattr", "setxattrat", "removexattrat",
                 "open_tree", "open_tree_attr", "move_mount", "fsopen", "fsconfig", "fsmount",
                 "fspick", "mount_setattr", "io_uring_setup", "io_uring_enter",
                 "io_uring_register", "userfaultfd" }, seccomp.errno(EACCES))
  :build())

return { filter = filter, cwd = tenant, on = on }

-- sx.decode: a syscall with its arguments, written for people, as a denial report shows
-- it: socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0), openat(AT_FDCWD, "/etc/shadow",
-- O_RDONLY). Flag names come from sx.constants (the build machine's headers); paths are
-- read from the caller's memory by the function the caller gives.
--
--   decode.call("socket", { 1, 0x80001, 0 }) --> "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0)"

local pairs, ipairs, type, tostring, format, concat, sort, pcall, require, math_type =
  pairs, ipairs, type, tostring, string.format, table.concat, table.sort, pcall, require,
  math.type

local M = {}

-- The kinds of the arguments of the syscalls a report meets most; the rest are numbers.
local P, D = "path", "dirfd"
local KINDS = {
  open = { P, "oflags", "mode" }, openat = { D, P, "oflags", "mode" },
  openat2 = { D, P, "ptr", "int" }, creat = { P, "mode" },
  execve = { P, "ptr", "ptr" }, execveat = { D, P, "ptr", "ptr", "hex" },
  stat = { P, "ptr" }, lstat = { P, "ptr" }, access = { P, "mode" }, statfs = { P, "ptr" },
  newfstatat = { D, P, "ptr", "hex" }, fstatat64 = { D, P, "ptr", "hex" },
  statx = { D, P, "hex", "hex", "ptr" }, faccessat = { D, P, "mode" },
  faccessat2 = { D, P, "mode", "hex" }, readlink = { P, "ptr", "int" },
  readlinkat = { D, P, "ptr", "int" }, unlink = { P }, unlinkat = { D, P, "hex" },
  mkdir = { P, "mode" }, mkdirat = { D, P, "mode" }, rmdir = { P }, chdir = { P },
  chroot = { P }, chmod = { P, "mode" }, fchmodat = { D, P, "mode" },
  chown = { P, "int", "int" }, lchown = { P, "int", "int" }, fchownat = { D, P, "int", "int", "hex" },
  truncate = { P, "int" }, mknod = { P, "mode", "hex" }, mknodat = { D, P, "mode", "hex" },
  rename = { P, P }, renameat = { D, P, D, P }, renameat2 = { D, P, D, P, "hex" },
  link = { P, P }, linkat = { D, P, D, P, "hex" }, symlink = { P, P }, symlinkat = { P, D, P },
  mount = { P, P, P, "hex", "ptr" }, umount2 = { P, "hex" }, pivot_root = { P, P },
  socket = { "family", "socktype", "int" }, socketpair = { "family", "socktype", "int", "ptr" },
  connect = { "int", "ptr", "int" }, bind = { "int", "ptr", "int" },
  mmap = { "ptr", "int", "prot", "mapflags", "int", "hex" }, mprotect = { "ptr", "int", "prot" },
  pkey_mprotect = { "ptr", "int", "prot", "int" },
  clone = { "cloneflags", "ptr", "ptr", "ptr", "ptr" }, unshare = { "cloneflags" },
  setns = { "int", "cloneflags" }, ioctl = { "int", "ioctl", "hex" },
  prctl = { "prctl", "hex", "hex", "hex", "hex" }, personality = { "hex" },
  kill = { "int", "signal" }, tkill = { "int", "signal" }, tgkill = { "int", "int", "signal" },
  ptrace = { "int", "int", "hex", "hex" }, read = { "int", "ptr", "int" },
  write = { "int", "ptr", "int" }, close = { "int" }, uname = { "ptr" },
}

local SIGNALS = { "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS",
  "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
  "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
  "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS" }

-- Names that stand for the same value as a better-known one.
local ALIASES = { O_NDELAY = true, O_FSYNC = true, O_RSYNC = true, O_LARGEFILE = true,
  O_ACCMODE = true, MAP_ANON = true, MAP_FILE = true, MAP_TYPE = true, MAP_HUGE_MASK = true,
  MAP_HUGE_SHIFT = true, MAP_SHARED_VALIDATE = true, AF_FILE = true, AF_LOCAL = true,
  AF_ROUTE = true, PROT_NONE = true }

-- prctl's sub-options share the small numbers of its options (PR_SET_MM_MAP_SIZE and
-- PR_SET_NAME are both 15): they never name an option.
local SUBOPTIONS = { "^PR_SET_MM_", "^PR_CAP_AMBIENT_", "^PR_MCE_KILL_", "^PR_SCHED_CORE_",
  "^PR_SPEC_", "^PR_FP_", "^PR_FPEMU_", "^PR_TSC_", "^PR_ENDIAN_", "^PR_TIMING_",
  "^PR_UNALIGN_", "^PR_MTE_", "^PR_TAGGED_", "^PR_PAC_", "^PR_SME_", "^PR_SVE_", "^PR_RISCV_",
  "^PR_PPC_", "^PR_MDWE_", "^PR_SET_PTRACER_", "^PR_SHADOW_STACK_", "^PR_PMLEN_",
  "^PR_FUTEX_HASH_", "^PR_THP_", "^PR_SET_VMA_", "^PR_GET_THP_", "^PR_SET_THP_" }

local function suboption(name)
  for _, pattern in ipairs(SUBOPTIONS) do if name:find(pattern) then return true end end
  return false
end

local tables                        -- prefix -> { {value, name}... }, made once
local function names(prefix)
  if not tables then
    tables = {}
    local ok, c = pcall(require, "sx.constants")
    for name, value in pairs(ok and type(c) == "table" and c.values or {}) do
      local pre = name:match("^(%u+_)")
      if pre and not ALIASES[name] and not suboption(name) and math_type(value) == "integer" then
        tables[pre] = tables[pre] or {}
        local t = tables[pre]
        t[#t + 1] = { value, name }
      end
    end
    for _, t in pairs(tables) do
      sort(t, function(a, b) if a[1] ~= b[1] then return a[1] < b[1] end return a[2] < b[2] end)
    end
  end
  return tables[prefix] or {}
end

local function hex(v)
  if v >= 0 and v < 10 then return tostring(v) end
  return format("0x%x", v)
end

-- The value as a constant of `prefix`, or nil.
local function exact(prefix, v)
  for _, e in ipairs(names(prefix)) do if e[1] == v then return e[2] end end
end

-- Single-bit names of `prefix` joined with |, the rest in hex.
local function bits(prefix, v, parts)
  parts = parts or {}
  for _, e in ipairs(names(prefix)) do
    local b = e[1]
    if b ~= 0 and b & (b - 1) == 0 and v & b ~= 0 then
      parts[#parts + 1] = e[2]
      v = v & ~b
    end
  end
  if v ~= 0 or #parts == 0 then parts[#parts + 1] = hex(v) end
  return concat(parts, "|")
end

-- name(prefix, v) -> the constant of `prefix` ("AF_", "PR_", ...) with value v, the
-- best-known of its aliases, or nil; ioctl_name(v) the same for ioctl requests.
M.name = exact

local function int32(v)
  v = v & 0xffffffff
  return v >= 0x80000000 and v - 0x100000000 or v
end

local DECODE = {
  int = function(v) return tostring(int32(v)) end,
  hex = hex,
  ptr = function(v) return v == 0 and "NULL" or format("0x%x", v) end,
  mode = function(v) return format("0%o", v & 0xfff) end,
  dirfd = function(v) return int32(v) == -100 and "AT_FDCWD" or tostring(int32(v)) end,
  family = function(v) return exact("AF_", v & 0xffffffff) or tostring(v) end,
  socktype = function(v)
    v = v & 0xffffffff
    local base = exact("SOCK_", v & 0xf)
    if not base then return hex(v) end
    local rest = v & ~0xf
    return rest == 0 and base or bits("SOCK_", rest, { base })
  end,
  oflags = function(v)
    v = v & 0xffffffff
    local access = ({ [0] = "O_RDONLY", "O_WRONLY", "O_RDWR" })[v & 3] or hex(v & 3)
    if v & ~3 == 0 then return access end
    return bits("O_", v & ~3, { access })
  end,
  prot = function(v) return v == 0 and "PROT_NONE" or bits("PROT_", v & 0xffffffff) end,
  mapflags = function(v) return bits("MAP_", v & 0xffffffff) end,
  cloneflags = function(v)
    local sig = v & 0xff
    local text = v & ~0xff == 0 and "" or bits("CLONE_", v & ~0xff)
    if sig == 0 then return text == "" and "0" or text end
    local s = SIGNALS[sig] or tostring(sig)
    return text == "" and s or text .. "|" .. s
  end,
  prctl = function(v) return exact("PR_", v & 0xffffffff) or tostring(v) end,
  signal = function(v) return SIGNALS[v] or tostring(int32(v)) end,
}

-- The ioctl names have no underscore after their prefix (TIOCSTI): look them up whole.
local ioctls
DECODE.ioctl = function(v)
  if not ioctls then
    ioctls = {}
    local ok, c = pcall(require, "sx.constants")
    for name, value in pairs(ok and type(c) == "table" and c.values or {}) do
      if name:find("^TIOC") or name:find("^FIO") or name:find("^SIOC") or name:find("^TC") then
        if not ioctls[value] or name < ioctls[value] then ioctls[value] = name end
      end
    end
  end
  return ioctls[v & 0xffffffff] or hex(v & 0xffffffff)
end

function M.ioctl_name(v)
  local text = DECODE.ioctl(v)
  return not text:find("^0x") and not text:find("^%d") and text or nil
end

-- A string read from the caller, quoted as C would write it.
local function quoted(s)
  return '"' .. s:gsub('[%c"\\\128-\255]', function(ch)
    local esc = { ["\n"] = "\\n", ["\t"] = "\\t", ['"'] = '\\"', ["\\"] = "\\\\" }
    return esc[ch] or format("\\x%02x", ch:byte())
  end) .. '"'
end

-- How many arguments `name` takes on `arch`, as far as the tables know (0 when they do
-- not: a syscall without arguments looks the same).
local function arg_count(name, arch)
  local core, filter = require "sx.core", require "sx.filter"
  local nr = arch and filter.syscall_number(name, arch)     -- (x32's with its bit)
  if not nr then return 0 end
  local n = 0
  for i = 0, 5 do if core.arg(arch, nr, i) then n = i + 1 end end
  return n
end

-- call(name, args [, read_string [, arch]]) -> "name(arg0, ...)". args[1] is argument 0;
-- read_string(i) returns argument i (from 0) as a string, or nil.
function M.call(name, args, read_string, arch)
  local kinds = KINDS[name]
  local n = kinds and #kinds or arg_count(name, arch)
  local out = {}
  for i = 1, n do
    local v, kind = args[i] or 0, kinds and kinds[i] or "hex"
    local text
    if kind == "path" then
      local s = v ~= 0 and read_string and read_string(i - 1)
      text = s and quoted(s) or DECODE.ptr(v)
    else
      text = DECODE[kind](v)
    end
    out[i] = text
  end
  return name .. "(" .. concat(out, ", ") .. ")"
end

return M

-- sx.oci: seccomp profiles in the container world's JSON (Docker, podman, Kubernetes
-- Localhost profiles, and the OCI runtime spec's linux.seccomp), both ways.
--
--   local oci = require "sx.oci"
--   local f, report = oci.import(io.open("seccomp.json"):read("a"), { caps = {...} })
--   print(oci.export(f))
--
-- It reads what the real producers write: Docker's (moby's) profile; containers/common's
-- seccomp.json (podman, CRI-O, buildah), which gives each errno twice, as a number
-- (defaultErrnoRet, errnoRet) and a name (defaultErrno, errno): both are taken when they
-- agree, and refused with the path of the name when they do not; an OCI config.json
-- (runc) and its linux.seccomp; and a Kubernetes SeccompProfile of the
-- security-profiles-operator, as JSON, or its spec alone (state / disabled are noted;
-- baseProfileName is refused: the operator unions that profile in, sx cannot fetch it).
--
-- What an imported profile means is what runc (or crun) and libseccomp 2.5 make of it,
-- as Docker and podman hand it over:
--
-- * includes / excludes are evaluated like Docker's setupSeccomp: `arches` against the
--   native arch (the first target arch; Docker's names: amd64, x86, x32, arm64, arm,
--   riscv64, loong64, s390x, ppc64le), `caps` against opts.caps (default: Docker's default
--   capability set), `minKernel` ("X.Y") against opts.kernel (default: uname's release).
--   An entry is dropped when any exclude matches or any include fails.
-- * Target arches: opts.arch / opts.arches when given (the profile's own list is then
--   ignored). Otherwise the host arch, plus, from an `archMap` entry whose `architecture`
--   is the host's, its `subArchitectures` (what Docker does), or plus the profile's
--   `architectures` list (what runc does: libseccomp always keeps the native arch).
--   Arches sx does not support (mips, ppc, s390...) are left out and reported; their
--   syscalls then get the bad-arch action. A profile with both lists is an error, as in
--   Docker.
-- * Entries whose action is the default action are dropped (runc skips them:
--   libseccomp refuses such rules).
-- * An entry whose args use one index twice becomes one rule per arg, which are
--   alternatives: runc's "old behaviour", kept because old Docker profiles wrote
--   `personality` this way (libseccomp 2.5 refuses two conditions on one argument).
--   Otherwise all args of an entry must hold.
-- * For one syscall, the first unconditional entry decides it completely: libseccomp
--   drops later rules for a syscall that has an unconditional one, and an unconditional
--   rule replaces earlier conditional ones. The dropped entries are reported.
-- * Conditional entries for one syscall are alternatives tried in the profile's order.
--   libseccomp does not keep that order when entries of different actions can match the
--   same call (it decides by its own tree: e.g. for `arg0 > 10 -> A` then `arg0 < 20 ->
--   B` it answers B for 15, sx A), and refuses identical conditions with different
--   actions (runc then fails). Such pairs are listed in report.overlaps.
-- * Where sx departs from libseccomp on purpose: an argument is compared on the bits the
--   syscall reads (an int's low 32 on every ABI, a umode_t's 16), as the compiler does
--   for every filter, where libseccomp compares all 64 bits on 64-bit ABIs. The kernel
--   casts the register, so socket(0x100000028, ...) is an AF_VSOCK socket: Docker's
--   `socket` rule (arg0 != 40) denies it here and lets it through under runc. A value
--   that does not fit its argument (a rule that could never hold, or always would, as
--   the kernel reads it) is an error rather than a rule.
-- * A name unknown on one target arch is left out on that arch only (report.skipped);
--   a name no target arch has is left out and listed in report.unknown (Docker and runc
--   ignore them too); opts.strict = true makes names unknown to every arch an error.
--
-- Anything else unknown or malformed is an error with err.code "bad_profile" and
-- err.path, the JSON path ("syscalls[12].args[0].op", indexes from 0 as in the JSON).
--
-- The report says what the import left out and why:
--   arches, native, arches_from ("opts", "archMap", "architectures" or "host"),
--   caps (set), kernel (release string),
--   excluded  = { {path, names, reason}, ... }   entries includes/excludes turned off
--   dropped   = { {path, names, reason}, ... }   entries libseccomp/runc would not use
--   skipped   = { [arch] = {names...} }          names that arch does not have
--   unknown   = { {name, path, known}, ... }     names no target arch has (known: the
--                                                tables have it on some other arch)
--   overlaps  = { {name, first, second}, ... }   entries of different actions that can
--                                                match one call (see above)
--   unsupported_arches = { "SCMP_ARCH_MIPS", ... }, notes = { "...", ... }
--
-- export(f) writes the reverse: Docker's JSON (defaultAction, defaultErrnoRet,
-- architectures, syscalls with names/action/errnoRet/args), which Docker's --security-opt
-- seccomp=, podman and Kubernetes Localhost profiles take, and the OCI runtime spec's
-- linux.seccomp. The bad-arch action has no place in the format: runtimes use
-- libseccomp's (SCMP_ACT_KILL_THREAD). See sx/oci_export.lua for how rules are written.

local cjson = require "cjson"
local core = require "sx.core"
local action = require "sx.action"
local error_ = require "sx.error"
local seccomp = require "sx.seccomp"
local filter = require "sx.filter"
local export = require "sx.oci_export"
local doors = require "sx.doors"

local type, pairs, ipairs, tostring, tonumber, tointeger, math_type, select, next =
  type, pairs, ipairs, tostring, tonumber, math.tointeger, math.type, select, next
local ult, floor = math.ult, math.floor
local setmetatable, getmetatable, error = setmetatable, getmetatable, error
local fmt, concat, sort, move = string.format, table.concat, table.sort, table.move
local pcall, io_open = pcall, io.open

local M = {}

-- ---- names of things ---------------------------------------------------------------

-- libseccomp's SCMP_ARCH_* names <-> sx arch names. Known names sx has no tables for map
-- to false: accepted in a profile, left out of the filter, reported.
local SCMP_ARCH = {
  SCMP_ARCH_X86_64 = "x86_64", SCMP_ARCH_X86 = "i386", SCMP_ARCH_X32 = "x32",
  SCMP_ARCH_AARCH64 = "aarch64", SCMP_ARCH_ARM = "arm", SCMP_ARCH_RISCV64 = "riscv64",
  SCMP_ARCH_LOONGARCH64 = "loongarch64", SCMP_ARCH_S390X = "s390x",
  SCMP_ARCH_PPC64LE = "ppc64le",
  SCMP_ARCH_MIPS = false, SCMP_ARCH_MIPS64 = false, SCMP_ARCH_MIPS64N32 = false,
  SCMP_ARCH_MIPSEL = false, SCMP_ARCH_MIPSEL64 = false, SCMP_ARCH_MIPSEL64N32 = false,
  SCMP_ARCH_PPC = false, SCMP_ARCH_PPC64 = false, SCMP_ARCH_S390 = false,
  SCMP_ARCH_PARISC = false, SCMP_ARCH_PARISC64 = false, SCMP_ARCH_RISCV32 = false,
  SCMP_ARCH_SHEB = false, SCMP_ARCH_SH = false, SCMP_ARCH_M68K = false,
}
-- sx's arch names -> their bits in core.syscall_arches
local ARCH_BIT = {}
for i, arch in ipairs(core.arches()) do ARCH_BIT[arch] = 1 << (i - 1) end

local TO_SCMP_ARCH = {}
for scmp, arch in pairs(SCMP_ARCH) do if arch then TO_SCMP_ARCH[arch] = scmp end end
M.scmp_arch = TO_SCMP_ARCH

-- The names Docker's includes/excludes `arches` use (libseccomp-golang's arch strings).
local DOCKER_ARCH = {
  x86_64 = "amd64", i386 = "x86", x32 = "x32", aarch64 = "arm64", arm = "arm",
  riscv64 = "riscv64", loongarch64 = "loong64", s390x = "s390x", ppc64le = "ppc64le",
}
local DOCKER_ARCH_NAMES = {
  amd64 = true, x86 = true, x32 = true, arm64 = true, arm = true, riscv64 = true,
  loong64 = true, s390 = true, s390x = true, ppc = true, ppc64 = true, ppc64le = true,
  mips = true, mipsel = true, mips64 = true, mips64n32 = true, mipsel64 = true,
  mipsel64n32 = true, parisc = true, parisc64 = true, riscv32 = true,
}

-- Linux capabilities (linux/capability.h), for checking names in profiles and opts.caps.
local CAPS = {}
for name in ([[CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
  LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER
  SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE
  SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP
  MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF
  CHECKPOINT_RESTORE]]):gmatch("%S+") do
  CAPS["CAP_" .. name] = true
end

-- Docker's default capability set (what a container gets without --cap-add/--cap-drop).
M.default_caps = {
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
  "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

local ACTIONS = {
  SCMP_ACT_ALLOW = "allow", SCMP_ACT_KILL = "kill_thread", SCMP_ACT_KILL_THREAD = "kill_thread",
  SCMP_ACT_KILL_PROCESS = "kill_process", SCMP_ACT_TRAP = "trap", SCMP_ACT_LOG = "log",
  SCMP_ACT_NOTIFY = "notify", SCMP_ACT_ERRNO = "errno", SCMP_ACT_TRACE = "trace",
}

local OPS = {
  SCMP_CMP_NE = "ne", SCMP_CMP_LT = "lt", SCMP_CMP_LE = "le", SCMP_CMP_EQ = "eq",
  SCMP_CMP_GE = "ge", SCMP_CMP_GT = "gt", SCMP_CMP_MASKED_EQ = "masked_eq",
}

-- ---- errors --------------------------------------------------------------------------

local function bad(path, msg)
  local text = path ~= "" and (path .. ": " .. msg) or msg
  return error_.new("bad_profile", text, { path = path })
end

-- Validation runs inside pcall and throws this table; the API turns it into nil, err.
local Bad = {}
local function fail(path, msg, ...)
  if select("#", ...) > 0 then msg = fmt(msg, ...) end
  error(setmetatable({ path = path, msg = msg }, Bad), 0)
end

-- The paths of the elements of the lists every profile has, as "syscalls[12]", each made
-- once: the report keeps an entry's path, and an import would otherwise format them all.
-- (Indexes past 1024 are formatted at each use: a bound on what profiles leave behind.)
local function indexed_paths(form)
  return setmetatable({}, { __index = function(paths, i)
    local path = fmt(form, i)
    if i < 1024 then paths[i] = path end
    return path
  end })
end
local SYSCALLS_PATH, ARCH_MAP_PATH = indexed_paths("syscalls[%d]"), indexed_paths("archMap[%d]")
local ARGS_SUFFIX = indexed_paths(".args[%d]")

-- ---- JSON ------------------------------------------------------------------------------

-- lua-cjson reads every number as a double, which loses integers above 2^53. When the
-- decoded profile holds such a number (Docker's holds none), the text is decoded again
-- with the integer literals of 16 digits or more (outside strings) turned into strings
-- carrying a marker, and those back into exact Lua integers (values 2^63 and above as
-- negative two's complement, as everywhere in sx). decode() walks the tree to know;
-- to_rules reads the profile as cjson gives it and decodes again only when it meets such
-- a number.
local BIG = "\0sx-int:"

local function protect_big_numbers(text)
  local out, pos, last, n = {}, 1, 1, #text
  while pos <= n do
    local s = text:find('["%d]', pos)
    if not s then break end
    if text:byte(s) == 34 then            -- a string: skip to its closing quote
      local p = s + 1
      while true do
        local q = text:find('["\\]', p)
        if not q then return text end     -- unterminated: cjson will say so
        if text:byte(q) == 92 then p = q + 2 else pos = q + 1 break end
      end
    else
      local digits, after = text:match("^(%d+)()", s)
      local frac = text:find("^[%.eE]", after)
      if #digits >= 16 and not frac and text:sub(s - 1, s - 1) ~= "-" then
        out[#out + 1] = text:sub(last, s - 1)
        out[#out + 1] = '"\\u0000sx-int:' .. digits .. '"'
        last = after
      end
      pos = after
      if frac then pos = text:match("^[%.%deE+-]*()", after) end
    end
  end
  if last == 1 then return text end
  out[#out + 1] = text:sub(last)
  return concat(out)
end

-- "18446744073709551615" -> -1 (unsigned 64-bit in a Lua integer), nil when too big.
local function decimal_u64(digits)
  local v = 0
  for i = 1, #digits do
    local d = digits:byte(i) - 48
    -- v * 10 + d must stay below 2^64: compare against floor((2^64 - 1 - d) / 10)
    local limit = ((-1 - d) >> 1) // 5
    if ult(limit, v) then return nil end
    v = v * 10 + d
  end
  return v
end

-- Does the decoded tree hold a number that may have lost digits?
local function has_big_numbers(t)
  for _, v in pairs(t) do
    if type(v) == "table" then
      if has_big_numbers(v) then return true end
    elseif math_type(v) == "float" and (v >= 2^53 or v ~= v) then
      return true
    end
  end
  return false
end

local function restore_big_numbers(t)
  for k, v in pairs(t) do
    if type(v) == "table" then
      restore_big_numbers(v)
    elseif type(v) == "string" and v:sub(1, #BIG) == BIG then
      t[k] = decimal_u64(v:sub(#BIG + 1)) or 2.0^64   -- too big: a float, caught later
    end
  end
  return t
end

local json = cjson.new()
json.decode_invalid_numbers(false)   -- no NaN, Infinity or hexadecimal in JSON
json.decode_max_depth(100)

-- "at character 12" -> "line 2, column 3"
local function where_in(text, msg)
  local at = tointeger(tonumber(msg:match("at character (%d+)")))
  if not at then return msg end
  local line, col = 1, at
  for nl in text:sub(1, at - 1):gmatch("()\n") do line, col = line + 1, at - nl end
  return fmt("%s (line %d, column %d)", msg, line, col)
end

-- decode(text [, exact]) -> table (JSON null as cjson.null), or nil, err. Big integers
-- are exact unless exact == false (then they may be floats that lost digits).
local function decode(text, exact)
  if type(text) ~= "string" then
    return nil, bad("", "a profile is JSON text, got " .. type(text))
  end
  local ok, t = pcall(json.decode, text)
  if ok and exact ~= false and type(t) == "table" and has_big_numbers(t) then
    ok, t = pcall(json.decode, protect_big_numbers(text))
    if ok then t = restore_big_numbers(t) end
  end
  if not ok then
    local _, msg = pcall(json.decode, text)   -- the message's offsets for the real text
    msg = where_in(text, tostring(type(msg) == "string" and msg or t))
    if text:find("^%s*%-%-%-") or text:find("^%s*[%a_][%w_]*:") then
      msg = msg .. "; this looks like YAML, and sx reads JSON (for a SeccompProfile: " ..
            "kubectl get seccompprofile NAME -o json)"
    end
    return nil, bad("", "invalid JSON: " .. msg)
  end
  local what = t == cjson.null and "null" or type(t)
  if what == "table" and math_type(next(t)) == "integer" then what = "an array" end
  if what ~= "table" then
    return nil, bad("", "a profile is a JSON object, got " .. what)
  end
  return t
end

-- decode(text) -> table (JSON null as cjson.null, big integers exact), or nil, err.
function M.decode(text) return decode(text) end

-- ---- reading decoded JSON -------------------------------------------------------------

local NULL = cjson.null

-- What convert is reading, set as each convert starts (a Lua state runs one at a time):
-- cjson_shapes, a table cjson just made, whose arrays are sequences and whose objects have
-- string keys only, so their keys need no check (Docker's profile has some 450 names);
-- inexact_numbers, made with decode(text, false), so a number of 2^53 or more may have
-- lost digits, and meeting one means decoding again (INEXACT).
local cjson_shapes, inexact_numbers = false, false
local INEXACT = {}

-- (The readers of entries, which a profile has hundreds of, write this test out.)
local function is_absent(v) return v == nil or v == NULL end

local function json_type(v)
  if v == NULL then return "null" end
  local t = type(v)
  if t == "table" then
    local k = next(v)
    if k == nil then return "empty" end
    return math_type(k) == "integer" and "array" or "object"
  end
  return t
end

-- The readers below take a path and, where a field is read, its suffix (".names"): the
-- two are joined only for a message, as a profile has hundreds of names to read.
local function at(path, suffix) return suffix and path .. suffix or path end

local unknown_key = core.unknown_key

local function check_object(v, path, fields, suffix)
  -- an object of known fields, as all of a valid profile's are, costs one call
  if unknown_key(v, fields) == nil then return v end
  -- else what is wrong, for the message (the first key says array or object, as in
  -- json_type; the others are checked below)
  local k = type(v) == "table" and next(v)
  if k == false or math_type(k) == "integer" then
    fail(at(path, suffix), "expected an object, got %s", json_type(v))
  end
  for k in next, v do
    if not cjson_shapes and type(k) ~= "string" then
      fail(at(path, suffix), "expected an object, got an array")
    end
    if not fields[k] then
      path = at(path, suffix)
      local known = {}
      for f in pairs(fields) do known[#known + 1] = f end
      sort(known)
      fail(path == "" and k or (path .. "." .. k), "unknown field (known here: %s)", concat(known, ", "))
    end
  end
  return v
end

local NONE = {}

-- An array (a table whose keys are 1..#v); with `strings`, true when every element is a
-- string (and, with `nonempty`, not ""), which one pass finds out on the way.
local function check_array(v, path, suffix, strings, nonempty)
  if v == nil or v == NULL then return NONE end
  local is_table = type(v) == "table"
  -- a table cjson made that has a first element is an array (cjson's arrays are sequences,
  -- its objects have string keys only): its keys need no look
  if not (cjson_shapes and is_table and v[1] ~= nil) then
    local first = is_table and next(v)
    if first == nil then return v, true end
    if math_type(first) ~= "integer" then
      fail(at(path, suffix), "expected an array, got %s", json_type(v))
    end
    if not cjson_shapes then
      local n, all_strings = #v, strings
      for k, s in pairs(v) do
        if math_type(k) ~= "integer" or k < 1 or k > n then
          fail(at(path, suffix), "expected an array, got an object")
        end
        if strings and (type(s) ~= "string" or (nonempty and s == "")) then all_strings = false end
      end
      return v, all_strings
    end
  end
  if strings then
    for i = 1, #v do
      local s = v[i]
      if type(s) ~= "string" or (nonempty and s == "") then return v, false end
    end
  end
  return v, strings
end

local function check_string(v, path, suffix)
  if type(v) ~= "string" then fail(at(path, suffix), "expected a string, got %s", json_type(v)) end
  return v
end

-- A list of strings; with `nonempty`, of strings that are not "".
local function string_list(v, path, suffix, nonempty)
  local list, fine = check_array(v, path, suffix, true, nonempty)
  if fine then return list end
  for i = 1, #list do          -- the first one at fault, for the message
    local s = list[i]
    if type(s) ~= "string" then check_string(s, fmt("%s[%d]", at(path, suffix), i - 1)) end
    if nonempty and s == "" then fail(fmt("%s[%d]", at(path, suffix), i - 1), nonempty) end
  end
  return list
end

-- A JSON number that must be a non-negative integer below `limit` (nil: 2^64).
local function check_uint(v, path, limit, suffix)
  local n
  if math_type(v) == "integer" then
    n = v
  elseif math_type(v) == "float" then
    if v ~= v or v ~= floor(v) then fail(at(path, suffix), "expected an integer, got %s", tostring(v)) end
    if v < 0 then fail(at(path, suffix), "expected a non-negative integer, got %s", fmt("%.0f", v)) end
    if v >= 2^53 then
      if inexact_numbers then error(INEXACT, 0) end
      fail(at(path, suffix), "%s is too large for a 64-bit value or was written with a fraction " ..
           "or an exponent", fmt("%.17g", v))
    end
    n = tointeger(v)
  else
    fail(at(path, suffix), "expected a number, got %s", json_type(v))
  end
  if limit and (n < 0 or n >= limit) then
    fail(at(path, suffix), "%d is out of range (0..%d)", n, limit - 1)
  end
  return n
end

local function errno_value(v, path)
  if type(v) == "string" then
    local n = core.errno_number(v)
    if not n then fail(path, "unknown errno name %q", v) end
    return n
  end
  return check_uint(v, path, 65536)   -- SCMP_ACT_TRACE takes 16 bits, ERRNO is checked below
end

-- errnoRet (a number) and errno (a name) say one thing two ways: Docker and runc write
-- the number, containers/common (podman, CRI-O, buildah) writes both, with agreeing
-- values. Either alone is taken, and both when they agree; an empty name is absent (Go's
-- omitempty). Returns the number and the path it came from, or nothing.
local function errno_fields(t, ret_key, name_key, prefix)
  local ret_path, name_path = prefix .. ret_key, prefix .. name_key
  local ret, name
  if not is_absent(t[ret_key]) then ret = errno_value(t[ret_key], ret_path) end
  if not is_absent(t[name_key]) and t[name_key] ~= "" then
    name = errno_value(check_string(t[name_key], name_path), name_path)
  end
  if ret and name and ret ~= name then
    fail(name_path, "%q is errno %d, but %s is %d: they disagree (give one, or both alike)",
         t[name_key], name, ret_key, ret)
  end
  if ret then return ret, ret_path end
  if name then return name, name_path end
end

-- The kernel's value of each action make_action gives as a name (an entry's action is
-- compared by value, and most are "allow").
local KIND_VALUE = {}
for _, kind in pairs(ACTIONS) do KIND_VALUE[kind] = action.value(kind) end

-- The sx action for an SCMP_ACT_* name with its errno/trace data (errnoRet or errno), and
-- its value.
local function make_action(name, data, path, data_path, suffix)
  local kind = ACTIONS[name]
  if not kind then
    check_string(name, path, suffix)
    fail(at(path, suffix), "unknown action %q (SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, " ..
         "SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_TRACE, " ..
         "SCMP_ACT_LOG, SCMP_ACT_NOTIFY)", name)
  end
  -- runc: ERRNO and TRACE without a number use EPERM
  if kind == "errno" then
    if data and data > 4095 then fail(data_path, "errno %d is out of range (0..4095)", data) end
    local a = action.errno(data or 1)
    return a, action.value(a)
  end
  if kind == "trace" then
    local a = action.trace(data or 1)
    return a, action.value(a)
  end
  return kind, KIND_VALUE[kind]
end

-- ---- kernel version -----------------------------------------------------------------

local function parse_min_kernel(v, path)
  check_string(v, path)
  local a, b = v:match("^(%d+)%.(%d+)$")
  if not a then fail(path, "invalid kernel version %q, expected \"<kernel>.<major>\"", v) end
  a, b = tointeger(tonumber(a)), tointeger(tonumber(b))
  if a > 255 or b > 255 then fail(path, "invalid kernel version %q", v) end
  if a == 0 and b == 0 then fail(path, "invalid kernel version %q: cannot be 0.0", v) end
  return { a, b }
end

-- The release this process runs on, read once (it does not change under a process).
local kernel_release
local function running_kernel()
  if kernel_release == nil then
    local f = io_open("/proc/sys/kernel/osrelease")
    kernel_release = f and f:read("l") or false
    if f then f:close() end
  end
  return kernel_release or nil
end

local function kernel_at_least(have, want)
  return have[1] > want[1] or (have[1] == want[1] and have[2] >= want[2])
end

-- ---- options ----------------------------------------------------------------------------

local OPTIONS = { arch = true, arches = true, caps = true, kernel = true, bad_arch = true,
                  strict = true }

local function check_opts(opts, fname)
  opts = error_.check_options(opts, OPTIONS, fname)
  local caps = {}
  local list = opts.caps
  if list == nil then list = M.default_caps end
  if type(list) ~= "table" then error_.raise(fname .. ": opts.caps must be a list of capability names") end
  for _, c in ipairs(list) do
    if type(c) ~= "string" then error_.raise(fname .. ": opts.caps must be a list of capability names") end
    local name = c
    if not CAPS[name] then          -- not as the kernel's headers write it: "sys_admin"
      name = c:upper()
      if name:sub(1, 4) ~= "CAP_" then name = "CAP_" .. name end
      if not CAPS[name] then error_.raise(fmt("%s: unknown capability '%s'", fname, c)) end
    end
    caps[name] = true
  end
  local release = opts.kernel
  if release == nil then release = running_kernel() end
  local a, b = tostring(release):match("^(%d+)%.(%d+)")
  if not a then error_.raise(fmt("%s: opts.kernel must be a version such as \"6.1\", got %s", fname, tostring(release))) end
  return opts, caps, { tointeger(tonumber(a)), tointeger(tonumber(b)) }, release
end

-- ---- arches --------------------------------------------------------------------------------

-- The arch an SCMP_ARCH_* name stands for (false: one sx has no tables for); path (with
-- suffix, then [index] when given) says where it is. A known name costs a lookup: the
-- path is made only for a message.
local function scmp_arch(v, path, suffix, index)
  if v == "SCMP_ARCH_NATIVE" then return core.host_arch() or false end
  local a = SCMP_ARCH[v]
  if a ~= nil then return a end
  if index then path, suffix = fmt("%s[%d]", at(path, suffix), index), nil end
  check_string(v, path, suffix)
  fail(at(path, suffix), "unknown architecture %q (SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64, ...)", v)
end

local ARCH_MAP_FIELDS = { architecture = true, subArchitectures = true }

-- The filter's arches: from opts, else the host's plus what the profile adds.
local function resolve_arches(p, opts, report)
  -- check the profile's lists whatever they are used for; they are read again below, for
  -- the one that is used (archMap is read at every import: the checks make nothing)
  local listed = check_array(p.architectures, "architectures")
  for i, v in ipairs(listed) do scmp_arch(v, "architectures", nil, i - 1) end
  local map = check_array(p.archMap, "archMap")
  for i, e in ipairs(map) do
    local path = ARCH_MAP_PATH[i - 1]
    check_object(e, path, ARCH_MAP_FIELDS)
    scmp_arch(e.architecture, path, ".architecture")
    for j, s in ipairs(string_list(e.subArchitectures, path, ".subArchitectures")) do
      scmp_arch(s, path, ".subArchitectures", j - 1)
    end
  end
  if #listed > 0 and #map > 0 then
    fail("archMap", "both 'architectures' and 'archMap' are given; use one (Docker refuses both)")
  end

  if opts.arch ~= nil or opts.arches ~= nil then
    local arches, err = filter.target_arches(opts)
    if not arches then return nil, err end
    report.arches_from = "opts"
    return arches
  end
  local host = core.host_arch()
  if not host then
    return nil, error_.new("unsupported_arch", "this machine's architecture is not supported")
  end
  local out, seen = { host }, { [host] = true }
  local function add(name)
    local arch = scmp_arch(name)
    if arch == false then
      report.unsupported_arches[#report.unsupported_arches + 1] = name
    elseif not seen[arch] then
      seen[arch] = true
      out[#out + 1] = arch
    end
  end
  if #map > 0 then
    report.arches_from = "archMap"
    for _, e in ipairs(map) do
      if scmp_arch(e.architecture) == host then
        for _, s in ipairs(check_array(e.subArchitectures)) do add(s) end
        break
      end
    end
  elseif #listed > 0 then
    report.arches_from = "architectures"
    for _, v in ipairs(listed) do add(v) end
  else
    report.arches_from = "host"
  end
  return out
end

-- ---- includes / excludes --------------------------------------------------------------------

local FILTER_FIELDS = { caps = true, arches = true, minKernel = true }

-- The suffixes of an entry's includes / excludes and their fields, made once.
local FILTER_SUFFIXES = {}
for _, which in ipairs({ "includes", "excludes" }) do
  FILTER_SUFFIXES[which] = { self = "." .. which, caps = "." .. which .. ".caps",
                             arches = "." .. which .. ".arches" }
end

local function read_filter(v, path, which)
  if v == nil or v == NULL then return nil end
  local suffixes = FILTER_SUFFIXES[which]
  local suffix = suffixes.self
  check_object(v, path, FILTER_FIELDS, suffix)
  -- {}: no condition, as when absent (the object has no other fields: it was checked).
  -- Most give one list of the two: the other is not looked at.
  local caps, arches = v.caps, v.arches
  if caps == nil and arches == nil and v.minKernel == nil then return nil end
  local f = { caps = caps == nil and NONE or string_list(caps, path, suffixes.caps),
              arches = arches == nil and NONE or string_list(arches, path, suffixes.arches) }
  if #f.caps > 0 then
    for i, c in ipairs(f.caps) do
      if not CAPS[c] then fail(fmt("%s.caps[%d]", at(path, suffix), i - 1), "unknown capability %q", c) end
    end
  end
  if #f.arches > 0 then
    for i, a in ipairs(f.arches) do
      if not DOCKER_ARCH_NAMES[a] then
        fail(fmt("%s.arches[%d]", at(path, suffix), i - 1), "unknown architecture %q (Docker's names: amd64, x86, x32, arm64, arm, riscv64, loong64, s390x, ppc64le, ...)", a)
      end
    end
  end
  if v.minKernel ~= nil and v.minKernel ~= NULL and v.minKernel ~= "" then
    f.min_kernel = parse_min_kernel(v.minKernel, at(path, suffix) .. ".minKernel")
  end
  return f
end

local function contains(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end

-- nil when the entry applies, else why not.
local function excluded_by(inc, exc, ctx)
  if exc then
    if #exc.arches > 0 and contains(exc.arches, ctx.native) then
      return "excludes.arches has " .. ctx.native
    end
    for _, c in ipairs(exc.caps) do
      if ctx.caps[c] then return "excludes.caps: " .. c .. " is held" end
    end
    if exc.min_kernel and kernel_at_least(ctx.kernel, exc.min_kernel) then
      return fmt("excludes.minKernel: kernel %s is at least %d.%d", ctx.release, exc.min_kernel[1], exc.min_kernel[2])
    end
  end
  if inc then
    if #inc.arches > 0 and not contains(inc.arches, ctx.native) then
      return "includes.arches lacks " .. ctx.native
    end
    for _, c in ipairs(inc.caps) do
      if not ctx.caps[c] then return "includes.caps: " .. c .. " is not held" end
    end
    if inc.min_kernel and not kernel_at_least(ctx.kernel, inc.min_kernel) then
      return fmt("includes.minKernel: kernel %s is older than %d.%d", ctx.release, inc.min_kernel[1], inc.min_kernel[2])
    end
  end
  return nil
end

-- ---- syscall entries --------------------------------------------------------------------------

local ENTRY_FIELDS = { name = true, names = true, action = true, errnoRet = true, errno = true,
                       args = true, comment = true, includes = true, excludes = true }
local ARG_FIELDS = { index = true, value = true, valueTwo = true, op = true }

local function read_arg(a, path)
  check_object(a, path, ARG_FIELDS)
  if a.index == nil or a.index == NULL then fail(path .. ".index", "missing") end
  if a.op == nil or a.op == NULL then fail(path .. ".op", "missing") end
  local index = check_uint(a.index, path, 6, ".index")
  local op = OPS[check_string(a.op, path, ".op")]
  if not op then
    fail(path .. ".op", "unknown operator %q (SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, " ..
         "SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)", a.op)
  end
  local value = (a.value == nil or a.value == NULL) and 0 or check_uint(a.value, path, nil, ".value")
  local two = (a.valueTwo == nil or a.valueTwo == NULL) and 0 or check_uint(a.valueTwo, path, nil, ".valueTwo")
  if op == "masked_eq" then
    return { index = index, op = op, mask = value, value = two }
  end
  return { index = index, op = op, value = value }, two ~= 0
end

-- An entry's args, as the conditions of the rules it makes for each of its names: all of
-- them, in one rule; or, when an index repeats, each in a rule of its own (runc's old
-- behaviour, see the top). Nil when there are none: one unconditional rule.
local function read_args(list, path, report)
  local args, seen, repeated = {}, 0, false
  for i, a in ipairs(list) do
    local apath = path .. ARGS_SUFFIX[i - 1]
    local cond, two_ignored = read_arg(a, apath)
    if two_ignored then report.notes[#report.notes + 1] = apath .. ": valueTwo is only used by SCMP_CMP_MASKED_EQ" end
    local bit = 1 << cond.index          -- (the indexes seen, as bits: 0..5)
    if seen & bit ~= 0 then repeated = true end
    seen = seen | bit
    args[i] = cond
  end
  if #args == 0 then return nil end
  if not repeated then return { args } end
  local alts = {}
  for k, cond in ipairs(args) do alts[k] = { cond } end
  return alts
end

local function read_entry(e, path, report)
  check_object(e, path, ENTRY_FIELDS)
  local names, suffix
  if e.name ~= nil and e.name ~= NULL then
    if #check_array(e.names, path, ".names") > 0 then fail(path, "use 'name' or 'names', not both") end
    names, suffix = { e.name }, ".name"
  else
    names, suffix = check_array(e.names, path, ".names"), ".names"
  end
  if #names == 0 then fail(path .. ".names", "no syscall names") end
  -- the arches that have each name, one call for the list, which also finds a name that
  -- is not a string, or else the first that no arch has (as ""); the first name at fault
  -- is the one reported
  local masks, at = core.syscall_arches(names)
  local bad = not masks and at
  for i = masks and (at or #names + 1) or 1, (bad or #names + 1) - 1 do
    if names[i] == "" then fail(suffix == ".name" and path .. suffix or fmt("%s.names[%d]", path, i - 1),
                                "empty syscall name") end
  end
  if bad then
    check_string(names[bad], suffix == ".name" and path .. suffix or fmt("%s.names[%d]", path, bad - 1))
  end
  if e.action == nil or e.action == NULL then fail(path .. ".action", "missing") end
  local data, data_path
  if e.errnoRet ~= nil or e.errno ~= nil then
    data, data_path = errno_fields(e, "errnoRet", "errno", path .. ".")
  end
  local act, value = make_action(e.action, data, path, data_path, ".action")
  if data and e.action ~= "SCMP_ACT_ERRNO" and e.action ~= "SCMP_ACT_TRACE" then
    report.notes[#report.notes + 1] = path .. ": errnoRet ignored for " .. e.action
  end
  if e.comment ~= nil and e.comment ~= NULL then check_string(e.comment, path, ".comment") end
  local list = check_array(e.args, path, ".args")
  return {
    path = path, names = names, masks = masks, action = act, value = value,
    alts = #list > 0 and read_args(list, path, report) or nil,
    includes = read_filter(e.includes, path, "includes"),
    excludes = read_filter(e.excludes, path, "excludes"),
  }
end

-- ---- the conversion ------------------------------------------------------------------------------

local TOP_FIELDS = {
  defaultAction = true, defaultErrnoRet = true, defaultErrno = true, architectures = true,
  archMap = true, syscalls = true, flags = true, listenerPath = true, listenerMetadata = true,
  comment = true,
  -- the security-profiles-operator's SeccompProfile spec adds these
  baseProfileName = true, state = true, disabled = true,
}
local RESOURCE_FIELDS = { apiVersion = true, kind = true, metadata = true, spec = true, status = true }
local SPO_GROUP = "security-profiles-operator.x-k8s.io/"

-- Find the seccomp object: a profile; an OCI config.json's linux.seccomp; or the spec of
-- a Kubernetes SeccompProfile (the security-profiles-operator's resource, as JSON).
-- Returns it and the JSON path it sits at.
local function seccomp_object(t)
  if type(t) ~= "table" then return t, "" end
  if t.linux ~= nil or t.ociVersion ~= nil then
    if type(t.linux) ~= "table" or is_absent(t.linux.seccomp) then
      fail("linux.seccomp", "an OCI config without a seccomp profile")
    end
    return t.linux.seccomp, "linux.seccomp."
  end
  if t.kind ~= nil or t.apiVersion ~= nil then
    check_object(t, "", RESOURCE_FIELDS)
    if t.kind ~= "SeccompProfile" then
      fail("kind", "a Kubernetes %s is not a seccomp profile (SeccompProfile is)", tostring(t.kind))
    end
    local version = check_string(t.apiVersion, "apiVersion")
    if version:sub(1, #SPO_GROUP) ~= SPO_GROUP then
      fail("apiVersion", "%q is not the security-profiles-operator's (%s...)", version, SPO_GROUP)
    end
    if is_absent(t.spec) then fail("spec", "missing") end
    return t.spec, "spec."
  end
  return t, ""
end

-- The operator's own fields: a base profile it would union in, and whether it is on.
local function operator_fields(p, report)
  if not is_absent(p.baseProfileName) and check_string(p.baseProfileName, "baseProfileName") ~= "" then
    fail("baseProfileName", "%q: the operator unions a base profile into this one, which sx " ..
         "cannot fetch; import the profile the operator installed on the node (its status.path)",
         p.baseProfileName)
  end
  local off = false
  if not is_absent(p.disabled) then
    if type(p.disabled) ~= "boolean" then fail("disabled", "expected a boolean, got %s", json_type(p.disabled)) end
    off = p.disabled
  end
  if not is_absent(p.state) then
    local state = check_string(p.state, "state")
    if state ~= "Enabled" and state ~= "Disabled" then
      fail("state", "unknown state %q (Enabled, Disabled)", state)
    end
    off = off or state == "Disabled"
  end
  if off then
    report.notes[#report.notes + 1] = "the profile is disabled: the operator would not install it"
  end
end

-- ---- rules from entries ---------------------------------------------------------------------

-- An entry's conditional rules for one name, one for each of its alternatives (alts), at
-- the end of the name's list; with the entry's path, for the report, and its action's
-- value, to compare actions.
local function add_conditions(list, act, value, name, alts, path)
  for _, alt in ipairs(alts) do
    list[#list + 1] = { action = act, value = value, syscall = name, args = alt, path = path }
  end
  return list
end

-- The entries' rules, a slot for each name in the order names are first met: the name
-- itself for its unconditional rule (a rule table is made only for a caller that wants
-- one: see rule_tables and rule_runs), or the list of its conditional ones
-- (add_conditions). Returns the slots, their number, the indexes of those made for lists,
-- in order, and seen; or nil, err. Where a name stands is in seen[name]: nil before it is
-- met, false for a name no target arch has, its slot's index while it has conditional
-- rules only, and once an unconditional rule decides it, that rule's entry (whose action
-- the rule has). Docker's profile names some 400 syscalls: a name costs its key in seen.
-- (The arches that lack a name, for report.skipped, are the same at each of its meetings:
-- its first says.)
local function place_names(entries, arches, ctx, default_value, prefix, strict, report)
  local narches, want, bit, skipped = #arches, 0, {}, {}
  for a, arch in ipairs(arches) do
    bit[a] = ARCH_BIT[arch]
    want = want | bit[a]
  end
  local syscall_known, dropped = core.syscall_known, report.dropped
  -- room for every name at once: seen and slots would otherwise grow name by name
  local nnames = 0
  for i = 1, #entries do nnames = nnames + #entries[i].names end
  local seen, slots, nslots, conds = core.table(0, nnames), core.table(nnames, 0), 0, {}
  for _, e in ipairs(entries) do
    local path = prefix == "" and e.path or prefix .. e.path
    local why = excluded_by(e.includes, e.excludes, ctx)
    local value = e.value
    if why then
      report.excluded[#report.excluded + 1] = { path = path, names = e.names, reason = why }
    elseif value == default_value then
      dropped[#dropped + 1] = { path = path, names = e.names,
                                reason = "same action as defaultAction (runc skips it)" }
    else
      local act, names, masks, alts = e.action, e.names, e.masks, e.alts
      for k = 1, #names do
        local name = names[k]
        local have, at = masks[k] & want, seen[name]
        if at == nil then                      -- met for the first time
          if have ~= want then
            for a = 1, narches do
              if have & bit[a] == 0 then
                local list = skipped[a]
                if not list then list = {} skipped[a], report.skipped[arches[a]] = list, list end
                list[#list + 1] = name
              end
            end
          end
          if have == 0 then
            if not syscall_known(name) and strict then
              return nil, bad(path, fmt("unknown syscall %q", name))
            end
            seen[name] = false
            report.unknown[#report.unknown + 1] = { name = name, path = path,
                                                    known = syscall_known(name) }
          else                                 -- a slot of its own
            nslots = nslots + 1
            if alts then
              slots[nslots] = add_conditions({}, act, value, name, alts, path)
              seen[name] = nslots
              conds[#conds + 1] = nslots
            else
              slots[nslots], seen[name] = name, e
            end
          end
        elseif at == false then                -- no target arch has it: reported
        elseif type(at) == "table" then
          dropped[#dropped + 1] = { path = path, names = { name },
            reason = "an earlier unconditional entry (" .. prefix .. at.path .. ") decides it" }
        elseif alts then
          add_conditions(slots[at], act, value, name, alts, path)
        else                  -- it had conditional rules only: this one replaces them
          for _, r in ipairs(slots[at]) do
            dropped[#dropped + 1] = { path = r.path, names = { name },
              reason = "the unconditional entry " .. path .. " replaces it" }
          end
          slots[at], seen[name] = name, e
        end
      end
    end
  end
  return slots, nslots, conds, seen
end

-- Conditional entries of different actions that can match the same call: sx tries them
-- in the profile's order, libseccomp in its own tree's, so the report says so.
local function check_overlaps(list, report)
  local name = list[1].syscall
  if #list > 64 then
    report.notes[#report.notes + 1] = fmt("%s: %d conditional entries, not checked for overlaps",
                                          name, #list)
    return
  end
  for i = 1, #list do
    for j = i + 1, #list do
      local a, b = list[i], list[j]
      if a.value ~= b.value and export.overlap(a.args, b.args) then
        report.overlaps[#report.overlaps + 1] = { name = name, first = a.path, second = b.path }
      end
    end
  end
end

-- A conditional rule as the rules give it, with conditions of its own.
local function conditional_rule(r)
  local args = {}
  for k, cond in ipairs(r.args) do
    args[k] = { index = cond.index, op = cond.op, value = cond.value, mask = cond.mask }
  end
  return { action = r.action, syscall = r.syscall, args = args }
end

-- The rules: the slots, each list of conditional rules (at the indexes conds gives) in its
-- place. The slots become the rules where they are: the lists are spread from the last
-- one back, so each slot moves before anything is written over it, and the unconditional
-- rules (Docker's profile has some 360 of them) move only past a list.
local function with_conditions(slots, nslots, conds, report)
  local extra = 0                 -- the rules the lists add, past one a list
  for _, n in ipairs(conds) do
    local list = slots[n]
    if type(list) == "table" then -- (else a later unconditional rule replaced the list)
      check_overlaps(list, report)
      extra = extra + #list - 1
    end
  end
  for i = nslots + 1, nslots + extra do slots[i] = false end    -- (grown in order)
  local to, last = nslots + extra, nslots   -- where slot `last` goes
  for c = #conds, 1, -1 do
    local n = conds[c]
    local list = slots[n]
    if type(list) == "table" then
      if to ~= last then move(slots, n + 1, last, n + 1 + to - last) end
      to = to - (last - n)
      for j = #list, 1, -1 do
        slots[to] = conditional_rule(list[j])
        to = to - 1
      end
      last = n - 1
    end
  end
  return slots
end

-- What libseccomp adds on i386, ppc64le and s390x (sx.oci_export): a rule for socket,
-- semctl, ... also decides the multiplexer's call (socketcall(SYS_SOCKET, ...),
-- ipc(SEMCTL, ...)), with arg0 the call's number. Where the rule is stricter than the
-- default, sx gives the multiplexer's call its action whatever the other arguments (no
-- wider than libseccomp, which also tests them, on the wrong registers); a rule as
-- permissive as the default or more adds nothing (no wider either). A profile with rules
-- of its own for the multiplexer gets none added: those decide it. rules are as
-- with_conditions leaves them: a name (its entry in seen) or a conditional rule.
local function with_multiplexers(rules, seen, arches, default_value, report)
  local mux_arch
  for _, a in ipairs(arches) do
    if doors.ARCHES[a] and core.syscall_number("socketcall", a) then mux_arch = a end
  end
  if not mux_arch then return rules end
  local SUBCALL, candidates, own = doors.SUBCALL, {}, {}
  for i = 1, #rules do
    local r = rules[i]
    local name = type(r) == "string" and r or r.syscall
    if SUBCALL[name] then candidates[#candidates + 1] = r
    elseif name == "socketcall" or name == "ipc" then own[name] = true end   -- (then they decide)
  end
  local derived, made, default_rank = {}, {}, action.rank(default_value)
  local last_action, last_value      -- (an entry's rules share its action: one lookup)
  for _, r in ipairs(candidates) do
    local name = type(r) == "string" and r or r.syscall
    local act = type(r) == "string" and seen[r].action or r.action
    local sub = SUBCALL[name]
    if act ~= last_action then last_action, last_value = act, action.value(act) end
    local value = not own[sub[1]] and last_value
    if value and action.rank(value) < default_rank then
      local d = made[name]                         -- one rule a call: the most restrictive
      if not d then
        -- (ipc's call keeps a version in its upper 16 bits, which the kernel drops)
        d = { syscall = sub[1], args = { sub[1] == "ipc"
              and { index = 0, op = "masked_eq", mask = 0xffff, value = sub[2] }
              or { index = 0, op = "eq", value = sub[2] } } }
        made[name] = d
        derived[#derived + 1] = d
        report.notes[#report.notes + 1] = fmt("%s(%d, ...) on %s takes the action of '%s' " ..
          "(libseccomp's filter does so too)", sub[1], sub[2], mux_arch, name)
      end
      if not d.action or action.rank(value) < action.rank(action.value(d.action)) then
        d.action = act
      end
    end
  end
  for _, d in ipairs(derived) do rules[#rules + 1] = d end
  return rules
end

-- Whether some entry's action is stricter than the default action: with_multiplexers adds
-- rules only for such, and is spared its look at every rule when there are none (as in
-- Docker's profile, which allows and denies by default).
local function any_stricter(entries, default_value)
  local default_rank = action.rank(default_value)
  for i = 1, #entries do
    if action.rank(entries[i].value) < default_rank then return true end
  end
  return false
end

-- convert(profile, ..., text): text is what profile was decoded from with decode(text,
-- false), to decode again exactly when a big number is met.
local function convert(profile, opts, caps, kernel, release, text)
  cjson_shapes, inexact_numbers = text ~= nil, text ~= nil
  local report = {
    excluded = {}, skipped = {}, unknown = {}, dropped = {}, unsupported_arches = {}, notes = {},
    overlaps = {},
    caps = caps, kernel = release,
  }
  local prefix = ""
  local ok, a, b, c = pcall(function()
    local p
    p, prefix = seccomp_object(profile)
    check_object(p, prefix:sub(1, -2), TOP_FIELDS)
    operator_fields(p, report)
    if is_absent(p.defaultAction) then fail("defaultAction", "missing") end
    local ddata, dpath = errno_fields(p, "defaultErrnoRet", "defaultErrno", "")
    local default = make_action(p.defaultAction, ddata, "defaultAction", dpath)
    if ddata and p.defaultAction ~= "SCMP_ACT_ERRNO" and p.defaultAction ~= "SCMP_ACT_TRACE" then
      report.notes[#report.notes + 1] = dpath .. ": ignored for " .. p.defaultAction
    end
    for i, flag in ipairs(string_list(p.flags, "flags")) do
      report.notes[#report.notes + 1] = fmt("flags[%d]: %s is the runtime's business, ignored", i - 1, flag)
    end
    if not is_absent(p.listenerPath) then check_string(p.listenerPath, "listenerPath") end
    if not is_absent(p.listenerMetadata) then check_string(p.listenerMetadata, "listenerMetadata") end
    if not is_absent(p.comment) then check_string(p.comment, "comment") end
    local entries = {}
    for i, e in ipairs(check_array(p.syscalls, "syscalls")) do
      entries[i] = read_entry(e, SYSCALLS_PATH[i - 1], report)
    end
    local arches, err = resolve_arches(p, opts, report)
    if not arches then return nil, err end
    return default, entries, arches
  end)
  if not ok then
    if a == INEXACT then             -- a big number: read it all again, every digit kept
      local exact, err = decode(text)
      if not exact then return nil, err end
      return convert(exact, opts, caps, kernel, release)
    end
    if getmetatable(a) == Bad then
      local path = a.path
      if prefix ~= "" and path ~= "" and path:sub(1, #prefix) ~= prefix then path = prefix .. path end
      return nil, bad(path, a.msg)
    end
    error(a, 0)
  end
  if a == nil then return nil, b end
  local default, entries, arches = a, b, c
  report.arches = arches
  local native = arches[1]
  report.native = native
  local ctx = { native = DOCKER_ARCH[native], caps = caps, kernel = kernel, release = release }
  local default_value = action.value(default)

  local slots, nslots, conds, seen = place_names(entries, arches, ctx, default_value, prefix,
                                                 opts.strict, report)
  if not slots then return nil, nslots end
  local rules = #conds > 0 and with_conditions(slots, nslots, conds, report) or slots
  if any_stricter(entries, default_value) then
    rules = with_multiplexers(rules, seen, arches, default_value, report)
  end
  return rules, seen, default, { arches = arches, bad_arch = opts.bad_arch }, report
end

-- The rules convert gives (a name for an unconditional rule, decided by the entry
-- seen[name]) as to_rules gives them: a table a rule.
local function rule_tables(rules, seen)
  for i = 1, #rules do
    local r = rules[i]
    if type(r) == "string" then rules[i] = { action = seen[r].action, syscall = r } end
  end
  return rules
end

-- The same rules as import compiles them: each run of unconditional rules of one action
-- (an entry's names, mostly) one rule with a list of syscalls, which from_rules reads as
-- a rule a name, in order: the same filter, without a table a name.
local function rule_runs(rules, seen)
  local out, i, n = {}, 1, #rules
  while i <= n do
    local e = seen[rules[i]]          -- (nil for a conditional rule, a table)
    if not e then
      out[#out + 1] = rules[i]
      i = i + 1
    else
      local act, j = e.action, i + 1
      local next_e = seen[rules[j]]   -- (rules[n + 1] is nil: so is seen[nil])
      while next_e and (next_e == e or next_e.action == act) do
        j = j + 1
        next_e = seen[rules[j]]
      end
      out[#out + 1] = { act, move(rules, i, j - 1, 1, core.table(j - i, 0)) }
      i = j
    end
  end
  return out
end

-- convert's answer for a profile (JSON text or a decoded table) and the caller's opts.
local function read_profile(profile, opts, fname)
  local caps, kernel, release
  opts, caps, kernel, release = check_opts(opts, fname)
  if type(profile) == "string" then
    local t, err = decode(profile, false)
    if not t then return nil, err end
    return convert(t, opts, caps, kernel, release, profile)
  elseif type(profile) ~= "table" then
    return nil, bad("", "a profile is JSON text or a decoded table, got " .. type(profile))
  end
  return convert(profile, opts, caps, kernel, release)
end

-- to_rules(profile [, opts]) -> rules, default, build_opts, report | nil, err
function M.to_rules(profile, opts)
  local rules, seen, default, build, report = read_profile(profile, opts, "oci.to_rules")
  if not rules then return nil, seen end
  return rule_tables(rules, seen), default, build, report
end

-- import(profile [, opts]) -> filter, report | nil, err
function M.import(profile, opts)
  local rules, seen, default, build, report = read_profile(profile, opts, "oci.import")
  if not rules then return nil, seen end
  local f, err = seccomp.from_rules(rule_runs(rules, seen), default, build)
  if not f then
    -- an error counts rules as to_rules gives them (a profile that cannot compile, too big
    -- say, is rare: it pays for the tables)
    local _, terr = seccomp.from_rules(rule_tables(rules, seen), default, build)
    return nil, terr or err
  end
  return f, report
end

-- format_report(report [, source]) -> what the import left out and why, for people: one
-- line a fact, indented under a heading line ("sxlua summary --oci" prints it).
function M.format_report(r, source)
  local caps = {}
  for c in pairs(r.caps or {}) do caps[#caps + 1] = c end
  sort(caps)
  local out = {
    fmt("import of %s: arches %s (from %s), kernel %s", source or "the profile",
        concat(r.arches or {}, " "), r.arches_from or "?", tostring(r.kernel)),
    "  capabilities held: " .. (#caps > 0 and concat(caps, " ") or "none"),
  }
  local function names(list) return concat(list, " ") end
  for _, e in ipairs(r.excluded) do
    out[#out + 1] = fmt("  excluded %s (%s): %s", e.path, names(e.names), e.reason)
  end
  for _, e in ipairs(r.dropped) do
    out[#out + 1] = fmt("  dropped %s (%s): %s", e.path, names(e.names), e.reason)
  end
  for _, arch in ipairs(r.arches or {}) do
    local list = r.skipped[arch]
    if list and #list > 0 then
      out[#out + 1] = fmt("  skipped on %s, which has no such syscall (%d): %s", arch, #list, names(list))
    end
  end
  for _, u in ipairs(r.unknown) do
    out[#out + 1] = fmt("  unknown %s (%s): %s", u.name, u.path,
                        u.known and "no target arch has it" or "no arch sx knows has it")
  end
  for _, o in ipairs(r.overlaps) do
    out[#out + 1] = fmt("  overlap %s: %s and %s can match one call with different actions; " ..
                        "sx tries them in the profile's order, libseccomp may not", o.name, o.first, o.second)
  end
  if #r.unsupported_arches > 0 then
    out[#out + 1] = "  architectures sx does not build for, left out: " .. names(r.unsupported_arches)
  end
  for _, n in ipairs(r.notes) do out[#out + 1] = "  note: " .. n end
  if #out == 2 then out[#out + 1] = "  nothing was left out" end
  return concat(out, "\n") .. "\n"
end

-- export(filter [, opts]) -> JSON text, or nil, err
function M.export(f, opts)
  return export.export(f, opts, TO_SCMP_ARCH)
end

return M

-- sx.ffi: the sx C API through LuaJIT's FFI, for OpenResty and nginx's Lua module.
-- Plain Lua 5.1 with LuaJIT's ffi: no Lua C module is involved, only libsx.so.
--
--   local sx = require "sx.ffi"
--   local f = assert(sx.deny_list({ "execve", "execveat", "ptrace", "mount" }))
--   assert(sx.install(f))                       -- this process, every thread
--
-- Actions are strings: "allow", "kill_process", "kill_thread", "trap", "log", "notify",
-- "errno(EPERM)", "trace(N)". Argument values are numbers below 2^53, uint64_t cdata, or
-- strings ("0xffffffffffffffff", "-1"), because LuaJIT numbers are doubles.

local ffi = require "ffi"

local type, tostring, tonumber, ipairs, pairs, error, setmetatable =
  type, tostring, tonumber, ipairs, pairs, error, setmetatable
local format = string.format

ffi.cdef [[
struct sx_cond { unsigned index; int op; uint64_t mask; uint64_t value; };
struct sx_rule { uint32_t action; const char *syscall; long number; unsigned ncond;
                 const struct sx_cond *conds; };
struct sx_policy { const struct sx_rule *rules; size_t nrules; uint32_t default_action;
                   uint32_t bad_arch_action; const int *arches; size_t narches; };
struct sx_insn { uint16_t code; uint8_t jt, jf; uint32_t k; };
struct sx_program { struct sx_insn *insns; size_t len; };
struct sx_error { int code; long rule; long other; char message[256]; };
struct sx_data { int32_t nr; uint32_t arch; uint64_t instruction_pointer; uint64_t args[6]; };
struct sx_install_error { int code; int error; long tid; char message[256]; };
int sx_arch_from_name(const char *name);
int sx_arch_host(void);
const char *sx_arch_name(int arch);
uint32_t sx_arch_audit(int arch);
long sx_syscall_number(const char *name, int arch);
int sx_errno_from_name(const char *name);
size_t sx_action_format(uint32_t action, char *buf, size_t size);
const char *sx_status_name(int code);
int sx_op_from_name(const char *name);
int sx_compile(const struct sx_policy *policy, struct sx_program *out, struct sx_error *err);
void sx_program_free(struct sx_program *prog);
int sx_emulate(const struct sx_insn *insns, size_t len, const struct sx_data *data,
               uint32_t *action, size_t *executed);
int sx_install(const struct sx_insn *insns, size_t len, unsigned flags,
               struct sx_install_error *err);
]]

local function load_library()
  local path = package.searchpath and package.searchpath("sx.libsx", package.cpath)
  if not path then
    for dir in package.cpath:gmatch("([^;]*)%?%.so") do
      local candidate = dir .. "sx/libsx.so"
      local f = io.open(candidate)
      if f then f:close(); path = candidate; break end
    end
  end
  return ffi.load(path or "sx")
end

local C = load_library()

local M = {}

local RET = { kill_process = 0x80000000, kill_thread = 0, trap = 0x30000, errno = 0x50000,
              notify = 0x7fc00000, trace = 0x7ff00000, log = 0x7ffc0000, allow = 0x7fff0000 }
local INSTALL = { tsync = 1, log = 2, spec_allow = 4, keep_privs = 8, no_new_privs = 16 }

local Error = { __name = "sx.error" }
Error.__index = Error
Error.__tostring = function(e) return e.where and (e.where .. ": " .. e.message) or e.message end

local function where()
  for level = 3, 30 do
    local info = debug.getinfo(level, "Sl")
    if not info then return nil end
    if info.what ~= "C" and not info.source:find("sx[/\\]ffi%.lua$") and info.currentline > 0 then
      return info.short_src .. ":" .. info.currentline
    end
  end
end

local function fail(code, message, fields)
  local e = setmetatable({ code = code, message = message, where = where() }, Error)
  for k, v in pairs(fields or {}) do e[k] = v end
  return nil, e
end

-- The kernel value of an action string, or nil and why.
function M.action(a)
  if type(a) ~= "string" then return nil, "an action is a string such as \"allow\"" end
  local lower = a:lower()
  if RET[lower] and lower ~= "errno" and lower ~= "trace" then return RET[lower] end
  local kind, arg = a:match("^(%a+)%((.-)%)$")
  kind = kind and kind:lower()
  if kind == "errno" then
    local n = tonumber(arg) or C.sx_errno_from_name(arg:upper())
    if n and n >= 0 and n <= 4095 and n == math.floor(n) then return RET.errno + n end
    return nil, format("unknown errno '%s'", arg)
  elseif kind == "trace" then
    local n = tonumber(arg)
    if n and n >= 0 and n <= 0xffff and n == math.floor(n) then return RET.trace + n end
  end
  return nil, format("unknown action '%s'", a)
end

-- A 64-bit value as uint64_t from a number, a cdata or a numeric string.
function M.u64(v)
  if type(v) == "cdata" then return ffi.cast("uint64_t", v) end
  if type(v) == "number" then
    if v ~= math.floor(v) or v >= 2^53 or v <= -2^53 then
      return nil, format("%s is not exact here: give 64-bit values as strings", tostring(v))
    end
    return ffi.cast("uint64_t", ffi.cast("int64_t", v))
  end
  if type(v) ~= "string" then return nil, "an argument value is a number or a string" end
  local neg, body = v:match("^(%-?)(.+)$")
  local base, digits = 10, body
  if body:match("^0[xX]%x+$") then base, digits = 16, body:sub(3)
  elseif not body:match("^%d+$") then return nil, format("'%s' is not a number", v) end
  local n, limit = ffi.new("uint64_t", 0), ffi.cast("uint64_t", ffi.cast("int64_t", -1))
  for i = 1, #digits do
    local d = tonumber(digits:sub(i, i), 16)
    if n > (limit - d) / base then return nil, format("'%s' does not fit 64 bits", v) end
    n = n * base + d
  end
  if neg == "-" then n = ffi.new("uint64_t", 0) - n end
  return n
end

-- The length of a proper list, or nil and why not: a hole (a nil in the middle) or a
-- key that is not 1..n would make ipairs stop early and silently drop what follows.
local function list_length(t, what)
  if type(t) ~= "table" then return nil, what .. " must be a list" end
  local n, max = 0, 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k ~= math.floor(k) then
      return nil, format("%s must be a list, but has the key %s", what, tostring(k))
    end
    n = n + 1
    if k > max then max = k end
  end
  if n ~= max then
    local hole = 1
    while t[hole] ~= nil do hole = hole + 1 end
    return nil, format("%s has a hole: item %d of %d is nil", what, hole, max)
  end
  return n
end
M.list_length = list_length

local function arches_of(opts)
  local list = opts.arches or { opts.arch or ffi.string(C.sx_arch_name(C.sx_arch_host())) }
  local n, lmsg = list_length(list, "opts.arches")
  if not n or n == 0 then return nil, lmsg or "opts.arches is empty" end
  local ids = ffi.new("int[?]", #list)
  for i, name in ipairs(list) do
    local id = C.sx_arch_from_name(tostring(name))
    if id < 0 then return nil, format("unsupported architecture '%s'", tostring(name)) end
    ids[i - 1] = id
  end
  return ids, #list, list
end

local OPS = { eq = 0, ne = 1, lt = 2, le = 3, gt = 4, ge = 5, masked_eq = 6 }

local Filter = {}
Filter.__index = Filter

-- A rule whose syscall is a list is a rule a name, in order, with its action and args
-- (as in sx.seccomp). Returns the rules one a name and the caller's rule number of each,
-- or nil, err.
local function spread(rules, nrules)
  local flat, row_of = {}, {}
  for i = 1, nrules do
    local r = rules[i]
    if type(r) ~= "table" then
      return fail("bad_rule", format("rule %d is a %s, not a table", i, type(r)), { rule = i })
    end
    local syscall = r.syscall or r[2]
    if type(syscall) == "table" then
      local n, lmsg = list_length(syscall, "its list of syscalls")
      if not n or n == 0 then
        return fail("bad_rule", format("rule %d: %s", i, lmsg or "its list of syscalls is empty"),
                         { rule = i })
      end
      local action, args = r.action or r[1], r.args or r[3]
      for k = 1, n do
        flat[#flat + 1], row_of[#flat + 1] = { action, syscall[k], args }, i
      end
    else
      flat[#flat + 1], row_of[#flat + 1] = r, i
    end
  end
  return flat, row_of
end

-- from_rules(rules, default, opts): rules {action, "name"} or {action=, syscall=, args=};
-- a list of names in place of a name is a rule each.
function M.from_rules(rules, default, opts)
  opts = opts or {}
  local default_value, msg = M.action(default)
  if not default_value then return fail("bad_action", "default action: " .. msg) end
  local bad_arch, bmsg = M.action(opts.bad_arch or "kill_process")
  if not bad_arch then return fail("bad_action", "bad_arch action: " .. bmsg) end
  local arch_ids, narches, arch_names = arches_of(opts)
  if not arch_ids then return fail("unsupported_arch", narches) end
  local nrules, rmsg = list_length(rules, "rules")
  if not nrules then return fail("bad_rule", rmsg) end
  for i = 1, nrules do
    local r = rules[i]
    local args = type(r) == "table" and (r.args or r[3]) or nil
    if args ~= nil then
      local nargs, amsg = list_length(args, "args")
      if not nargs then return fail("bad_rule", format("rule %d: %s", i, amsg), { rule = i }) end
    end
  end
  local flat, row_of = spread(rules, nrules)
  if not flat then return nil, row_of end
  local crules = ffi.new("struct sx_rule[?]", #flat + 1)
  local keep = {}                         -- keeps cdata and strings alive while compiling
  for j, r in ipairs(flat) do
    local i = row_of[j]
    local act, syscall, args = r.action or r[1], r.syscall or r[2], r.args or r[3]
    local value, amsg = M.action(act)
    if not value then return fail("bad_action", format("rule %d: %s", i, amsg), { rule = i }) end
    local cr = crules[j - 1]
    cr.action = value
    if type(syscall) == "string" then cr.syscall = syscall; cr.number = -1
    elseif type(syscall) == "number" then cr.syscall = nil; cr.number = syscall
    else return fail("bad_rule", format("rule %d: syscall must be a name or a number", i)) end
    keep[#keep + 1] = syscall
    if args then
      local conds = ffi.new("struct sx_cond[?]", #args)
      keep[#keep + 1] = conds
      for c, cond in ipairs(args) do
        local op = OPS[cond.op]
        if not op or type(cond.index) ~= "number" then
          return fail("bad_rule", format("rule %d: condition %d needs an index and an op", i, c))
        end
        local v, vmsg = M.u64(cond.value)
        if not v then return fail("bad_rule", format("rule %d: condition %d: %s", i, c, vmsg)) end
        conds[c - 1].index, conds[c - 1].op, conds[c - 1].value = cond.index, op, v
        if op == OPS.masked_eq then
          local m, mmsg = M.u64(cond.mask)
          if not m then return fail("bad_rule", format("rule %d: condition %d: mask: %s", i, c, mmsg)) end
          conds[c - 1].mask = m
        end
      end
      cr.ncond, cr.conds = #args, conds
    end
  end
  local policy = ffi.new("struct sx_policy", crules, #flat, default_value, bad_arch, arch_ids, narches)
  local prog, err = ffi.new("struct sx_program"), ffi.new("struct sx_error")
  local st = C.sx_compile(policy, prog, err)
  if st ~= 0 then
    local index = tonumber(err.rule) >= 0 and tonumber(err.rule) + 1 or nil
    local r = index and flat[index]
    return fail(ffi.string(C.sx_status_name(st)), ffi.string(err.message),
                { rule = index and row_of[index], syscall = r and (r.syscall or r[2]) })
  end
  local bpf = ffi.string(prog.insns, tonumber(prog.len) * 8)
  C.sx_program_free(prog)
  return setmetatable({ bpf = bpf, arches = arch_names, rules = rules, default = default }, Filter)
end

local function names_to_rules(names, action)
  local n, msg = list_length(names, "the list of syscall names")
  if not n then return nil, msg end
  local rules, seen = {}, {}
  for i = 1, n do
    local name = names[i]
    if not seen[name] then seen[name] = true; rules[#rules + 1] = { action, name } end
  end
  return rules
end

function M.allow_list(names, opts)
  opts = opts or {}
  local rules, msg = names_to_rules(names, "allow")
  if not rules then return fail("bad_rule", msg) end
  return M.from_rules(rules, opts.default or "kill_process", opts)
end

function M.deny_list(names, opts)
  opts = opts or {}
  local rules, msg = names_to_rules(names, opts.deny_action or "errno(EPERM)")
  if not rules then return fail("bad_rule", msg) end
  return M.from_rules(rules, opts.default or "allow", opts)
end

-- syscall_number(name [, arch]) -> the kernel's number (x32 with its bit), or nil
function M.syscall_number(name, arch)
  local id = C.sx_arch_from_name(arch or ffi.string(C.sx_arch_name(C.sx_arch_host())))
  local nr = tonumber(C.sx_syscall_number(name, id))
  if id < 0 or nr < 0 then return nil end
  return (arch == "x32") and nr + 0x40000000 or nr
end

local function action_string(value)
  local buf = ffi.new("char[48]")
  C.sx_action_format(value, buf, 48)
  return ffi.string(buf)
end

-- f:eval(name_or_number [, args [, arch]]) -> action string, instructions executed
function Filter:eval(syscall, args, arch)
  arch = arch or self.arches[1]
  local id = C.sx_arch_from_name(arch)
  local nr = type(syscall) == "number" and syscall or tonumber(C.sx_syscall_number(syscall, id))
  if not nr or nr < 0 then return fail("unknown_syscall", format("no syscall '%s' on %s", tostring(syscall), arch)) end
  if arch == "x32" and nr < 0x40000000 then nr = nr + 0x40000000 end
  local data = ffi.new("struct sx_data")
  data.nr, data.arch = nr, C.sx_arch_audit(id)
  for i = 1, 6 do
    if args and args[i] ~= nil then data.args[i - 1] = assert(M.u64(args[i])) end
  end
  local action, executed = ffi.new("uint32_t[1]"), ffi.new("size_t[1]")
  C.sx_emulate(ffi.cast("const struct sx_insn *", self.bpf), #self.bpf / 8, data, action, executed)
  return action_string(action[0]), tonumber(executed[0])
end

function Filter:__tostring()
  return format("sx.filter<%s %d BPF insns>", table.concat(self.arches, "+"), #self.bpf / 8)
end

-- install(f [, opts]) on this process: opts.tsync (default true), log, spec_allow,
-- no_new_privs (true: always; false: never; nil: when the process lacks CAP_SYS_ADMIN).
function M.install(f, opts)
  opts = opts or {}
  local host = ffi.string(C.sx_arch_name(C.sx_arch_host()))
  local covers = false
  for _, a in ipairs(f.arches) do covers = covers or a == host end
  if not covers then
    return fail("unsupported_arch", format("this filter is for %s but this process runs on %s",
                                           table.concat(f.arches, ", "), host))
  end
  local flags = 0
  if opts.tsync ~= false then flags = flags + INSTALL.tsync end
  if opts.log then flags = flags + INSTALL.log end
  if opts.spec_allow then flags = flags + INSTALL.spec_allow end
  if opts.no_new_privs == true then flags = flags + INSTALL.no_new_privs
  elseif opts.no_new_privs == false then flags = flags + INSTALL.keep_privs end
  local err = ffi.new("struct sx_install_error")
  local st = C.sx_install(ffi.cast("const struct sx_insn *", f.bpf), #f.bpf / 8, flags, err)
  if st == 0 then return true end
  return fail(ffi.string(C.sx_status_name(st)), ffi.string(err.message),
              { errno = err.error, tid = tonumber(err.tid) ~= 0 and tonumber(err.tid) or nil })
end

return M

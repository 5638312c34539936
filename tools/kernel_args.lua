-- tools/kernel_args.lua: syscall argument names and widths read from a kernel source tree,
-- for the architectures data/syscall-args.tsv (kafel's tables) does not cover.
--
--   lua5.4 tools/kernel_args.lua LINUX_SRC data/syscall-protos-late.tsv data/syscalls.tsv \
--     x86_64 aarch64 riscv64 loongarch64 s390x ppc64le i386 arm > data/syscall-args-kernel.tsv
--   lua5.4 tools/kernel_args.lua --check LINUX_SRC LATE SYSCALLS data/syscall-args.tsv ARCH...
--
-- The first form writes rows in syscall-args.tsv's format (arch, the kernel's function,
-- number, arg0..arg5 as name:width). --check lists where these rows and kafel's
-- (syscall-args.tsv) disagree on an arch both cover. Syscalls newer than the tree come from
-- syscall-protos-late.tsv (their parameters) and syscalls.tsv (their numbers).
--
-- How: an arch's syscall table (the kernel's syscall.tbl for it, its 64-bit ABIs; i386's
-- and arm's EABI for those two) names the function each number enters; that function's SYSCALL_DEFINEn(name, type, arg, ...)
-- in the tree (generic code, or the arch's own directory) gives the parameters. A
-- parameter's width is what its type is in a 64-bit kernel, which casts the register to
-- it (include/linux/syscalls.h, __SC_CAST): pointers, longs, size_t, loff_t and u64s 8,
-- ints, enums, pid_t, uid_t and u32s 4, umode_t and u16s 2; another type is written as
-- width 0 (unknown: compared on all 64 bits). A number whose function has no
-- definition, or several the tree chooses between by configuration that this reader does
-- not decide (ARCH_CONFIG below), or a parameter of a type not listed here, gets no row
-- or no width: it stays unknown, compared on all 64 bits, as before.
--
-- On the 32-bit ABIs (i386, arm) every register is 32 bits: a pointer, a long or a size_t
-- is 4 bytes there, and a parameter of a 64-bit type (loff_t, u64) takes two registers
-- (on arm an even-numbered pair), so it and every parameter after it are written as '-':
-- which registers they take is the entry's business, not a prototype's. Those rows are
-- for the calls kafel's tables lack (tools/gen_syscall_args.lua takes them only there).

local TABLES = {   -- file, the ABIs of the 64-bit arch, the column of its entry point
  loongarch64 = { "scripts/syscall.tbl", { common = true, ["64"] = true }, 4 },
  x86_64 = { "arch/x86/entry/syscalls/syscall_64.tbl", { common = true, ["64"] = true }, 4 },
  aarch64 = { "arch/arm64/tools/syscall_64.tbl", { common = true, ["64"] = true, renameat = true,
                                                  rlimit = true, memfd_secret = true }, 4 },
  riscv64 = { "scripts/syscall.tbl", { common = true, ["64"] = true, riscv = true, rlimit = true,
                                       memfd_secret = true }, 4 },
  s390x = { "arch/s390/kernel/syscalls/syscall.tbl", { common = true, ["64"] = true }, 4 },
  ppc64le = { "arch/powerpc/kernel/syscalls/syscall.tbl", { common = true, ["64"] = true,
                                                            nospu = true }, 4 },
  i386 = { "arch/x86/entry/syscalls/syscall_32.tbl", { i386 = true }, 4 },
  arm = { "arch/arm/tools/syscall.tbl", { common = true, eabi = true }, 4 },
}
local ABI32 = { i386 = true, arm = true }
local ARCH_DIR = { x86_64 = "arch/x86/", aarch64 = "arch/arm64/", riscv64 = "arch/riscv/",
                   loongarch64 = "arch/loongarch/",
                   s390x = "arch/s390/", ppc64le = "arch/powerpc/", i386 = "arch/x86/",
                   arm = "arch/arm/" }
-- The configuration symbols that choose between definitions of one syscall (kernel/fork.c's
-- clone), as each arch's Kconfig selects them for its 64-bit kernel.
local ARCH_CONFIG = {
  x86_64 = {},
  aarch64 = { CONFIG_CLONE_BACKWARDS = true },
  riscv64 = { CONFIG_CLONE_BACKWARDS = true },
  loongarch64 = {},
  s390x = { CONFIG_CLONE_BACKWARDS2 = true },
  ppc64le = { CONFIG_CLONE_BACKWARDS = true },
  i386 = { CONFIG_CLONE_BACKWARDS = true },
  arm = { CONFIG_CLONE_BACKWARDS = true },
}
local DECIDES = { CONFIG_CLONE_BACKWARDS = true, CONFIG_CLONE_BACKWARDS2 = true,
                  CONFIG_CLONE_BACKWARDS3 = true }

local WIDTH = {}
for _, t in ipairs { "long", "unsigned long", "size_t", "ssize_t", "loff_t", "off_t", "u64",
                     "__u64", "s64", "__s64", "uint64_t", "int64_t", "aio_context_t",
                     "cap_user_header_t", "cap_user_data_t", "__kernel_old_time_t",
                     "unsigned long long", "long long", "uintptr_t", "__sighandler_t" } do
  WIDTH[t] = 8
end
for _, t in ipairs { "int", "unsigned int", "unsigned", "u32", "__u32", "s32", "__s32",
                     "uint32_t", "int32_t", "pid_t", "uid_t", "gid_t", "qid_t", "key_t",
                     "key_serial_t", "mqd_t", "timer_t", "clockid_t", "rwf_t",
                     "__kernel_rwf_t", "uint" } do WIDTH[t] = 4 end
for _, t in ipairs { "umode_t", "u16", "__u16", "unsigned short", "short", "old_uid_t",
                     "old_gid_t" } do WIDTH[t] = 2 end

local function fail(msg)
  io.stderr:write("kernel_args: ", msg, "\n")
  os.exit(1)
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- syscall-protos-late.tsv: { {name =, params = { {type =, name =}... }}... }
local function read_late(path)
  local out = {}
  for line in io.lines(path) do
    if not line:find("^#") and not line:find("^name\t") then
      local f = {}
      for c in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = c end
      local params = {}
      for k = 3, #f do
        local t, n = f[k]:match("^(.-)|([%w_]+)$")
        if not t then fail(path .. ": bad parameter " .. f[k]) end
        params[#params + 1] = { type = t, name = n }
      end
      out[#out + 1] = { name = f[1], params = params }
    end
  end
  return out
end

-- syscalls.tsv: arch -> name -> number.
local function read_numbers(path)
  local out, columns = {}, nil
  for line in io.lines(path) do
    if not line:find("^#") then
      local f = {}
      for c in line:gmatch("[^\t]+") do f[#f + 1] = c end
      if not columns then
        columns = f
        for i = 2, #f do out[f[i]] = {} end
      else
        for i = 2, #f do out[columns[i]][f[1]] = math.tointeger(tonumber(f[i])) end
      end
    end
  end
  return out
end

-- number -> entry point for the arch: its syscall table's, and the late ones' numbers
-- (syscalls.tsv) that the table does not have yet.
local function syscall_table(src, arch, late, numbers)
  local t = TABLES[arch] or fail("no syscall table known for " .. arch)
  local text = read(src .. "/" .. t[1]) or fail("cannot read " .. src .. "/" .. t[1])
  local out = {}
  for line in text:gmatch("[^\n]+") do
    if not line:find("^%s*#") then
      local f = {}
      for w in line:gmatch("%S+") do f[#f + 1] = w end
      local nr = math.tointeger(tonumber(f[1]))
      if nr and t[2][f[2]] and f[t[3]] then
        out[nr] = { name = f[3], entry = f[t[3]] }
      end
    end
  end
  for _, l in ipairs(late) do
    local nr = (numbers[arch] or fail("syscalls.tsv has no column " .. arch))[l.name]
    if nr and not out[nr] then out[nr] = { name = l.name, entry = "sys_" .. l.name } end
  end
  return out
end

-- Types of 64 bits on every ABI: two registers on a 32-bit one.
local TWO_REGISTERS = {}
for _, t in ipairs { "loff_t", "u64", "__u64", "s64", "__s64", "uint64_t", "int64_t",
                     "unsigned long long", "long long" } do TWO_REGISTERS[t] = true end

-- The width of a parameter's C type in a 64-bit kernel, or nil; and whether it takes two
-- registers on a 32-bit ABI.
local function width_of(ctype)
  if ctype:find("%*") then return 8 end
  local t = " " .. ctype .. " "
  for _, q in ipairs { "const", "volatile", "__user", "signed", "__force" } do
    t = t:gsub("%s" .. q .. "%s", " ")
  end
  t = t:gsub("^%s+", ""):gsub("%s+$", ""):gsub("%s+", " ")
  if t:find("^enum ") then return 4 end          -- an enum is an int
  return WIDTH[t], TWO_REGISTERS[t]
end

-- Every SYSCALL_DEFINEn in the tree's C files: name -> list of
-- { file, params = { {type, name}... }, conds = { "CONFIG_X" = true/false ... } }.
local function definitions(src, late)
  local defs = {}
  for _, l in ipairs(late) do
    defs[l.name] = { { file = "(syscall-protos-late.tsv)", params = l.params, conds = {} } }
  end
  local list = io.popen("cd '" .. src .. "' && grep -rlE 'SYSCALL_DEFINE[0-6]\\(' --include='*.c' " ..
                        ". | grep -vE '^\\./(tools|samples|scripts|Documentation)/' | sort")
  for file in list:lines() do
    file = file:gsub("^%./", "")
    local text = read(src .. "/" .. file)
    local stack = {}           -- the #if conditions around a line: {symbol, value} or false
    local pos = 1
    for line in (text .. "\n"):gmatch("([^\n]*)\n") do
      local dir, rest = line:match("^%s*#%s*(%a+)%s*(.-)%s*$")
      if dir == "ifdef" then stack[#stack + 1] = { rest, true }
      elseif dir == "ifndef" then stack[#stack + 1] = { rest, false }
      elseif dir == "if" then
        local sym = rest:match("^defined%(?%s*([%w_]+)%s*%)?$") or rest:match("^IS_ENABLED%(([%w_]+)%)$")
        stack[#stack + 1] = sym and { sym, true } or false
      elseif dir == "elif" then
        local sym = rest:match("^defined%(?%s*([%w_]+)%s*%)?$") or rest:match("^IS_ENABLED%(([%w_]+)%)$")
        local top = stack[#stack]
        -- an #elif of one symbol after an #if of one: both known, else unknown
        stack[#stack] = (sym and top) and { sym, true, after = top } or false
      elseif dir == "else" then
        local top = stack[#stack]
        stack[#stack] = top and { top[1], not top[2], after = top.after } or false
      elseif dir == "endif" then
        stack[#stack] = nil
      end
      local n, body = line:match("^SYSCALL_DEFINE([0-6])%((.*)")
      if n then
        -- the whole macro call, to its closing parenthesis
        local start = text:find(line, pos, true)
        local depth, i, args = 0, text:find("(", start, true), nil
        for j = i, #text do
          local c = text:sub(j, j)
          if c == "(" then depth = depth + 1
          elseif c == ")" then
            depth = depth - 1
            if depth == 0 then args = text:sub(i + 1, j - 1) break end
          end
        end
        local parts = {}
        for p in (args:gsub("%s+", " ") .. ","):gmatch("%s*([^,]-)%s*,") do parts[#parts + 1] = p end
        local name = parts[1]
        local params = {}
        for k = 2, #parts - 1, 2 do params[#params + 1] = { type = parts[k], name = parts[k + 1] } end
        if #params ~= tonumber(n) then params = nil end      -- a macro we cannot read
        local conds = {}
        for _, c in ipairs(stack) do
          if c == false then conds = false break end
          local e = c
          conds[c[1]] = c[2]
          while e.after do                   -- the branches before an #elif, not taken
            e = e.after
            conds[e[1]] = not e[2]
          end
        end
        if not (defs[name] and defs[name][1].file == "(syscall-protos-late.tsv)") then
          defs[name] = defs[name] or {}
          table.insert(defs[name], { file = file, params = params, conds = conds })
        end
      end
      pos = pos + #line + 1
    end
  end
  list:close()
  return defs
end

local function same(a, b)
  if not a or not b or #a ~= #b then return false end
  for i = 1, #a do
    if a[i].type ~= b[i].type or a[i].name ~= b[i].name then return false end
  end
  return true
end

-- The definition of `name` that the arch builds: nil, or nil and why.
local function pick(defs, name, arch)
  local mine = {}
  for _, d in ipairs(defs[name] or {}) do
    local in_arch = d.file:find("^arch/")
    if not in_arch or d.file:sub(1, #ARCH_DIR[arch]) == ARCH_DIR[arch] then mine[#mine + 1] = d end
  end
  if #mine == 0 then return nil, "no definition" end
  local first, all_same = mine[1], true
  for i = 2, #mine do all_same = all_same and same(first.params, mine[i].params) end
  if all_same then return first.params and first or nil, "a macro it cannot read" end
  -- several that differ: the ones the arch's configuration builds, as far as the symbols
  -- that tell them apart are decided here (a symbol all of them share does not choose)
  local seen = {}
  for _, d in ipairs(mine) do
    if d.conds == false then return nil, "definitions under conditions it cannot read" end
    for sym in pairs(d.conds) do seen[sym] = true end
  end
  for sym in pairs(seen) do
    local first_value, differs = mine[1].conds[sym], false
    for _, d in ipairs(mine) do differs = differs or d.conds[sym] ~= first_value end
    if differs and not DECIDES[sym] then return nil, "definitions chosen by configuration (" .. sym .. ")" end
  end
  local chosen
  for _, d in ipairs(mine) do
    local ok = true
    for sym, want in pairs(d.conds) do
      if DECIDES[sym] then ok = ok and ((ARCH_CONFIG[arch][sym] or false) == want) end
    end
    if ok then
      if chosen and not same(chosen.params, d.params) then return nil, "two definitions" end
      chosen = d
    end
  end
  if not chosen then return nil, "definitions chosen by configuration" end
  return chosen
end

-- arch -> nr -> { {name, width} x6 }, and what was left out.
local function rows(src, arch, defs, late, numbers)
  local out, left = {}, {}
  for nr, e in pairs(syscall_table(src, arch, late, numbers)) do
    local entry = e.entry:match("^sys_(.+)$")
    if entry and entry ~= "ni_syscall" then
      local d, why = pick(defs, entry, arch)
      if d then
        local args, split = {}, false
        for i = 1, 6 do
          local p = d.params[i]
          local width, two = nil, false
          if p then width, two = width_of(p.type) end
          split = split or (ABI32[arch] and two)
          if ABI32[arch] and width then width = math.min(width, 4) end
          args[i] = p and not split and { name = p.name, width = width, type = p.type } or {}
        end
        out[nr] = { name = e.name, entry = e.entry, args = args }
      else
        left[#left + 1] = ("%s %d %s: %s"):format(arch, nr, e.entry, why)
      end
    end
  end
  return out, left
end

-- name:width; name:0 for a parameter of a type this reader does not know (said on stderr:
-- add the type to WIDTH).
local function cell(a)
  if not a.name then return "-" end
  if not a.width then io.stderr:write("unknown type: ", a.type, " ", a.name, "\n") end
  return a.name .. ":" .. (a.width or 0)
end

local function write_rows(src, arches, defs, late, numbers)
  print("# Syscall argument names and widths in bytes, per architecture, read from a Linux source tree by")
  print("# tools/kernel_args.lua (see it for how): to check kafel's tables and fill in what they lack.")
  print("# Facts only.")
  print("# Source: " .. (read(src .. "/Makefile") or ""):match("VERSION = (%d+)") .. "." ..
        (read(src .. "/Makefile") or ""):match("PATCHLEVEL = (%d+)") .. "." ..
        (read(src .. "/Makefile") or ""):match("SUBLEVEL = (%d+)") .. ". A parameter of a type the reader does not know is '-'.")
  print("arch\tsyscall\tnr\targ0\targ1\targ2\targ3\targ4\targ5")
  for _, arch in ipairs(arches) do
    local out, left = rows(src, arch, defs, late, numbers)
    local nrs = {}
    for nr in pairs(out) do nrs[#nrs + 1] = nr end
    table.sort(nrs)
    for _, nr in ipairs(nrs) do
      local r, cells = out[nr], {}
      for i = 1, 6 do cells[i] = cell(r.args[i]) end
      print(table.concat({ arch, r.entry:gsub("^sys_", ""), nr, table.concat(cells, "\t") }, "\t"))
    end
    for _, l in ipairs(left) do io.stderr:write("left out: ", l, "\n") end
  end
end

-- Where this reader and kafel's table disagree, for an arch both cover.
local function check(src, kafel, arches, defs, late, numbers)
  local theirs = {}
  for line in io.lines(kafel) do
    if not line:find("^#") and not line:find("^arch\t") then
      local f = {}
      for c in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = c end
      theirs[f[1] .. " " .. f[3]] = f
    end
  end
  for _, arch in ipairs(arches) do
    local out = rows(src, arch, defs, late, numbers)
    local agree, differ, missing = 0, 0, 0
    for nr, r in pairs(out) do
      local k = theirs[arch .. " " .. nr]
      if not k then missing = missing + 1
      else
        for i = 1, 6 do
          local mine = r.args[i].width and (r.args[i].width .. "") or "-"
          local their = k[3 + i] == "-" and "-" or k[3 + i]:match(":(%d+)$")
          if r.args[i].name and not r.args[i].width then mine = "?" end
          local their_name = k[3 + i]:match("^(.-):")
          if mine == their and r.args[i].name ~= their_name and their_name then
            print(("%s %d %s arg%d: named %s here, %s in kafel's"):format(arch, nr, r.entry, i - 1,
              tostring(r.args[i].name), their_name))
          end
          if mine == their then agree = agree + 1
          elseif mine == "?" then missing = missing + 1
          else
            differ = differ + 1
            print(("%s %d %s arg%d: %s (%s) here, %s in kafel's"):format(arch, nr, r.entry, i - 1,
              mine, tostring(r.args[i].type), k[3 + i]))
          end
        end
      end
    end
    print(("%s: %d arguments agree, %d differ, %d unknown here or there"):format(arch, agree, differ, missing))
  end
end

if arg[1] == "--check" then
  local src, late, numbers, kafel = arg[2], read_late(arg[3]), read_numbers(arg[4]), arg[5]
  check(src, kafel, { table.unpack(arg, 6) }, definitions(src, late), late, numbers)
else
  local src = arg[1] or fail("usage: kernel_args.lua LINUX_SRC LATE SYSCALLS ARCH...")
  local late, numbers = read_late(arg[2]), read_numbers(arg[3])
  write_rows(src, { table.unpack(arg, 4) }, definitions(src, late), late, numbers)
end

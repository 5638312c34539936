-- gen_syscall_args.lua: turns data/syscall-args.tsv (argument names and widths, kafel's)
-- and data/syscall-args-kernel.tsv (the same, read from a kernel tree) into
-- src/syscall_args.inc, joined with data/syscalls.tsv on (arch, number).
-- usage: lua5.4 tools/gen_syscall_args.lua data/syscalls.tsv data/syscall-args.tsv \
--          data/syscall-args-kernel.tsv data/x32-own-args.tsv data/effective-widths.tsv \
--          > src/syscall_args.inc
--
-- What the tables say per architecture and syscall number, argument by argument:
--   * the argument's name (the kernel's C parameter name), or none;
--   * its width in bytes as the kernel reads it (2, 4 or 8), or 0 when unknown.
-- Decisions made here, so the C side only looks things up:
--   * i386 and arm pass a 64-bit parameter (loff_t) in two registers (arm in an aligned
--     pair), so seccomp's argument N is no longer parameter N from there on: a row keeps
--     names and widths only for the parameters before its first 8-byte one (the kernel's
--     rows for them stop there already, or name the halves where the entry does: i386's
--     ia32_pread64 takes poslo and poshi).
--   * x32 enters the kernel through x86_64's functions for every number below 512 (the
--     "common" entries), so those get x86_64's row for the same number. Its own entries
--     (512 up) run the functions data/x32-own-args.tsv names (compat functions mostly),
--     with the widths it gives: the kernel casts each register to the parameter's type,
--     so a compat_long_t or compat_size_t is 32 bits there (compat_sys_ptrace reads
--     request's low 32 bits) where x86_64's long is 64. Their names are x86_64's where the
--     two functions take as many parameters (the same ones, spelt as kafel spells them, so
--     an argument named in a filter for both ABIs means one index), the file's otherwise
--     (preadv64 takes the position in one register where x86_64's preadv takes two). Every
--     x32 number from 512 up needs its row there: a new one is an error until it has one.
--   * A few parameters are read on fewer bits than declared (data/effective-widths.tsv:
--     an fd taken as unsigned long, then handed to fdget(unsigned int)): they get the
--     width the kernel reads, on every arch whose row has them.
-- Anything unexpected in the input (an unknown arch, a bad width, a row joined to a number
-- the syscall table does not have) is an error, so a changed table cannot silently shift.

local ARCHES = { "x86_64", "i386", "x32", "aarch64", "arm", "riscv64", "loongarch64", "s390x",
                 "ppc64le" }                                              -- enum sx_arch order
local KAFEL = { x86_64 = true, i386 = true, aarch64 = true, arm = true, riscv64 = true }
local KERNEL = { x86_64 = true, aarch64 = true, riscv64 = true, loongarch64 = true, s390x = true,
                 ppc64le = true, i386 = true, arm = true }
local SPLIT64 = { i386 = true, arm = true }
local X32_COMPAT_FROM = 512

local function fail(msg)
  io.stderr:write("gen_syscall_args: " .. msg .. "\n")
  os.exit(1)
end

local function rows_of(path)
  local out, lineno = {}, 0
  for line in assert(io.open(path)):lines() do
    lineno = lineno + 1
    if line:sub(1, 1) ~= "#" and line ~= "" then
      local fields = {}
      for field in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = field end
      out[#out + 1] = { lineno = lineno, fields = fields }
    end
  end
  return out
end

-- The rows of a table whose header has these columns where the reader expects them.
local function table_of(path, columns)
  local rows = rows_of(path)
  for name, i in pairs(columns) do
    if rows[1].fields[i] ~= name then fail(path .. ": unexpected header") end
  end
  return rows
end

-- syscalls.tsv: number -> name per arch, and name -> number.
local function read_numbers(path)
  local rows = rows_of(path)
  local header = rows[1].fields
  local col = {}
  for i, h in ipairs(header) do col[h] = i end
  local by_nr, by_name = {}, {}
  for _, arch in ipairs(ARCHES) do
    if not col[arch] then fail(path .. ": no column " .. arch) end
    by_nr[arch], by_name[arch] = {}, {}
  end
  for r = 2, #rows do
    local f = rows[r].fields
    for _, arch in ipairs(ARCHES) do
      local n = f[col[arch]]
      if n ~= "-" then
        n = math.tointeger(tonumber(n)) or fail(("%s:%d: bad number"):format(path, rows[r].lineno))
        by_nr[arch][n] = f[1]
        by_name[arch][f[1]] = n
      end
    end
  end
  return by_nr, by_name
end

-- A cell "name:width" -> {name =, width =}; "-" -> {} (no such argument); width 0 (the
-- kernel's reader did not know the type) -> {name =, unknown = true}.
local function argument(cell, at)
  if cell == nil then fail(at .. ": wrong number of columns") end
  if cell == "-" then return {} end
  local name, width = cell:match("^([%a_][%w_]*):(%d+)$")
  width = math.tointeger(tonumber(width))
  if not name or (width ~= 0 and width ~= 2 and width ~= 4 and width ~= 8) then
    fail(at .. ": bad argument " .. cell)
  end
  if width == 0 then return { name = name, unknown = true } end
  return { name = name, width = width }
end

-- syscall-args.tsv and syscall-args-kernel.tsv: per arch (of `arches`), number ->
-- { {name, width} x6, fn = the kernel's function } ({} for no such argument).
local function read_args(path, by_nr, arches)
  local rows = table_of(path, { arch = 1, nr = 3, arg0 = 4, arg5 = 9 })
  local out = {}
  for arch in pairs(arches) do out[arch] = {} end
  for r = 2, #rows do
    local f, at = rows[r].fields, ("%s:%d"):format(path, rows[r].lineno)
    local arch, nr = f[1], math.tointeger(tonumber(f[3]))
    if not arches[arch] then fail(at .. ": unknown arch " .. tostring(arch)) end
    if not nr then fail(at .. ": bad number") end
    if out[arch][nr] then fail(at .. ": a second row for " .. arch .. " " .. nr) end
    local args, split = { fn = f[2] }, false
    for i = 1, 6 do
      args[i] = argument(f[3 + i], at)
      if SPLIT64[arch] and args[i].width == 8 then split = true end
      if split then args[i] = {} end
    end
    -- rows for numbers the syscall table lacks (long-gone calls) describe nothing
    if by_nr[arch][nr] then out[arch][nr] = args end
  end
  return out
end

-- x32-own-args.tsv: name -> { {name, width} x6 }.
local function read_x32_own(path)
  local rows = table_of(path, { name = 1, entry = 2, arg0 = 3, arg5 = 8 })
  local out = {}
  for r = 2, #rows do
    local f, at = rows[r].fields, ("%s:%d"):format(path, rows[r].lineno)
    if out[f[1]] then fail(at .. ": a second row for " .. f[1]) end
    local args = { fn = f[2]:gsub("^sys_", "") }
    for i = 1, 6 do args[i] = argument(f[2 + i], at) end
    out[f[1]] = args
  end
  return out
end

-- Is a name of row a at another place in row b?
local function moved(a, b)
  for i = 1, 6 do
    for j = 1, 6 do
      if j ~= i and a[i].name and a[i].name == b[j].name then return true end
    end
  end
  return false
end

-- Do two rows take the same parameters: the same widths, and no name of one at another
-- place in the other (a name may be spelt differently: kafel's tables are older)?
local function alike(a, b)
  for i = 1, 6 do
    if not (a[i].unknown or b[i].unknown) and (a[i].width or 0) ~= (b[i].width or 0) then
      return false
    end
  end
  return not moved(a, b) and not moved(b, a)
end

-- Does kafel's row name other parameters than the kernel's (not a spelling, nor only a
-- width, nor parameters added since): one of its names elsewhere in the kernel's row, or
-- another name at a place where the widths differ too?
local function names_wrong(kafel, kernel)
  if moved(kafel, kernel) then return true end
  for i = 1, 6 do
    local n, k = kafel[i].name, kernel[i].name
    if n and k and n ~= k and kafel[i].width ~= kernel[i].width then return true end
  end
  return false
end

local function count(row)
  local n = 0
  for i = 1, 6 do if row[i].width then n = i end end
  return n
end

-- x32: x86_64's rows for the common entries; x32-own-args.tsv's for its own.
local function x32_rows(args, own, by_nr, by_name, own_path)
  local out = {}
  for nr, name in pairs(by_nr.x32) do
    if nr < X32_COMPAT_FROM then
      if by_name.x86_64[name] ~= nr then
        fail(("x32 %d (%s) is below %d but not x86_64's number for it"):format(nr, name,
             X32_COMPAT_FROM))
      end
      out[nr] = args.x86_64[nr]
    else
      local row = own[name] or fail(("%s: no row for x32's %s (%d): which function does it " ..
                                     "enter, with what parameters?"):format(own_path, name, nr))
      local native = args.x86_64[by_name.x86_64[name] or -1]
      local same = native and count(native) == count(row) and not moved(native, row) and
                   not moved(row, native)
      out[nr] = { fn = row.fn }
      for i = 1, 6 do
        out[nr][i] = { name = row[i].name and (same and native[i].name or row[i].name),
                       width = row[i].width }
      end
      own[name] = nil
    end
  end
  local extra = next(own)
  if extra then fail(own_path .. ": " .. extra .. " is no x32 syscall from 512 up") end
  return out
end

local function no_names(row)
  local out = { fn = row.fn }
  for i = 1, 6 do out[i] = { width = row[i].width } end
  return out
end

local function with_names(row, names)
  local out = { fn = row.fn }
  for i = 1, 6 do out[i] = { name = row[i].name and names[i].name, width = row[i].width } end
  return out
end

-- A kernel row that replaces kafel's keeps kafel's spelling of each parameter at the same
-- place and width (policies use kafel's names), unless a name moved.
local function spelt_like(k, kafel)
  if moved(kafel, k) or moved(k, kafel) then return k end
  local out = { fn = k.fn }
  for i = 1, 6 do
    local same = k[i].name and kafel[i].name and k[i].width == kafel[i].width
    out[i] = { name = same and kafel[i].name or k[i].name, width = k[i].width, unknown = k[i].unknown }
  end
  return out
end

-- A 32-bit ABI's kernel row for a call kafel's table lacks there, spelt as the same
-- function's 64-bit row where both take as many parameters and no name moves (its
-- widths are its own), so a name means one index in a filter for both.
local function spelt_as(k, theirs)
  if not theirs or count(theirs) ~= count(k) or moved(theirs, k) or moved(k, theirs) then
    return k
  end
  return with_names(k, theirs)
end

-- kafel's rows, checked against the kernel's (syscall-args-kernel.tsv, read from a kernel
-- tree: see tools/kernel_args.lua). Where both cover an arch, kafel's row stays where it
-- takes the same parameters as the kernel's (its names, which policies use, kept) and
-- gives way where it does not: for a few recent calls (futex_wait, statmount, mseal, ...)
-- kafel describes a prototype that changed before it was merged. i386 and arm rows of
-- kafel's for a function whose x86_64 row names other parameters lose their names (every
-- argument is 32 bits there anyway); where the kernel's rows cover those two they take
-- kafel's place as on the 64-bit arches, with kafel's spelling where it only spells a
-- parameter differently, and fill in the calls kafel lacks there (385 up on i386: the
-- time64 calls, clone3, openat2, ...) spelt as their 64-bit sibling's row (x86_64's for
-- i386, aarch64's for arm, the other where it lacks the function). Arches only the kernel's
-- rows cover take them, with kafel's spelling of the same function's parameters
-- (aarch64's row, else x86_64's) where the two take the same ones.
local function merge(args, kernel)
  local wrong = {}
  for _, arch in ipairs { "x86_64", "aarch64", "riscv64" } do
    for nr, k in pairs(kernel[arch] or {}) do
      local row = args[arch][nr]
      if not row or not alike(row, k) then
        if row and arch == "x86_64" and names_wrong(row, k) then wrong[row.fn] = true end
        args[arch][nr] = k
      end
    end
  end
  for _, arch in ipairs { "i386", "arm" } do
    for nr, row in pairs(args[arch]) do
      if wrong[row.fn] then args[arch][nr] = no_names(row) end
    end
  end
  -- each function's row on the 64-bit arches, the later arch's where both have it
  local function rows_by_fn(arches)
    local out = {}
    for _, arch in ipairs(arches) do
      for _, row in pairs(args[arch]) do out[row.fn] = row end
    end
    return out
  end
  local spelt = rows_by_fn { "x86_64", "aarch64" }
  local sibling = { i386 = rows_by_fn { "aarch64", "x86_64" }, arm = spelt }
  for _, arch in ipairs { "i386", "arm" } do
    for nr, k in pairs(kernel[arch] or {}) do
      local row = args[arch][nr]
      if not row then args[arch][nr] = spelt_as(k, sibling[arch][k.fn])
      elseif wrong[row.fn] or not alike(row, k) then args[arch][nr] = spelt_like(k, row) end
    end
  end
  for arch, rows in pairs(kernel) do
    if not args[arch] then
      args[arch] = {}
      for nr, k in pairs(rows) do
        local theirs = spelt[k.fn]
        args[arch][nr] = theirs and alike(theirs, k) and with_names(k, theirs) or k
      end
    end
  end
end

-- effective-widths.tsv: { {fn =, name =, width =, at =}... }
local function read_effective(path)
  local rows, out = table_of(path, { ["function"] = 1, parameter = 2, width = 3 }), {}
  for r = 2, #rows do
    local f, at = rows[r].fields, ("%s:%d"):format(path, rows[r].lineno)
    local width = math.tointeger(tonumber(f[3]))
    if width ~= 2 and width ~= 4 then fail(at .. ": bad width " .. tostring(f[3])) end
    out[#out + 1] = { fn = f[1], name = f[2], width = width, at = at }
  end
  return out
end

-- Narrow the parameters the kernel reads on fewer bits than it declares, on every arch
-- whose row has the function with that parameter. A row that matches nothing, or that
-- would widen one, is an error.
local function narrow(args, effective)
  for _, e in ipairs(effective) do
    local matched = false
    for _, arch in ipairs(ARCHES) do
      for _, row in pairs(args[arch]) do
        for i = 1, 6 do
          if row.fn == e.fn and row[i].name == e.name then
            if row[i].width and row[i].width < e.width then
              fail(("%s: %s's %s is %d bytes on %s already"):format(e.at, e.fn, e.name, row[i].width, arch))
            end
            row[i].width, row[i].unknown, matched = e.width, nil, true
          end
        end
      end
    end
    if not matched then fail(e.at .. ": no table has " .. e.fn .. " with " .. e.name) end
  end
end

local USAGE = "usage: gen_syscall_args.lua syscalls.tsv syscall-args.tsv syscall-args-kernel.tsv " ..
              "x32-own-args.tsv effective-widths.tsv"
local by_nr, by_name = read_numbers(assert(arg[1], USAGE))
local args = read_args(assert(arg[2], USAGE), by_nr, KAFEL)
merge(args, read_args(assert(arg[3], USAGE), by_nr, KERNEL))
args.x32 = x32_rows(args, read_x32_own(assert(arg[4], USAGE)), by_nr, by_name, arg[4])
narrow(args, read_effective(assert(arg[5], USAGE)))

-- every name once, sorted; index 0 is "no name"
local names, index = {}, {}
for _, arch in ipairs(ARCHES) do
  for _, row in pairs(args[arch]) do
    for i = 1, 6 do
      local n = row[i].name
      if n and not index[n] then index[n] = true; names[#names + 1] = n end
    end
  end
end
table.sort(names)
for i, n in ipairs(names) do index[n] = i end

local out = {
  "/* Generated by tools/gen_syscall_args.lua from syscalls.tsv, syscall-args.tsv, " ..
  "syscall-args-kernel.tsv, x32-own-args.tsv and effective-widths.tsv: do not edit. */",
  ("#define SX_ARG_NAMES %d"):format(#names + 1),
  "static const char *const arg_names[SX_ARG_NAMES] = {",
  '  "",',
}
for i = 1, #names, 6 do
  local line = {}
  for j = i, math.min(i + 5, #names) do line[#line + 1] = ('"%s"'):format(names[j]) end
  out[#out + 1] = "  " .. table.concat(line, ", ") .. ","
end
out[#out + 1] = "};"
out[#out + 1] = "/* number (x32 without its bit); names (arg_names index, 0: none) and widths in " ..
                "bytes (0: unknown) of arguments 0..5 */"
for _, arch in ipairs(ARCHES) do
  local numbers = {}
  for nr in pairs(args[arch]) do numbers[#numbers + 1] = nr end
  table.sort(numbers)
  out[#out + 1] = ("static const struct arg_row args_%s[%d] = {"):format(arch, #numbers)
  for _, nr in ipairs(numbers) do
    local row, ns, ws = args[arch][nr], {}, {}
    for i = 1, 6 do
      ns[i] = tostring(row[i].name and index[row[i].name] or 0)
      ws[i] = tostring(row[i].width or 0)
    end
    out[#out + 1] = ("  { %d, { %s }, { %s } },"):format(nr, table.concat(ns, ", "),
                                                           table.concat(ws, ", "))
  end
  out[#out + 1] = "};"
end
out[#out + 1] = "static const struct arg_table arg_tables[] = {"
for _, arch in ipairs(ARCHES) do
  out[#out + 1] = ("  { SX_ARCH_%s, args_%s, sizeof args_%s / sizeof *args_%s },")
                  :format(arch:upper(), arch, arch, arch)
end
out[#out + 1] = "};"
io.write(table.concat(out, "\n"), "\n")

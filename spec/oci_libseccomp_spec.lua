-- The agreement test: what sx.oci makes of a profile decides like libseccomp's filter
-- for the same rules (libseccomp is what runc and crun build Docker's and podman's
-- filters with). spec/support/libseccomp_oracle.c builds the peer filter with Debian's
-- libseccomp; both programs run in the emulator, every syscall number and a set of
-- argument probes.
--
-- Differences by design, and only these, are left out of the comparison:
-- * syscalls libseccomp 2.5.4's tables do not know (or number differently) on an arch:
--   libseccomp cannot add a rule for them, so its filter gives them the default action;
-- * syscall number -1 (0xffffffff) under the x86_64 audit arch in a filter without x32:
--   sx gives it the bad-arch action like every number with the x32 bit, libseccomp lets
--   -1 through to the default action (its "skip this syscall" convention for tracers);
-- * argument widths: sx compares the bits of an argument the syscall reads (an int's low
--   32 on every ABI, every argument's low 32 on i386 and arm, a umode_t's low 16), and
--   libseccomp all 64 on 64-bit ABIs (32 on i386 and x32). Probes give each argument
--   only the bits sx reads, where the two must agree; what a dirty upper half does is a
--   spec of its own below: for Docker's `socket` rule (arg0 != AF_VSOCK),
--   socket(0x100000028) is AF_VSOCK to the kernel, denied by sx and allowed by
--   libseccomp on x86_64. A profile sx exports masks such conditions to the argument's
--   bits, and libseccomp then decides a dirty upper half as sx does (a spec below).
local oci = require "sx.oci"
local seccomp = require "sx.seccomp"
local action = require "sx.action"
local core = require "sx.core"
local gen = require "support.random_rules"
local proc = require "support.proc"

local fmt, concat = string.format, table.concat

local SOURCE = os.getenv("SX_SOURCE_DIR") or "."
local ORACLE = (os.getenv("SX_BUILD_DIR") or "build") .. "/spec-bin/libseccomp_oracle"
local DOCKER = SOURCE .. "/spec/fixtures/docker-default.json"
local TMP = os.tmpname()

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

-- u64 as the oracle reads it
local function hex(v) return fmt("0x%x", v) end

-- libseccomp's filter for sx-form rules: filter (raw), and what libseccomp said.
local function libseccomp_filter(rules, default, opts)
  local lines = {}
  for _, a in ipairs(opts.arches) do lines[#lines + 1] = "arch " .. a end
  lines[#lines + 1] = fmt("default 0x%08x", action.value(default))
  lines[#lines + 1] = fmt("badarch 0x%08x", action.value(opts.bad_arch or "kill_process"))
  for _, r in ipairs(rules) do
    local l = { "rule", fmt("0x%08x", action.value(r.action)), r.syscall }
    for _, c in ipairs(r.args or {}) do
      if c.op == "masked_eq" then
        l[#l + 1] = fmt("%d masked_eq %s %s", c.index, hex(c.mask), hex(c.value))
      else
        l[#l + 1] = fmt("%d %s %s 0", c.index, c.op, hex(c.value))
      end
    end
    lines[#lines + 1] = concat(l, " ")
  end
  proc.write(TMP, concat(lines, "\n") .. "\n")
  -- libseccomp's rule merging can take minutes on many masked rules for one syscall
  local p = io.popen(fmt("timeout 10 %s %s %s.bpf", ORACLE, TMP, TMP))
  local said = p:read("a")
  local ok, _, status = p:close()
  if not ok and status == 124 then return nil, "libseccomp took more than 10 seconds" end
  assert(ok, "libseccomp_oracle failed")
  local g, err = seccomp.load(assert(proc.read(TMP .. ".bpf")), opts.arches[1])
  os.remove(TMP .. ".bpf")
  if not g then return nil, tostring(err) end   -- more than the kernel's 4096 instructions
  return g, said
end

-- Per arch: syscall numbers where libseccomp's table and sx's name different syscalls.
local disagree = {}
local function table_differences(arch)
  if disagree[arch] then return disagree[arch] end
  local names = seccomp.syscall_names()
  proc.write(TMP, concat(names, "\n") .. "\n")
  local p = io.popen(fmt("%s names %s < %s", ORACLE, arch, TMP))
  local out, theirs = {}, {}
  for name, n in p:read("a"):gmatch("(%S+) (%-?%d+)") do theirs[name] = math.tointeger(tonumber(n)) end
  p:close()
  for _, name in ipairs(names) do
    local ours = core.syscall_number(name, arch)
    if ours and arch == "x32" then ours = ours | 0x40000000 end
    local lib = theirs[name]
    if ours ~= (lib ~= -1 and lib or nil) then
      if ours then out[ours] = name end
      if lib and lib ~= -1 then out[lib] = name end
    end
  end
  disagree[arch] = out
  return out
end

-- Compare two filters on every syscall number of `arch` (plus a margin), returning the
-- mismatches as text (empty when they agree) and the numbers left out.
local function compare_numbers(f, g, arch, upto)
  local skip = table_differences(arch)
  local bad, left_out = {}, {}
  for nr = 0, upto do
    local full = arch == "x32" and (nr | 0x40000000) or nr
    if skip[full] then
      left_out[#left_out + 1] = skip[full]
    else
      local a, b = f:eval(nr, nil, arch), g:eval(nr, nil, arch)
      if a ~= b then
        bad[#bad + 1] = fmt("%s %d (%s): sx %s, libseccomp %s", arch, nr,
                            seccomp.syscall_name(full, arch), tostring(a), tostring(b))
      end
    end
  end
  return concat(bad, "\n"), left_out
end

-- args with each argument cut to the bits sx reads of it (see the header)
local function readable(arch, name, args)
  local nr = seccomp.syscall_number(name, arch)
  local out = {}
  for i = 1, 6 do
    local bits = nr and select(3, core.arg(arch, nr, i - 1)) or 64
    out[i] = bits == 64 and (args[i] or 0) or (args[i] or 0) & ((1 << bits) - 1)
  end
  return out
end

local function compare_args(f, g, arch, name, vectors)
  local bad = {}
  for _, args in ipairs(vectors) do
    args = readable(arch, name, args)
    local a, b = f:eval(name, args, arch), g:eval(name, args, arch)
    if a ~= b then
      local shown = {}
      for i, v in ipairs(args) do shown[i] = hex(v) end
      bad[#bad + 1] = fmt("%s %s(%s): sx %s, libseccomp %s", arch, name, concat(shown, ", "),
                          tostring(a), tostring(b))
    end
  end
  return concat(bad, "\n")
end

-- The argument values Docker's profile conditions on, and their neighbours.
local CLONE_NS = { 0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000,
                   0x40000000 }   -- NEWNS NEWCGROUP NEWUTS NEWIPC NEWUSER NEWPID NEWNET
local function probes(wide)
  local v = {}
  local function add(name, args) v[#v + 1] = { name, args } end
  for _, p in ipairs({ 0, 1, 8, 9, 0x20000, 0x20008, 0x0040000, 0x0400000, 0xffffffff,
                       0xfffffffe }) do
    add("personality", { p })
  end
  local forkish = 0x01200011   -- CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD
  add("clone", { forkish })
  add("clone", { 0x00000100 | 0x00000200 | 0x00000400 | 0x00000800 | 0x00010000 })   -- threads
  for _, ns in ipairs(CLONE_NS) do
    add("clone", { ns }); add("clone", { forkish | ns }); add("clone", { 0, ns })
  end
  add("clone", { 0x7e020000 }); add("clone", { 0x81fdffff })
  if wide then add("clone", { 0x100000000 | forkish }) end
  for _, af in ipairs({ 0, 1, 2, 10, 16, 17, 37, 38, 39, 40, 41, 42, 45, 46, 0xffffffff }) do
    add("socket", { af, 1, 0 })
  end
  return v
end

local function compare_probes(f, g, arch)
  local bad = {}
  for _, p in ipairs(probes(arch == "x86_64")) do
    local m = compare_args(f, g, arch, p[1], { p[2] })
    if m ~= "" then bad[#bad + 1] = m end
  end
  return concat(bad, "\n")
end

local have_oracle = exists(ORACLE)

describe("sx.oci and libseccomp agree", function()
  local text = proc.read(DOCKER)

  local function docker_case(arches, caps)
    local rules, default, opts, report = oci.to_rules(text, { arches = arches, caps = caps })
    assert(rules, tostring(default))
    local f = assert(seccomp.from_rules(rules, default, opts))
    local g, said = libseccomp_filter(rules, default, opts)
    return f, g, said, report
  end

  it("on Docker's default profile for x86_64, every syscall number and argument probe", function()
    if not have_oracle then return pending("libseccomp_oracle was not built (no libseccomp-dev)") end
    local f, g, said = docker_case({ "x86_64" })
    assert.not_matches("refused", said)   -- libseccomp took every rule sx.oci derived
    local bad, left_out = compare_numbers(f, g, "x86_64", 520)
    assert.equal("", bad)
    -- only syscalls newer than libseccomp 2.5.4's tables were left out
    assert.is_true(#left_out < 20, concat(left_out, " "))
    assert.equal("", compare_probes(f, g, "x86_64"))
    -- x32-bit numbers and above: bad arch in both
    for _, nr in ipairs({ 0x40000000, 0x40000001, 0x400001ff, 0x7fffffff, 0x80000000, 0xfffffffe }) do
      local a = core.emulate(f.bpf, core.audit("x86_64"), nr, 0, 0, 0, 0, 0, 0)
      local b = core.emulate(g.bpf, core.audit("x86_64"), nr, 0, 0, 0, 0, 0, 0)
      assert.equal(b, a, fmt("nr 0x%x", nr))
    end
    -- the one difference by design: nr -1
    assert.equal("kill_process", action.canonical(core.emulate(f.bpf, core.audit("x86_64"), 0xffffffff, 0, 0, 0, 0, 0, 0)))
    assert.equal(seccomp.errno("EPERM"), action.canonical(core.emulate(g.bpf, core.audit("x86_64"), 0xffffffff, 0, 0, 0, 0, 0, 0)))
    -- other audit arches: bad arch in both
    for _, arch in ipairs({ "i386", "aarch64" }) do
      assert.equal(action.value(g:eval(0, nil, arch)), action.value(f:eval(0, nil, arch)))
    end
  end)

  it("on Docker's default profile for x86_64 + i386 + x32", function()
    if not have_oracle then return pending("libseccomp_oracle was not built (no libseccomp-dev)") end
    local f, g, said = docker_case({ "x86_64", "i386", "x32" })
    assert.not_matches("refused", said)
    for _, arch in ipairs({ "x86_64", "i386", "x32" }) do
      local bad = compare_numbers(f, g, arch, 560)
      assert.equal("", bad)
      assert.equal("", compare_probes(f, g, arch))
    end
    -- with x32 in the filter, -1 is no longer a difference
    assert.equal(action.value(g:eval(0xffffffff, nil, "x86_64")), action.value(f:eval(0xffffffff, nil, "x86_64")))
    -- the profile refuses socket(AF_ALG) and socket(AF_VSOCK) and allows socketcall: on
    -- i386 either family is a socketcall away, in both filters (sx.doors says so)
    for _, family in ipairs({ 38, 40 }) do
      assert.equal("errno(EPERM)", tostring(g:eval("socket", { family, 1, 0 }, "i386")))
      assert.equal("errno(EPERM)", tostring(f:eval("socket", { family, 1, 0 }, "i386")))
    end
    assert.equal("allow", g:eval("socketcall", { 1, 0x1000 }, "i386"))
    assert.equal("allow", f:eval("socketcall", { 1, 0x1000 }, "i386"))
    local gaps = require("sx.doors").gaps(f)
    assert.equal(1, #gaps)
    assert.same({ "i386", "socketcall", { "socket" } }, { gaps[1].arch, gaps[1].mux, gaps[1].names })
  end)

  it("on Docker's default profile except a dirty upper half, where sx follows the kernel", function()
    if not have_oracle then return pending("libseccomp_oracle was not built (no libseccomp-dev)") end
    local f, g = docker_case({ "x86_64" })
    local EPERM = seccomp.errno("EPERM")
    -- socket's family is an int: the kernel creates an AF_VSOCK socket for 0x100000028
    assert.equal(EPERM, f:eval("socket", { 0x100000028, 1, 0 }))
    assert.equal("allow", g:eval("socket", { 0x100000028, 1, 0 }))
    -- personality's argument is an unsigned int: 0x100000000 is personality(0), which
    -- Docker allows
    assert.equal("allow", f:eval("personality", { 0x100000000 }))
    assert.equal(EPERM, g:eval("personality", { 0x100000000 }))
    -- clone's flags are an unsigned long the kernel reads on 32 bits (lower_32_bits), as
    -- sx does; Docker's test of them is a mask of low bits, which libseccomp reads alike
    assert.equal(g:eval("clone", { 0x100000000 | 0x01200011 }), f:eval("clone", { 0x100000000 | 0x01200011 }))
  end)

  it("on Docker's default profile with CAP_SYS_ADMIN and with no capabilities", function()
    if not have_oracle then return pending("libseccomp_oracle was not built (no libseccomp-dev)") end
    for _, caps in ipairs({ { "CAP_SYS_ADMIN" }, {}, { "CAP_SYS_PTRACE", "CAP_SYS_BOOT", "CAP_BPF" } }) do
      local f, g = docker_case({ "x86_64" }, caps)
      assert.equal("", (compare_numbers(f, g, "x86_64", 520)))
      assert.equal("", compare_probes(f, g, "x86_64"))
    end
  end)

  -- An exported profile, read the way runc reads it and built by libseccomp, decides like
  -- the filter it came from: this is what Docker would enforce.
  local function export_case(f)
    local json = assert(oci.export(f))
    local rules, default, opts = oci.to_rules(json, { arches = f.arches, bad_arch = f.bad_arch })
    assert(rules, tostring(default))
    local g, said = libseccomp_filter(rules, default, opts)
    if g then assert.not_matches("refused", said) end
    return g, said
  end

  local function arg_vectors(f, name, seed)
    local vals = { 0, 1, -1, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000 }
    for _, r in ipairs(f.rules) do
      if r.syscall == name then
        for _, c in ipairs(r.args or {}) do
          for _, v in ipairs({ c.value, c.value - 1, c.value + 1, c.mask or 0, ~c.value }) do
            vals[#vals + 1] = v
          end
        end
      end
    end
    local r = gen.rng(seed)
    local out = {}
    for k = 1, 120 do
      local a = {}
      for i = 1, 6 do a[i] = r.chance(0.8) and vals[r.int(1, #vals)] or r.u64() end
      out[k] = a
    end
    return out
  end

  it("on exported hand-made filters", function()
    if not have_oracle then return pending("libseccomp_oracle was not built (no libseccomp-dev)") end
    local E = seccomp.errno
    local filters = {
      seccomp.from_rules({
        { "allow", "read" }, { "allow", "write" },
        { action = E("EPERM"), syscall = "openat", args = { { index = 2, op = "masked_eq", mask = 3, value = 1 } } },
        { action = "allow", syscall = "openat" },
        { action = "kill_process", syscall = "socket", args = { { index = 0, op = "eq", value = 40 } } },
        { action = "allow", syscall = "socket", args = { { index = 0, op = "le", value = 10 } } },
        { action = "log", syscall = "socket", args = { { index = 0, op = "gt", value = 5 }, { index = 1, op = "ne", value = 2 } } },
        { action = E("EACCES"), syscall = "mmap", args = { { index = 2, op = "masked_eq", mask = 4, value = 4 },
                                                           { index = 3, op = "masked_eq", mask = 0x20, value = 0 } } },
        { action = "allow", syscall = "mmap" },
      }, E("ENOSYS"), { arch = "x86_64" }),
      -- the default allows; a conditional rule with the default's action carves a hole
      seccomp.from_rules({
        { action = "allow", syscall = "kill", args = { { index = 1, op = "eq", value = 0 } } },
        { action = E("EPERM"), syscall = "kill", args = { { index = 1, op = "lt", value = 32 } } },
        { action = "trap", syscall = "kill" },
        { action = "allow", syscall = "prctl", args = { { index = 0, op = "ge", value = 5 }, { index = 0, op = "le", value = 9 } } },
        { action = seccomp.trace(7), syscall = "prctl" },
      }, "allow", { arches = { "x86_64", "i386" } }),
    }
    for n, f in ipairs(assert(filters)) do
      local g = assert(export_case(f))
      for _, arch in ipairs(f.arches) do
        assert.equal("", (compare_numbers(f, g, arch, 460)), "filter " .. n)
        for _, r in ipairs(f.rules) do
          if seccomp.syscall_number(r.syscall, arch) then
            local vectors = arg_vectors(f, r.syscall, n)
            assert.equal("", compare_args(f, g, arch, r.syscall, vectors), "filter " .. n)
          end
        end
      end
    end
  end)

  -- libseccomp compares all 64 bits of an argument on 64-bit ABIs, the kernel an int's
  -- low 32: the export writes a condition on an int as masked_eq over its 32 bits, so the
  -- profile Docker enforces decides a dirty upper half as the kernel reads it, as sx does.
  it("on exported profiles for a dirty upper half too, as the kernel reads it", function()
    if not have_oracle then return pending("libseccomp_oracle was not built (no libseccomp-dev)") end
    local E = seccomp.errno
    local f = assert(seccomp.from_rules({
      { action = E("EPERM"), syscall = "socket", args = { { index = 0, op = "eq", value = 17 } } },
      { action = "allow", syscall = "socket", args = { { index = 0, op = "ne", value = 40 }, { index = 1, op = "lt", value = 6 } } },
      { action = E("EACCES"), syscall = "chmod", args = { { index = 1, op = "masked_eq", mask = 0x800, value = 0x800 } } },
      { action = "allow", syscall = "chmod" },
      { action = E("EPERM"), syscall = "writev", args = { { index = 0, op = "le", value = 2 } } },
      { action = "allow", syscall = "writev" },
      -- (i386's socketcall allowed, so libseccomp's copy of socket's rules there is no wider)
      { action = "allow", syscall = "socketcall" },
    }, E("ENOSYS"), { arches = { "x86_64", "i386" } }))
    local g = assert(export_case(f))
    local DIRTY = { 0, 1 << 32, -1 << 32, 0x7fffffff << 32 }
    for _, arch in ipairs(f.arches) do
      for _, hi in ipairs(DIRTY) do
        for _, lo in ipairs { 1, 2, 3, 5, 6, 17, 40, 41, 0xffffffff } do
          local v = hi | lo
          assert.equal(f:eval("socket", { v, v, 0 }, arch), g:eval("socket", { v, v, 0 }, arch), arch .. " " .. hex(v))
          assert.equal(f:eval("writev", { v }, arch), g:eval("writev", { v }, arch), arch .. " " .. hex(v))
          assert.equal(f:eval("chmod", { 0, v | 0x800 }, arch), g:eval("chmod", { 0, v | 0x800 }, arch), arch)
        end
      end
      assert.equal(E("EPERM"), g:eval("socket", { 0x100000011, 1, 0 }, arch))   -- AF_PACKET
      assert.equal(E("ENOSYS"), g:eval("socket", { 0x100000028, 1, 0 }, arch))  -- AF_VSOCK
    end
  end)

  -- On x32 libseccomp compares an argument's low 32 bits only, where the kernel reads a
  -- long of the native calls (prctl's arg2) on 64: its filter lets prctl(4, 0x100000005)
  -- through an EQ of 5, which sx's kills. The export refuses such a condition (oci_spec);
  -- what it does write for x32 decides a dirty high word as sx does.
  it("on x32, where libseccomp compares the low 32 bits: refused, or said alike", function()
    if not have_oracle then return pending("libseccomp_oracle was not built (no libseccomp-dev)") end
    local opts = { arches = { "x86_64", "x32" } }
    local eq5 = { { action = "allow", syscall = "prctl", args = { { index = 1, op = "eq", value = 5 } } } }
    local f = assert(seccomp.from_rules(eq5, "kill_process", opts))
    local g = assert(libseccomp_filter(eq5, "kill_process", opts))
    assert.equal("kill_process", f:eval("prctl", { 4, 0x100000005 }, "x32"))
    assert.equal("allow", g:eval("prctl", { 4, 0x100000005 }, "x32"))
    assert.equal("kill_process", g:eval("prctl", { 4, 0x100000005 }, "x86_64"))
    assert.is_nil(oci.export(f))

    f = assert(seccomp.from_rules({
      { action = "allow", syscall = "ioctl", args = { { index = 2, op = "le", value = 5 } } },
      { action = "kill_process", syscall = "mprotect", args = { { index = 2, op = "masked_eq", mask = 4, value = 4 } } },
      { action = "allow", syscall = "mprotect" },
    }, "kill_process", opts))
    g = assert(export_case(f))
    for _, arch in ipairs(opts.arches) do
      for _, hi in ipairs({ 0, 1 << 32, -1 << 32 }) do
        for _, lo in ipairs({ 0, 1, 4, 5, 6, 7, 0xffffffff }) do
          local v = hi | lo
          assert.equal(f:eval("ioctl", { 0, 0, v }, arch), g:eval("ioctl", { 0, 0, v }, arch), arch .. " " .. hex(v))
          assert.equal(f:eval("mprotect", { 0, 0, v }, arch), g:eval("mprotect", { 0, 0, v }, arch), arch .. " " .. hex(v))
        end
      end
    end
  end)

  -- What runc and crun add to a profile (review): the host's own architecture, with the
  -- profile's rules; and on i386 (ppc64le, s390x) libseccomp's copy of a rule for socket,
  -- semctl, ... on socketcall and ipc, with the conditions on the wrong registers. Each
  -- would let through what sx's filter stops; the export refuses both.
  it("refuses what runc and crun would widen: the host's arch, socketcall and ipc", function()
    if not have_oracle then return pending("libseccomp_oracle was not built (no libseccomp-dev)") end
    local unix_only = { { action = "allow", syscall = "socket", args = { { index = 0, op = "eq", value = 1 } } },
                        { action = "allow", syscall = "semctl", args = { { index = 2, op = "eq", value = 0 } } } }
    local opts = { arches = { "x86_64", "i386" } }
    local f = assert(seccomp.from_rules(unix_only, "kill_process", opts))
    local g = assert(libseccomp_filter(unix_only, "kill_process", opts))
    assert.equal("kill_process", f:eval("socketcall", { 1, 0x1000 }, "i386"))
    assert.equal("allow", g:eval("socketcall", { 1, 0x1000 }, "i386"))       -- any family
    assert.equal("allow", g:eval("ipc", { 3, 0, 0, 1 }, "i386"))              -- IPC_SET: cmd 1
    local json, err = oci.export(f)
    assert.is_nil(json)
    assert.matches("on i386 libseccomp gives the rules for 'socket' to socketcall%(1, ...%) too", err.message)
    -- no wider where the filter answers socketcall as permissively
    unix_only[3] = { action = "allow", syscall = "socketcall" }
    unix_only[4] = { action = "allow", syscall = "ipc" }
    assert.truthy(oci.export(assert(seccomp.from_rules(unix_only, "kill_process", opts))))

    local no_vsock = { { action = "allow", syscall = "socket", args = { { index = 0, op = "ne", value = 40 } } } }
    f = assert(seccomp.from_rules(no_vsock, "kill_process", { arch = "i386" }))
    g = assert(libseccomp_filter(no_vsock, "kill_process", { arches = { "i386", "x86_64" } }))
    assert.equal("kill_process", f:eval("socket", { 0x100000028, 1, 0 }, "x86_64"))
    assert.equal("allow", g:eval("socket", { 0x100000028, 1, 0 }, "x86_64"))  -- AF_VSOCK
    json, err = oci.export(f)
    assert.is_nil(json)
    assert.matches("runc and crun add the host's own architecture", err.message)
  end)

  -- The other way round: a profile that denies socket and shmget on x86 has libseccomp
  -- deny socketcall(SYS_SOCKET, ...) and ipc(SHMGET, ...) too; sx's import allowed them
  -- (review). It gives them the action now, as libseccomp does.
  it("on i386's socketcall and ipc in an imported profile", function()
    if not have_oracle then return pending("libseccomp_oracle was not built (no libseccomp-dev)") end
    local json = [[{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "syscalls": [{"names": ["socket", "shmget"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                   {"names": ["bind"], "action": "SCMP_ACT_KILL_PROCESS", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]}]}]]
    local f = assert(oci.import(json))
    local rules = { { action = seccomp.errno(1), syscall = "socket" }, { action = seccomp.errno(1), syscall = "shmget" },
                    { action = "kill_process", syscall = "bind", args = { { index = 0, op = "eq", value = 3 } } } }
    local g = assert(libseccomp_filter(rules, "allow", { arches = { "x86_64", "i386" } }))
    for _, c in ipairs{ { "socketcall", { 1, 0x1000 } }, { "ipc", { 23, 0, 0 } }, { "socketcall", { 2, 0x1000 } },
                        { "socketcall", { 3, 0x1000 } }, { "ipc", { 21, 0, 0 } } } do
      assert.equal(tostring(g:eval(c[1], c[2], "i386")), tostring(f:eval(c[1], c[2], "i386")), c[1] .. " " .. c[2][1])
    end
    assert.equal("errno(EPERM)", tostring(f:eval("socketcall", { 1, 0x1000 }, "i386")))
    -- ipc's call keeps a version in its upper 16 bits, which the kernel drops (review)
    assert.equal("errno(EPERM)", tostring(f:eval("ipc", { 0x10017, 0, 0 }, "i386")))
    assert.equal("kill_process", tostring(f:eval("socketcall", { 2, 0x1000 }, "i386")))   -- bind: narrower
  end)

  -- Two ways the export wrote a compare on all 64 bits of a narrower argument (review):
  -- a condition that always holds on the argument's bits was kept as written
  -- (`family <= 0xffffffff`: a dirty upper half then failed it under libseccomp), and
  -- merging a rule's terms made masks with bits above the argument (mmap's fd: mask
  -- 0xfffffffffffffffb). Both let (1 << 32) | v past a deny that sx's filter enforces.
  it("on merged and always-true conditions, with a dirty upper half", function()
    if not have_oracle then return pending("libseccomp_oracle was not built (no libseccomp-dev)") end
    local EPERM = seccomp.errno("EPERM")
    local cases = {
      { seccomp.builder():rule(EPERM, "socket", "family <= 0xffffffff && type == SOCK_RAW")
          :build{ arch = "x86_64", default = "allow" }, "socket", { { 2, 3, 1 }, { 1 << 32 | 2, 3, 1 } } },
      { seccomp.builder():rule(EPERM, "mmap", "fd != -1 && fd != 0 && fd != 4")
          :build{ arch = "x86_64", default = "allow" }, "mmap",
        { { 0, 4096, 1, 2, 3, 0 }, { 0, 4096, 1, 2, 1 << 32 | 5, 0 } } },
    }
    for _, c in ipairs(cases) do
      local f = assert(c[1])
      local g = assert(export_case(f))
      for _, args in ipairs(c[3]) do
        assert.equal(tostring(EPERM), tostring(f:eval(c[2], args)))
        assert.equal(tostring(EPERM), tostring(g:eval(c[2], args)), c[2] .. " " .. hex(args[5] or args[1]))
      end
    end
    assert.equal("allow", tostring(assert(export_case(cases[2][1])):eval("mmap", { 0, 4096, 1, 2, -1, 0 })))
  end)

  -- What the exported rules mean for libseccomp whatever order it tries them in: the
  -- action of the rules that match (the export makes rules of different actions
  -- disjoint, checked here), else the default.
  local function holds(c, v)
    local x = c.value
    if c.op == "eq" then return v == x
    elseif c.op == "ne" then return v ~= x
    elseif c.op == "lt" then return math.ult(v, x)
    elseif c.op == "le" then return v == x or math.ult(v, x)
    elseif c.op == "gt" then return math.ult(x, v)
    elseif c.op == "ge" then return v == x or math.ult(x, v)
    else return v & c.mask == x end
  end
  local function meaning(rules, default, name, args)
    local found
    for _, r in ipairs(rules) do
      if r.syscall == name then
        local all = true
        for _, c in ipairs(r.args or {}) do
          if not holds(c, args[c.index + 1]) then all = false break end
        end
        if all then
          local v = action.value(r.action)
          assert(found == nil or found == v, "exported rules of two actions overlap for " .. name)
          found = v
        end
      end
    end
    return action.canonical(found or action.value(default))
  end

  -- The smallest case found where libseccomp 2.5.4's program does not do what its rules
  -- say: after testing a5's high word for the first rule, it tests a2 >= 0x80000001 on
  -- the accumulator without reloading a2, so it compares a5's high word. sx must decide
  -- it as written, in the emulator and in the kernel; libseccomp's answer is printed.
  -- (With the actions the other way round the miscompile widens: a profile sx exports is
  -- then enforced wider by runc than it says. The README says so; sx cannot mend it.)
  it("where libseccomp 2.5.4 miscompiles, sx decides the rules as written", function()
    if not have_oracle then return pending("libseccomp_oracle was not built (no libseccomp-dev)") end
    local rules = {
      { action = "kill_process", syscall = "getgid", args = { { index = 2, op = "lt", value = 6 },
                                                            { index = 5, op = "eq", value = 0xb3db20771646ea09 } } },
      { action = "kill_thread", syscall = "getgid", args = { { index = 2, op = "ge", value = 0x80000001 } } },
    }
    local default, opts = seccomp.errno("ENOSYS"), { arch = "x86_64", arches = nil }
    local f = assert(seccomp.from_rules(rules, default, opts))
    local lib = assert(libseccomp_filter(rules, default, { arches = { "x86_64" } }))
    local args = { 0, 0, 0, 0, 0, -1 }
    assert.equal(default, f:eval("getgid", args))
    assert.equal(default, meaning(rules, default, "getgid", args))
    if core.host_arch() == "x86_64" then
      assert.same({ "errno", 38 }, { core.probe(f.bpf, 104, table.unpack(args)) })
    end
    local theirs = lib:eval("getgid", args)
    if theirs ~= default then
      print(fmt("\n(oci_libseccomp: libseccomp decides getgid(0, 0, 0, 0, 0, -1) %s for these rules, which say %s)",
                tostring(theirs), tostring(default)))
    end
  end)

  -- The other difference by design: conditional rules of different actions that overlap.
  -- sx tries them in order; libseccomp by its tree (sx.oci lists such pairs in
  -- report.overlaps). Outside the overlap the two agree.
  it("outside overlapping rules of different actions", function()
    if not have_oracle then return pending("libseccomp_oracle was not built (no libseccomp-dev)") end
    local rules = {
      { action = seccomp.errno("EXDEV"), syscall = "chmod", args = { { index = 1, op = "gt", value = 10 } } },
      { action = seccomp.errno("ENOTRECOVERABLE"), syscall = "chmod", args = { { index = 1, op = "lt", value = 20 } } },
    }
    local f = assert(seccomp.from_rules(rules, "allow", { arch = "x86_64" }))
    local lib = assert(libseccomp_filter(rules, "allow", { arches = { "x86_64" } }))
    for _, mode in ipairs({ 0, 5, 10, 20, 21, 0xffffffff, -1 }) do
      assert.equal(f:eval("chmod", { 0, mode }), lib:eval("chmod", { 0, mode }), "mode " .. mode)
    end
    assert.equal(seccomp.errno("EXDEV"), f:eval("chmod", { 0, 15 }))   -- the first listed
    print(fmt("\n(oci_libseccomp: inside the overlap, libseccomp answers %s where sx answers errno(EXDEV))",
              tostring(lib:eval("chmod", { 0, 15 }))))
  end)

  -- Random rule sets whose first arch is x86_64, compared there (where the tables were
  -- compared above): the exported rules mean the filter whatever order they are tried in;
  -- libseccomp's program for them agrees, except where libseccomp miscompiles (as in the
  -- case above), which is counted and shown rather than hidden.
  it("on exported random filters, libseccomp's miscompilations aside", function()
    if not have_oracle then return pending("libseccomp_oracle was not built (no libseccomp-dev)") end
    local tried, compared, lib_wrong, shown = 0, 0, 0, {}
    for seed = 1, 600 do
      local case = gen.rule_set(seed, 5)
      local a = case.opts.arches
      -- (a dozen random rules already export to profiles too big for either compiler)
      local f = a[1] == "x86_64" and #case.rules <= 12 and seccomp.from_rules(case.rules, case.default, case.opts)
      local json = f and oci.export(f)
      local rules, default = nil, nil
      if json then rules, default = oci.to_rules(json, { arches = f.arches, bad_arch = f.bad_arch }) end
      -- a few hundred rules already make more than a BPF program can hold, and a few
      -- dozen masked rules for one syscall take libseccomp minutes to merge
      local most = 0
      if rules then
        local per = {}
        for _, r in ipairs(rules) do per[r.syscall] = (per[r.syscall] or 0) + 1; most = math.max(most, per[r.syscall]) end
      end
      if rules and #rules <= 200 and most <= 8 then
        local lib = export_case(f)
        if lib then tried = tried + 1 end
        local skip = table_differences("x86_64")
        if lib then assert.equal("", (compare_numbers(f, lib, "x86_64", 460)), "seed " .. seed) end
        local done = {}
        for _, r in ipairs(f.rules) do
          local name = r.syscall
          local n = type(name) == "string" and seccomp.syscall_number(name, "x86_64")
          if n and not done[name] and not skip[n] then
            done[name] = true
            local probes = {}
            for _, args in ipairs(arg_vectors(f, name, seed)) do
              args = readable("x86_64", name, args)
              -- and with a dirty upper half, which sx reads past where the kernel does not
              local dirty = {}
              for i = 1, 6 do dirty[i] = args[i] | (0x5a5a0000 + seed) << 32 end
              probes[#probes + 1], probes[#probes + 2] = args, dirty
            end
            for _, args in ipairs(probes) do
              compared = compared + 1
              local want = f:eval(name, args)
              assert.equal(want, meaning(rules, default, name, args), "seed " .. seed .. " " ..
                           name .. " " .. concat({ hex(args[1]), hex(args[2]), hex(args[3]),
                                                   hex(args[4]), hex(args[5]), hex(args[6]) }, ","))
              local got = lib and lib:eval(name, args)
              if lib and got ~= want then
                lib_wrong = lib_wrong + 1
                if #shown < 3 then shown[#shown + 1] = fmt("seed %d %s: sx %s, libseccomp %s", seed, name, tostring(want), tostring(got)) end
              end
            end
          end
        end
      end
    end
    assert.is_true(tried >= 5, "only " .. tried .. " random filters exported")
    -- libseccomp gets most of them right; its errors are reported, not hidden
    assert.is_true(lib_wrong * 20 < compared, fmt("%d of %d probes differ", lib_wrong, compared))
    print(fmt("\n(oci_libseccomp: %d exported random filters built by libseccomp; it miscompiled " ..
              "%d of %d argument probes%s)", tried, lib_wrong, compared,
              #shown > 0 and ("; e.g. " .. concat(shown, "; ")) or ""))
  end)
end)

os.remove(TMP)

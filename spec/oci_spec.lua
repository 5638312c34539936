-- sx.oci: Docker / podman / OCI seccomp profiles in and out.
local oci = require "sx.oci"
local seccomp = require "sx.seccomp"
local core = require "sx.core"

local fmt, concat = string.format, table.concat

local DOCKER = (os.getenv("SX_SOURCE_DIR") or ".") .. "/spec/fixtures/docker-default.json"
local X86 = { arches = { "x86_64" } }

local function read(path)
  local f = assert(io.open(path))
  local s = f:read("a")
  f:close()
  return s
end

local function nr(name) return assert(seccomp.syscall_number(name, "x86_64")) end

-- a profile from a Lua table, through real JSON text
local function profile(t) return require("cjson").encode(t) end

local function import(text, opts)
  opts = opts or {}
  if opts.arch == nil and opts.arches == nil then opts.arches = { "x86_64" } end
  local f, report = oci.import(text, opts)
  assert(f, tostring(report))
  return f, report
end

local function bad(text, opts)
  local f, err = oci.import(text, opts or X86)
  assert.is_nil(f)
  assert.equal("bad_profile", err.code, tostring(err))
  return err
end

local EPERM = seccomp.errno("EPERM")

describe("oci.decode", function()
  it("keeps 64-bit integers exact, past what a double holds", function()
    local t = assert(oci.decode('{"a": [18446744073709551615, 9007199254740993, ' ..
                                '9223372036854775808, 2114060288, 12345678901234567890]}'))
    assert.equal(-1, t.a[1])
    assert.equal(9007199254740993, t.a[2])
    assert.equal(math.mininteger, t.a[3])
    assert.equal(2114060288, t.a[4])
    assert.equal(math.tointeger(-6101065172474983726), t.a[5])   -- 2^64 wrap of the literal
  end)

  it("leaves digits inside strings alone", function()
    local t = assert(oci.decode('{"c": "12345678901234567890 \\" 99999999999999999", "n": 1}'))
    assert.equal('12345678901234567890 " 99999999999999999', t.c)
  end)

  it("reports malformed JSON with line and column", function()
    local f, err = oci.decode('{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [,]\n}')
    assert.is_nil(f)
    assert.equal("bad_profile", err.code)
    assert.matches("invalid JSON", err.message)
    assert.matches("line 3", err.message)
    _, err = oci.decode('{"a": NaN}')
    assert.equal("bad_profile", err.code)
    _, err = oci.decode('[1, 2]')
    assert.equal("bad_profile", err.code)
    assert.matches("a profile is a JSON object", err.message)
    _, err = oci.decode(42)
    assert.equal("bad_profile", err.code)
  end)
end)

describe("importing Docker's default profile", function()
  local text = read(DOCKER)

  it("compiles for x86_64 and decides like Docker with the default capabilities", function()
    local f, report = import(text)
    assert.same({ "x86_64" }, f.arches)
    assert.equal("allow", f:eval("read"))
    assert.equal("allow", f:eval("ptrace"))               -- minKernel 4.8
    assert.equal(EPERM, f:eval("mount"))                  -- needs CAP_SYS_ADMIN
    assert.equal(EPERM, f:eval("reboot"))
    assert.equal("allow", f:eval("chroot"))               -- CAP_SYS_CHROOT is a default cap
    assert.equal(seccomp.errno("ENOSYS"), f:eval("clone3"))
    assert.equal("allow", f:eval("clone", { 0x11 }))      -- SIGCHLD|... fork-like
    assert.equal(EPERM, f:eval("clone", { 0x10000000 }))  -- CLONE_NEWUSER
    assert.equal("allow", f:eval("socket", { 1 }))        -- AF_UNIX
    assert.equal(EPERM, f:eval("socket", { 40 }))         -- AF_VSOCK
    assert.equal("allow", f:eval("socket", { 39 }))
    assert.equal("allow", f:eval("personality", { 0xffffffff }))
    assert.equal(EPERM, f:eval("personality", { 0x0040000 }))
    assert.equal("allow", f:eval("arch_prctl"))
    -- what was left out, and why
    local why = {}
    for _, e in ipairs(report.excluded) do why[e.names[1]] = why[e.names[1]] or e.reason end
    assert.equal("includes.caps: CAP_SYS_ADMIN is not held", why.bpf)
    assert.equal("includes.arches lacks amd64", why.riscv_flush_icache)
    assert.truthy(report.skipped.x86_64)
    local skipped = concat(report.skipped.x86_64, " ")
    assert.matches("_llseek", skipped)      -- an i386 name: skipped on x86_64 only
    assert.equal("x86_64", report.native)
  end)

  it("compiles for x86_64 + i386 + x32, skipping names per arch", function()
    local f, report = import(text, { arches = { "x86_64", "i386", "x32" } })
    assert.same({ "x86_64", "i386", "x32" }, f.arches)
    assert.equal("allow", f:eval("_llseek", nil, "i386"))
    assert.equal("allow", f:eval("read", nil, "x32"))
    assert.equal(EPERM, f:eval("mount", nil, "i386"))
    local on386 = concat(report.skipped.i386, " ")
    assert.matches("newfstatat", on386)
    assert.not_matches("_llseek", on386)
    -- "recv" and "send" exist on none of these three: reported, not an error
    local unknown = {}
    for _, u in ipairs(report.unknown) do unknown[u.name] = u end
    assert.truthy(unknown.recv)
    assert.is_true(unknown.recv.known)
  end)

  it("by default targets the host arch plus its archMap sub-arches, as Docker does", function()
    if core.host_arch() ~= "x86_64" then return pending("x86_64 host needed") end
    local f, report = oci.import(text)
    assert.same({ "x86_64", "i386", "x32" }, f.arches)
    assert.equal("archMap", report.arches_from)
  end)

  it("opens up with capabilities and closes with an older kernel", function()
    local f = import(text, { caps = { "CAP_SYS_ADMIN" } })
    assert.equal("allow", f:eval("mount"))
    assert.equal("allow", f:eval("clone", { 0x10000000 }))
    assert.equal("allow", f:eval("clone3"))
    assert.equal(EPERM, f:eval("chroot"))                 -- not in this cap list
    local old = import(text, { kernel = "4.4.0" })
    assert.equal(EPERM, old:eval("ptrace"))
    local ptrace = import(text, { kernel = "4.4", caps = { "SYS_PTRACE" } })
    assert.equal("allow", ptrace:eval("ptrace"))
  end)

  it("is enforced by the kernel", function()
    if core.host_arch() ~= "x86_64" then return pending("x86_64 host needed") end
    local f = import(text)
    assert.equal("returned", (core.probe(f.bpf, nr("getpid"))))
    assert.same({ "errno", 1 }, { core.probe(f.bpf, nr("unshare"), 0) })
    assert.same({ "errno", 38 }, { core.probe(f.bpf, nr("clone3"), 0, 0) })
    assert.same({ "errno", 1 }, { core.probe(f.bpf, nr("socket"), 40, 1, 0) })
    local outcome = core.probe(f.bpf, nr("personality"), 0xffffffff)
    assert.equal("returned", outcome)
    -- its socket rule (arg0 != AF_VSOCK) compares the int the kernel reads, so AF_VSOCK
    -- with bit 32 set is denied too (libseccomp compares 64 bits on x86_64 and lets it by)
    assert.same({ "errno", 1 }, { core.probe(f.bpf, nr("socket"), 0x100000028, 1, 0) })
  end)
end)

describe("importing hand-made profiles", function()
  local function one(args, opts)
    return import(profile({ defaultAction = "SCMP_ACT_ERRNO", defaultErrnoRet = 1,
      syscalls = { { names = { "read" }, action = "SCMP_ACT_ALLOW", args = args } } }), opts)
  end

  it("implements every SCMP_CMP operator on 64 bits", function()
    local cases = {
      { "SCMP_CMP_EQ", 7, 0, { [7] = true, [6] = false, [8] = false, [7 + (1 << 32)] = false } },
      { "SCMP_CMP_NE", 7, 0, { [7] = false, [6] = true, [-1] = true } },
      { "SCMP_CMP_LT", 7, 0, { [6] = true, [7] = false, [0] = true, [-1] = false } },
      { "SCMP_CMP_LE", 7, 0, { [7] = true, [8] = false } },
      { "SCMP_CMP_GE", 7, 0, { [7] = true, [6] = false, [-1] = true } },
      { "SCMP_CMP_GT", 7, 0, { [7] = false, [8] = true, [1 << 40] = true } },
      -- (arg & value) == valueTwo
      { "SCMP_CMP_MASKED_EQ", 0xf0, 0x30, { [0x30] = true, [0x3f] = true, [0x130] = true,
                                            [0x20] = false, [0x70] = false } },
    }
    for _, c in ipairs(cases) do
      local f = one({ { index = 2, value = c[2], valueTwo = c[3], op = c[1] } })
      for v, want in pairs(c[4]) do
        local got = f:eval("read", { 0, 0, v })
        assert.equal(want and "allow" or EPERM, got, fmt("%s %d: arg2 = %x", c[1], c[2], v))
        -- the condition is on arg2 only
        assert.equal(EPERM == got and EPERM or "allow", f:eval("read", { v, v, v }))
      end
    end
  end)

  it("compares values above 2^53 exactly", function()
    local f = import([[{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5,
       "args": [{"index": 1, "value": 18446744073709551615, "op": "SCMP_CMP_EQ"}]},
      {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 6,
       "args": [{"index": 1, "value": 9007199254740993, "op": "SCMP_CMP_EQ"}]}]}]])
    assert.equal(seccomp.errno(5), f:eval("write", { 0, -1 }))
    assert.equal("allow", f:eval("write", { 0, -2 }))
    assert.equal(seccomp.errno(6), f:eval("write", { 0, 9007199254740993 }))
    assert.equal("allow", f:eval("write", { 0, 9007199254740992 }))
  end)

  it("ANDs args on different indexes and ORs args repeating an index (runc)", function()
    local f = one({ { index = 0, value = 1, op = "SCMP_CMP_EQ" },
                    { index = 1, value = 2, op = "SCMP_CMP_EQ" } })
    assert.equal("allow", f:eval("read", { 1, 2 }))
    assert.equal(EPERM, f:eval("read", { 1, 3 }))
    assert.equal(EPERM, f:eval("read", { 0, 2 }))
    -- old Docker profiles listed personality values this way
    local g = one({ { index = 0, value = 0, op = "SCMP_CMP_EQ" },
                    { index = 0, value = 8, op = "SCMP_CMP_EQ" } })
    assert.equal("allow", g:eval("read", { 0 }))
    assert.equal("allow", g:eval("read", { 8 }))
    assert.equal(EPERM, g:eval("read", { 9 }))
  end)

  it("treats entries for one syscall as alternatives", function()
    local f = import(profile({ defaultAction = "SCMP_ACT_ERRNO", syscalls = {
      { names = { "socket" }, action = "SCMP_ACT_ALLOW", args = { { index = 0, value = 1, op = "SCMP_CMP_EQ" } } },
      { names = { "socket" }, action = "SCMP_ACT_ALLOW", args = { { index = 0, value = 2, op = "SCMP_CMP_EQ" } } },
      { names = { "socket" }, action = "SCMP_ACT_TRAP", args = { { index = 0, value = 16, op = "SCMP_CMP_EQ" } } },
    } }))
    assert.equal("allow", f:eval("socket", { 1 }))
    assert.equal("allow", f:eval("socket", { 2 }))
    assert.equal("trap", f:eval("socket", { 16 }))
    assert.equal(EPERM, f:eval("socket", { 10 }))   -- SCMP_ACT_ERRNO without errnoRet: EPERM
  end)

  it("tries overlapping entries in the profile's order, and reports them", function()
    local text = profile({ defaultAction = "SCMP_ACT_ALLOW", syscalls = {
      { names = { "chmod" }, action = "SCMP_ACT_ERRNO", errnoRet = 18, args = { { index = 1, value = 10, op = "SCMP_CMP_GT" } } },
      { names = { "chmod" }, action = "SCMP_ACT_ERRNO", errnoRet = 131, args = { { index = 1, value = 20, op = "SCMP_CMP_LT" } } },
      { names = { "chown" }, action = "SCMP_ACT_ERRNO", errnoRet = 18, args = { { index = 1, value = 10, op = "SCMP_CMP_GT" } } },
      { names = { "chown" }, action = "SCMP_ACT_ERRNO", errnoRet = 131, args = { { index = 1, value = 5, op = "SCMP_CMP_LT" } } },
    } })
    local f, report = import(text)
    assert.equal(seccomp.errno("EXDEV"), f:eval("chmod", { 0, 15 }))
    assert.equal(seccomp.errno("ENOTRECOVERABLE"), f:eval("chmod", { 0, 5 }))
    assert.equal(seccomp.errno("EXDEV"), f:eval("chmod", { 0, 25 }))
    assert.same({ { name = "chmod", first = "syscalls[0]", second = "syscalls[1]" } }, report.overlaps)
    local _, docker = import(read(DOCKER))
    assert.same({}, docker.overlaps)
  end)

  it("lets the first unconditional entry decide a syscall, as libseccomp does", function()
    local f, report = import(profile({ defaultAction = "SCMP_ACT_ALLOW", syscalls = {
      { names = { "kill" }, action = "SCMP_ACT_ERRNO", errnoRet = 3, args = { { index = 1, value = 9, op = "SCMP_CMP_EQ" } } },
      { names = { "kill" }, action = "SCMP_ACT_ERRNO", errnoRet = 4 },
      { names = { "kill" }, action = "SCMP_ACT_ERRNO", errnoRet = 5 },
      { names = { "tkill" }, action = "SCMP_ACT_ALLOW" },   -- the default: dropped
    } }))
    assert.equal(seccomp.errno(4), f:eval("kill", { 0, 9 }))
    assert.equal(seccomp.errno(4), f:eval("kill", { 0, 1 }))
    assert.equal("allow", f:eval("tkill"))
    local reasons = {}
    for _, d in ipairs(report.dropped) do reasons[#reasons + 1] = d.path .. " " .. d.reason end
    reasons = concat(reasons, "\n")
    assert.matches("syscalls%[0%] the unconditional entry syscalls%[1%] replaces it", reasons)
    assert.matches("syscalls%[2%] an earlier unconditional entry %(syscalls%[1%]%)", reasons)
    assert.matches("syscalls%[3%] same action as defaultAction", reasons)
  end)

  it("maps every action", function()
    local acts = {
      SCMP_ACT_ALLOW = "allow", SCMP_ACT_KILL = "kill_thread", SCMP_ACT_KILL_THREAD = "kill_thread",
      SCMP_ACT_KILL_PROCESS = "kill_process", SCMP_ACT_TRAP = "trap", SCMP_ACT_LOG = "log",
      SCMP_ACT_NOTIFY = "notify",
    }
    for name, want in pairs(acts) do
      local f = import(profile({ defaultAction = "SCMP_ACT_ERRNO", syscalls = { { names = { "getpid" }, action = name } } }))
      assert.equal(want, f:eval("getpid"))
    end
    local f = import(profile({ defaultAction = "SCMP_ACT_TRACE", defaultErrnoRet = 7, syscalls = {
      { names = { "getpid" }, action = "SCMP_ACT_ERRNO", errnoRet = 13 },
      { names = { "getppid" }, action = "SCMP_ACT_TRACE", errnoRet = 99 },
      { names = { "gettid" }, action = "SCMP_ACT_ERRNO", errno = "ENOSYS" },   -- podman's form
    } }))
    assert.equal(seccomp.errno("EACCES"), f:eval("getpid"))
    assert.equal(seccomp.trace(99), f:eval("getppid"))
    assert.equal(seccomp.errno("ENOSYS"), f:eval("gettid"))
    assert.equal(seccomp.trace(7), f:eval("read"))
    local g = import(profile({ defaultAction = "SCMP_ACT_ERRNO", defaultErrno = "ENOSYS", syscalls = {} }))
    assert.equal(seccomp.errno("ENOSYS"), g:eval("read"))
  end)

  it("accepts the deprecated 'name' and an OCI config.json's linux.seccomp", function()
    local f = import(profile({ ociVersion = "1.0.2", process = {}, linux = { seccomp = {
      defaultAction = "SCMP_ACT_KILL_PROCESS", architectures = { "SCMP_ARCH_X86_64" },
      syscalls = { { name = "exit_group", action = "SCMP_ACT_ALLOW" },
                   { names = { "read", "write" }, action = "SCMP_ACT_ALLOW" } } } } }))
    assert.equal("allow", f:eval("exit_group"))
    assert.equal("allow", f:eval("write"))
    assert.equal("kill_process", f:eval("open"))
    local err = bad(profile({ ociVersion = "1.0.2", linux = { seccomp = {
      defaultAction = "SCMP_ACT_ALLOW", syscalls = { { names = { "read" }, action = "SCMP_ACT_FOO" } } } } }))
    assert.equal("linux.seccomp.syscalls[0].action", err.path)
  end)

  describe("includes and excludes", function()
    local function gated(field, value, opts)
      return import(profile({ defaultAction = "SCMP_ACT_ERRNO", syscalls = {
        { names = { "getpid" }, action = "SCMP_ACT_ALLOW", [field] = value } } }), opts)
    end
    local function allowed(f) return f:eval("getpid", nil, f.arches[1]) == "allow" end

    it("caps: all included ones held, no excluded one held", function()
      assert.is_false(allowed(gated("includes", { caps = { "CAP_SYS_ADMIN" } })))
      assert.is_true(allowed(gated("includes", { caps = { "CAP_SYS_ADMIN" } }, { caps = { "CAP_SYS_ADMIN" } })))
      assert.is_false(allowed(gated("includes", { caps = { "CAP_SYS_ADMIN", "CAP_BPF" } }, { caps = { "CAP_SYS_ADMIN" } })))
      assert.is_true(allowed(gated("excludes", { caps = { "CAP_SYS_ADMIN" } })))
      assert.is_false(allowed(gated("excludes", { caps = { "CAP_SYS_ADMIN", "CAP_BPF" } }, { caps = { "cap_bpf" } })))
      -- Docker's default set holds CAP_KILL
      assert.is_true(allowed(gated("includes", { caps = { "CAP_KILL" } })))
      assert.is_false(allowed(gated("includes", { caps = { "CAP_KILL" } }, { caps = {} })))
    end)

    it("arches: Docker's names, matched against the first target arch", function()
      assert.is_true(allowed(gated("includes", { arches = { "amd64" } })))
      assert.is_false(allowed(gated("includes", { arches = { "arm64" } })))
      assert.is_true(allowed(gated("includes", { arches = { "arm64" } }, { arches = { "aarch64", "arm" } })))
      assert.is_true(allowed(gated("includes", { arches = { "x86" } }, { arch = "i386" })))
      assert.is_false(allowed(gated("excludes", { arches = { "amd64", "x32" } })))
      assert.is_true(allowed(gated("excludes", { arches = { "s390", "s390x" } })))
      assert.is_false(allowed(gated("excludes", { arches = { "s390x" } }, { arch = "s390x" })))
    end)

    it("minKernel: at least that version", function()
      assert.is_true(allowed(gated("includes", { minKernel = "4.8" }, { kernel = "4.8.0-1-amd64" })))
      assert.is_true(allowed(gated("includes", { minKernel = "4.8" }, { kernel = "5.0" })))
      assert.is_false(allowed(gated("includes", { minKernel = "4.8" }, { kernel = "4.7.10" })))
      assert.is_false(allowed(gated("includes", { minKernel = "4.10" }, { kernel = "4.9" })))
      assert.is_false(allowed(gated("excludes", { minKernel = "4.8" }, { kernel = "6.1" })))
      assert.is_true(allowed(gated("excludes", { minKernel = "4.8" }, { kernel = "3.10" })))
    end)
  end)

  describe("arches from the profile", function()
    it("uses archMap's entry for the host arch", function()
      if core.host_arch() ~= "x86_64" then return pending("x86_64 host needed") end
      local f, report = oci.import(profile({ defaultAction = "SCMP_ACT_ERRNO",
        archMap = { { architecture = "SCMP_ARCH_AARCH64", subArchitectures = { "SCMP_ARCH_ARM" } },
                    { architecture = "SCMP_ARCH_X86_64", subArchitectures = { "SCMP_ARCH_X86" } } },
        syscalls = { { names = { "getpid" }, action = "SCMP_ACT_ALLOW" } } }))
      assert.same({ "x86_64", "i386" }, f.arches)
      assert.equal("allow", f:eval("getpid", nil, "i386"))
      assert.equal("kill_process", f:eval("getpid", nil, "x32"))   -- not listed: bad arch
      assert.equal("archMap", report.arches_from)
    end)

    it("adds 'architectures' to the host's, and reports ones sx cannot build for", function()
      if core.host_arch() ~= "x86_64" then return pending("x86_64 host needed") end
      local f, report = oci.import(profile({ defaultAction = "SCMP_ACT_ERRNO",
        architectures = { "SCMP_ARCH_X32", "SCMP_ARCH_MIPS" },
        syscalls = { { names = { "getpid" }, action = "SCMP_ACT_ALLOW" } } }))
      assert.same({ "x86_64", "x32" }, f.arches)
      assert.same({ "SCMP_ARCH_MIPS" }, report.unsupported_arches)
    end)

    it("lets the caller's arches win", function()
      local f, report = oci.import(profile({ defaultAction = "SCMP_ACT_ERRNO",
        architectures = { "SCMP_ARCH_X86" }, syscalls = {} }), { arches = { "aarch64" } })
      assert.same({ "aarch64" }, f.arches)
      assert.equal("opts", report.arches_from)
    end)
  end)

  it("reports names no target arch has, and refuses typos when strict", function()
    local text = profile({ defaultAction = "SCMP_ACT_ERRNO", syscalls = {
      { names = { "read", "reed", "_llseek" }, action = "SCMP_ACT_ALLOW" } } })
    local f, report = import(text)
    assert.equal("allow", f:eval("read"))
    assert.same({ "reed", "_llseek" }, report.skipped.x86_64)
    assert.equal("reed", report.unknown[1].name)
    assert.is_false(report.unknown[1].known)
    assert.equal("syscalls[0]", report.unknown[1].path)
    assert.is_true(report.unknown[2].known)
    local err = bad(text, { arches = { "x86_64" }, strict = true })
    assert.equal("syscalls[0]", err.path)
    assert.matches('unknown syscall "reed"', err.message)
  end)
end)

describe("malformed profiles", function()
  local function entry(fields)
    local e = { names = { "read" }, action = "SCMP_ACT_ALLOW" }
    for k, v in pairs(fields) do e[k] = v end
    return profile({ defaultAction = "SCMP_ACT_ERRNO", syscalls = { e } })
  end
  local function arg(fields)
    local a = { index = 0, value = 1, op = "SCMP_CMP_EQ" }
    for k, v in pairs(fields) do a[k] = v end
    return entry({ args = { a } })
  end
  local cases = {
    { '{"syscalls": []}', "defaultAction", "missing" },
    { '{"defaultAction": 3}', "defaultAction", "expected a string, got number" },
    { '{"defaultAction": "SCMP_ACT_DENY"}', "defaultAction", 'unknown action "SCMP_ACT_DENY"' },
    { '{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000}', "defaultErrnoRet", "out of range" },
    { '{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrno": "EFOO"}', "defaultErrno", 'unknown errno name "EFOO"' },
    { '{"defaultAction": "SCMP_ACT_ALLOW", "sycalls": []}', "sycalls", "unknown field" },
    { '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {"a": 1}}', "syscalls", "expected an array, got object" },
    -- an object whose keys are digits is no array (it was read as an empty one: a deny
    -- list's rules, an entry's args or its excludes vanished)
    { '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {"1": {"names": ["mount"], "action": "SCMP_ACT_ERRNO"}}}',
      "syscalls", "expected an array, got object" },
    { '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", ' ..
      '"excludes": {"caps": {"1": "CAP_SYS_PTRACE"}}}]}', "syscalls[0].excludes.caps", "expected an array, got object" },
    { '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": {"1": "mount"}, "action": "SCMP_ACT_ERRNO"}]}',
      "syscalls[0].names", "expected an array, got object" },
    { '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [3]}', "syscalls[0]", "expected an object, got number" },
    { '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_65"]}', "architectures[0]", "unknown architecture" },
    { '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}',
      "archMap", "both" },
    { '{"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": "SCMP_ARCH_X86"}]}',
      "archMap[0].subArchitectures", "expected an array, got string" },
    { entry({ names = "read" }), "syscalls[0].names", "expected an array, got string" },
    { entry({ names = { "read", 5 } }), "syscalls[0].names[1]", "expected a string, got number" },
    { entry({ names = {} , name = "read" }), nil, nil },   -- empty names + name: fine
    { entry({ name = "write" }), "syscalls[0]", "use 'name' or 'names', not both" },
    { entry({ action = "SCMP_ACT_ALOW" }), "syscalls[0].action", 'unknown action "SCMP_ACT_ALOW"' },
    { entry({ errnoRet = -1 }), "syscalls[0].errnoRet", "non%-negative" },
    { entry({ errnoRet = 1.5 }), "syscalls[0].errnoRet", "expected an integer" },
    { entry({ excludes = { caps = { "CAP_SYS_ADMN" } } }), "syscalls[0].excludes.caps[0]", 'unknown capability "CAP_SYS_ADMN"' },
    { entry({ excludes = { cap = { "CAP_SYS_ADMIN" } } }), "syscalls[0].excludes.cap", "unknown field" },
    { entry({ includes = { arches = { "x86_64" } } }), "syscalls[0].includes.arches[0]", 'unknown architecture "x86_64"' },
    { entry({ includes = { minKernel = "4" } }), "syscalls[0].includes.minKernel", "invalid kernel version" },
    { entry({ includes = { minKernel = 4.8 } }), "syscalls[0].includes.minKernel", "expected a string" },
    { entry({ includes = "all" }), "syscalls[0].includes", "expected an object, got string" },
    { entry({ args = { index = 0 } }), "syscalls[0].args", "expected an array, got object" },
    { arg({ op = "SCMP_CMP_FOO" }), "syscalls[0].args[0].op", 'unknown operator "SCMP_CMP_FOO"' },
    { arg({ op = 4 }), "syscalls[0].args[0].op", "expected a string, got number" },
    { arg({ index = 6 }), "syscalls[0].args[0].index", "out of range" },
    { arg({ value = -1 }), "syscalls[0].args[0].value", "non%-negative" },
    { arg({ value = "1" }), "syscalls[0].args[0].value", "expected a number, got string" },
    { arg({ valueTwo = true }), "syscalls[0].args[0].valueTwo", "expected a number, got boolean" },
    { arg({ value = 1.5 }), "syscalls[0].args[0].value", "expected an integer" },
    { arg({ mask = 1 }), "syscalls[0].args[0].mask", "unknown field" },
  }
  for i, c in ipairs(cases) do
    it(fmt("case %d: %s", i, c[2] or "accepted"), function()
      if not c[2] then
        import(c[1])
        return
      end
      local err = bad(c[1])
      assert.equal(c[2], err.path)
      assert.matches(c[3], err.message)
      local text = tostring(err):gsub("^[^:]*%.lua:%d+: ", "")
      assert.equal(c[2] .. ": ", text:sub(1, #c[2] + 2))
    end)
  end

  it("refuses values that do not fit 64 bits or lost their precision", function()
    local err = bad('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], ' ..
                    '"action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ"}]}]}')
    assert.equal("syscalls[0].args[0].value", err.path)
    err = bad('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], ' ..
              '"action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1e19, "op": "SCMP_CMP_EQ"}]}]}')
    assert.equal("syscalls[0].args[0].value", err.path)
  end)

  it("names the JSON path in tostring(err)", function()
    local err = bad(profile({ defaultAction = "SCMP_ACT_ALLOW", syscalls = {
      { names = { "read" }, action = "SCMP_ACT_ERRNO" }, { names = { "read" }, action = "SCMP_ACT_ERRNO",
      args = { { index = 0, value = 1, op = "SCMP_CMP_EQ" }, { index = 1, value = 2, op = "SCMP_CMP_FOO" } } } } }))
    assert.equal("syscalls[1].args[1].op", err.path)
    assert.matches('syscalls%[1%]%.args%[1%]%.op: unknown operator "SCMP_CMP_FOO"', tostring(err))
  end)

  it("checks options", function()
    assert.has_error(function() oci.import("{}", { capz = {} }) end)
    assert.has_error(function() oci.import("{}", { caps = { "CAP_FOO" } }) end)
    assert.has_error(function() oci.import("{}", { kernel = "new" }) end)
    local f, err = oci.import('{"defaultAction": "SCMP_ACT_ALLOW"}', { arch = "vax" })
    assert.is_nil(f)
    assert.equal("unsupported_arch", err.code)
  end)
end)

describe("oci.export", function()
  local gen = require "support.random_rules"
  local cjson = require "cjson"
  local E = seccomp.errno

  -- every syscall number of every arch (and some past the tables), and argument vectors
  -- made from the rules' own values, decided the same by f and g
  local function same_decisions(f, g, seed)
    for _, arch in ipairs(f.arches) do
      for n = 0, 600 do
        local a, b = f:eval(n, nil, arch), g:eval(n, nil, arch)
        if a ~= b then return fmt("%s nr %d: %s vs %s", arch, n, tostring(a), tostring(b)) end
      end
      local vals = { 0, 1, -1, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000 }
      for _, r in ipairs(f.rules) do
        for _, c in ipairs(r.args or {}) do
          for _, v in ipairs({ c.value, c.value - 1, c.value + 1, c.mask or 0, ~c.value, (c.mask or 0) ~ c.value }) do
            vals[#vals + 1] = v
          end
        end
      end
      local r = gen.rng(seed)
      for _, rule in ipairs(f.rules) do
        local sc = rule.syscall
        if seccomp.syscall_number(type(sc) == "string" and sc or "read", arch) then
          for _ = 1, 100 do
            local args = {}
            for i = 1, 6 do args[i] = r.chance(0.8) and vals[r.int(1, #vals)] or r.u64() end
            local a, b = f:eval(sc, args, arch), g:eval(sc, args, arch)
            if a ~= b then
              return fmt("%s %s(%s): %s vs %s", arch, tostring(sc), concat(args, ", "), tostring(a), tostring(b))
            end
          end
        end
      end
    end
    return nil
  end

  local function check_shape(json)
    local t = assert(cjson.decode(json))
    for k in pairs(t) do
      assert.truthy(({ defaultAction = 1, defaultErrnoRet = 1, architectures = 1, syscalls = 1 })[k], k)
    end
    assert.matches("^SCMP_ACT_", t.defaultAction)
    for _, a in ipairs(t.architectures) do assert.matches("^SCMP_ARCH_", a) end
    for i, e in ipairs(t.syscalls) do
      for k in pairs(e) do assert.truthy(({ names = 1, action = 1, errnoRet = 1, args = 1 })[k], k) end
      assert.is_true(#e.names > 0)
      assert.matches("^SCMP_ACT_", e.action)
      local seen = {}
      for _, a in ipairs(e.args or {}) do
        assert.is_nil(seen[a.index], fmt("syscalls[%d] uses index %d twice", i - 1, a.index))
        seen[a.index] = true
        assert.matches("^SCMP_CMP_", a.op)
      end
    end
    return t
  end

  local function round_trip(f, seed)
    local json = assert(oci.export(f))
    check_shape(json)
    local g, report = oci.import(json, { arches = f.arches, bad_arch = f.bad_arch })
    assert(g, tostring(report))
    assert.same({}, report.dropped)   -- nothing for the runtime to throw away
    assert.same({}, report.unknown)
    assert.is_nil(same_decisions(f, g, seed or 1))
    return json, g
  end

  it("writes Docker's shape, one line an argument", function()
    local f = assert(seccomp.from_rules({
      { "allow", "read" }, { "allow", "write" },
      { action = "allow", syscall = "socket", args = { { index = 0, op = "eq", value = 1 } } },
      { action = E("EACCES"), syscall = "mmap", args = { { index = 2, op = "masked_eq", mask = 4, value = 4 } } },
      { action = "allow", syscall = "mmap" },
    }, E("EPERM"), { arch = "x86_64" }))
    local json = round_trip(f)
    assert.equal([[
{
  "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
  "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [
    {
      "names": ["read", "write"],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "names": ["socket"],
      "action": "SCMP_ACT_ALLOW",
      "args": [
        { "index": 0, "value": 4294967295, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ" }
      ]
    },
    {
      "names": ["mmap"],
      "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
      "args": [
        { "index": 2, "value": 4, "valueTwo": 4, "op": "SCMP_CMP_MASKED_EQ" }
      ]
    },
    {
      "names": ["mmap"],
      "action": "SCMP_ACT_ALLOW",
      "args": [
        { "index": 2, "value": 4, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ" }
      ]
    }
  ]
}
]], json)
  end)

  it("round-trips hand-made filters: every action, 64-bit values, ranges, holes", function()
    local filters = {
      { { { "kill_thread", "getpid" }, { "trap", "getppid" }, { "log", "gettid" }, { "notify", "getuid" },
          { seccomp.trace(300), "geteuid" }, { E(0), "getgid" }, { "kill_process", "getegid" }, { "allow", "read" } },
        E("ENOSYS"), { arch = "x86_64" } },
      -- values past 2^63 and 2^53
      { { { action = E(5), syscall = "write", args = { { index = 1, op = "eq", value = -1 } } },
          { action = E(6), syscall = "write", args = { { index = 1, op = "ge", value = "0x8000000000000000" } } },
          { action = E(7), syscall = "write", args = { { index = 1, op = "eq", value = 9007199254740993 } } } },
        "allow", { arch = "x86_64" } },
      -- a range on one argument, a hole with the default's own action, an unconditional rest
      { { { action = "allow", syscall = "prctl", args = { { index = 0, op = "ge", value = 5 }, { index = 0, op = "le", value = 900 } } },
          { action = "kill_process", syscall = "prctl", args = { { index = 0, op = "eq", value = 1000 } } },
          { action = E("EPERM"), syscall = "kill", args = { { index = 1, op = "eq", value = 9 } } },
          { action = "allow", syscall = "kill" },
          { action = "allow", syscall = "ioctl", args = { { index = 1, op = "ne", value = 0x5412 }, { index = 1, op = "ne", value = 0x541c } } },
          { action = "log", syscall = "openat", args = { { index = 2, op = "masked_eq", mask = 3, value = 1 }, { index = 2, op = "masked_eq", mask = 0x40, value = 0x40 } } },
          { action = "allow", syscall = "openat" } },
        E("EPERM"), { arches = { "x86_64", "i386", "x32" } } },
      -- overlapping rules of different actions: the first wins in sx, so must in the profile
      { { { action = "trap", syscall = "socket", args = { { index = 0, op = "lt", value = 10 }, { index = 1, op = "eq", value = 2 } } },
          { action = "allow", syscall = "socket", args = { { index = 0, op = "lt", value = 20 } } },
          { action = "log", syscall = "socket", args = { { index = 1, op = "masked_eq", mask = 0xf, value = 2 } } },
          { action = "kill_thread", syscall = "socket" } },
        "allow", { arches = { "aarch64", "arm" } } },
      -- by number, a syscall the primary arch names
      { { { "allow", 0 }, { action = E(1), syscall = 1, args = { { index = 0, op = "gt", value = 2 } } } },
        "kill_process", { arch = "x86_64" } },
    }
    for i, c in ipairs(filters) do
      local f = assert(seccomp.from_rules(c[1], c[2], c[3]))
      round_trip(f, i)
    end
  end)

  it("round-trips random filters, or refuses them as too big, never decides differently", function()
    local done, refused = 0, 0
    for seed = 1, 120 do
      local case = gen.rule_set(seed, 5)
      local f = seccomp.from_rules(case.rules, case.default, case.opts)
      if f then
        local json, err = oci.export(f)
        if not json then
          -- a syscall given by a number no table names, or too many entries
          assert.truthy(err.code == "bad_rule" or err.code == "too_big", tostring(err))
          refused = refused + 1
        else
          local g, gerr = oci.import(json, { arches = f.arches, bad_arch = f.bad_arch })
          if not g then
            assert.equal("too_big", gerr.code, tostring(gerr))   -- more than 4096 insns
            refused = refused + 1
          else
            local diff = same_decisions(f, g, seed)
            assert.is_nil(diff, "seed " .. seed .. ": " .. tostring(diff))
            done = done + 1
          end
        end
      end
    end
    assert.is_true(done >= 50, fmt("%d round-tripped, %d refused", done, refused))
    print(fmt("(oci: %d random filters round-tripped, %d refused)", done, refused))
  end)

  it("needs rules", function()
    local f = assert(seccomp.allow_list({ "read" }, { arch = "x86_64" }))
    local raw = assert(seccomp.load(f.bpf, "x86_64"))
    local json, err = oci.export(raw)
    assert.is_nil(json)
    assert.equal("no_rules", err.code)
    assert.has_error(function() oci.export("not a filter") end)
    assert.has_error(function() oci.export(f, { pretty = true }) end)
  end)

  -- libseccomp compares only the low 32 bits of an argument on x32, where the kernel reads
  -- a long of the native calls on 64 (prctl's arg2): spec/oci_libseccomp_spec.lua shows
  -- libseccomp's filter letting prctl(4, 0x100000005) through an EQ of 5 there.
  it("refuses a condition on the high word of an argument x32 reads on 64 bits", function()
    local rules = { { action = "allow", syscall = "prctl", args = { { index = 1, op = "eq", value = 5 } } } }
    local f = assert(seccomp.from_rules(rules, "kill_process", { arches = { "x86_64", "x32" } }))
    local json, err = oci.export(f)
    assert.is_nil(json)
    assert.equal("bad_rule", err.code)
    assert.equal("argument 1 of 'prctl' is read on 64 bits on x32, where libseccomp compares " ..
      "only its low 32, so a profile cannot say a condition on all of it: export without " ..
      "x32, or test the argument with a mask within its low 32 bits", err.message)
    -- without x32, or on an argument x32 reads on 32 bits (compat ioctl's arg), or with a
    -- mask within the low 32 bits, it is said
    assert.truthy(oci.export(assert(seccomp.from_rules(rules, "kill_process", { arch = "x86_64" }))))
    for _, c in ipairs({ { syscall = "ioctl", args = { { index = 2, op = "le", value = 5 } } },
                         { syscall = "mprotect", args = { { index = 2, op = "masked_eq", mask = 4, value = 0 } } } }) do
      c.action = "allow"
      assert.truthy(oci.export(assert(seccomp.from_rules({ c }, "kill_process", { arches = { "x86_64", "x32" } }))))
    end
    local wide = { action = "allow", syscall = "mprotect",
                   args = { { index = 2, op = "masked_eq", mask = 0x100000004, value = 0 } } }
    f = assert(seccomp.from_rules({ wide }, "kill_process", { arches = { "x86_64", "x32" } }))
    assert.matches("argument 2 of 'mprotect' is read on 64 bits on x32", select(2, oci.export(f)).message)
  end)
end)

describe("fixtures", function()
  local DIR = (os.getenv("SX_SOURCE_DIR") or ".") .. "/spec/fixtures/"

  it("imports a runc config.json's linux.seccomp", function()
    local f, report = import(read(DIR .. "oci_config.json"), { arches = { "x86_64", "i386", "x32" } })
    local ENOSYS = seccomp.errno("ENOSYS")
    assert.equal("allow", f:eval("openat"))
    assert.equal("allow", f:eval("newfstatat", nil, "x32"))
    assert.equal(ENOSYS, f:eval("socket"))
    assert.equal("allow", f:eval("personality", { 8 }))
    assert.equal(ENOSYS, f:eval("personality", { 0 }))
    -- the conditional ioctl entry is dropped: the unconditional one wins, as in libseccomp
    assert.equal("allow", f:eval("ioctl", { 0, 21522 }))
    assert.equal("linux.seccomp.syscalls[2]", report.dropped[1].path)
    assert.equal("kill_process", f:eval("kill", { 0, -1 }))
    assert.equal(ENOSYS, f:eval("kill", { 0, 9 }))
    assert.matches("SECCOMP_FILTER_FLAG_LOG", report.notes[1])
  end)

  it("imports podman's shape: errno names, caps, minKernel, arches", function()
    if core.host_arch() ~= "x86_64" then return pending("x86_64 host needed") end
    local text = read(DIR .. "podman_profile.json")
    local f, report = oci.import(text, { kernel = "6.1" })
    assert.same({ "x86_64", "i386", "x32" }, f.arches)
    assert.equal("allow", f:eval("uname", nil, "i386"))
    assert.equal(seccomp.errno("ENOSYS"), f:eval("keyctl"))
    assert.equal(seccomp.errno("ENOSYS"), f:eval("vm86", nil, "i386"))
    assert.equal(EPERM, f:eval("socket"))
    assert.equal("allow", f:eval("pidfd_getfd"))
    assert.equal("log", f:eval("mount"))
    local skipped = " " .. concat(report.skipped.x86_64, " ") .. " "
    assert.matches(" vm86 ", skipped)          -- i386 only
    assert.not_matches(" vm86 ", " " .. concat(report.skipped.i386 or {}, " ") .. " ")
    local admin = oci.import(text, { kernel = "5.4", caps = { "CAP_SYS_ADMIN" } })
    assert.equal("allow", admin:eval("keyctl"))
    assert.equal(EPERM, admin:eval("pidfd_getfd"))
  end)
end)

-- import compiles an entry's names as one rule with a list of syscalls, to_rules gives a
-- rule a name: the program must be the same, whatever the profile, arches and caps.
describe("import and to_rules", function()
  local gen = require "support.random_rules"
  local DIR = (os.getenv("SX_SOURCE_DIR") or ".") .. "/spec/fixtures/"
  local function same_program(text, opts, what)
    local f, err = oci.import(text, opts)
    local rules, default, build = oci.to_rules(text, opts)
    if not f then              -- the same error, its rule counted as to_rules counts them
      assert(rules, what .. ": " .. tostring(err))
      local g, gerr = seccomp.from_rules(rules, default, build)
      assert.is_nil(g, what .. ": " .. tostring(err))
      assert.same({ gerr.code, gerr.rule, gerr.message }, { err.code, err.rule, err.message }, what)
      return 0
    end
    for _, r in ipairs(rules) do assert.equal("string", type(r.syscall), what) end
    assert.equal(assert(seccomp.from_rules(rules, default, build)).bpf, f.bpf, what)
    return #rules
  end

  it("give the same program for the fixtures, on every arch set and capability set", function()
    local ARCHES = { { "x86_64" }, { "x86_64", "i386", "x32" }, { "i386" }, { "aarch64", "arm" },
                     { "s390x" }, { "ppc64le" } }
    local CAPS = { nil, {}, { "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_BPF" } }
    for _, file in ipairs({ "docker-default.json", "podman_profile.json", "oci_config.json",
                            "containers_common_profile.json" }) do
      local text = read(DIR .. file)
      for _, arches in ipairs(ARCHES) do
        for c = 1, 3 do
          same_program(text, { arches = arches, caps = CAPS[c], kernel = c == 3 and "4.0" or "6.1" },
                       fmt("%s on %s, caps %d", file, concat(arches, "+"), c))
        end
      end
    end
  end)

  it("give the same program where entries replace, repeat and add multiplexer rules", function()
    local text = profile({ defaultAction = "SCMP_ACT_ALLOW", syscalls = {
      { names = { "socket", "bind" }, action = "SCMP_ACT_ERRNO",
        args = { { index = 0, value = 2, op = "SCMP_CMP_EQ" } } },
      { names = { "socket", "connect", "ptrace" }, action = "SCMP_ACT_ERRNO" },
      { names = { "bind", "semctl" }, action = "SCMP_ACT_KILL" },
      { names = { "ptrace", "mount" }, action = "SCMP_ACT_LOG" },
      { names = { "read" }, action = "SCMP_ACT_ALLOW" },
      { names = { "umount2", "mount", "chroot" }, action = "SCMP_ACT_KILL" } } })
    for _, arches in ipairs({ { "x86_64" }, { "i386" }, { "x86_64", "i386" }, { "s390x" } }) do
      assert.is_true(same_program(text, { arches = arches }, concat(arches, "+")) > 0)
    end
    local twice = profile({ defaultAction = "SCMP_ACT_ERRNO", syscalls = {
      { names = { "read", "write", "close" }, action = "SCMP_ACT_ALLOW" },
      { names = { "personality" }, action = "SCMP_ACT_ALLOW", args = { { index = 0, value = 8, op = "SCMP_CMP_EQ" } } },
      { names = { "personality" }, action = "SCMP_ACT_ALLOW", args = { { index = 0, value = 8, op = "SCMP_CMP_EQ" } } } } })
    assert.equal(0, same_program(twice, { arches = { "x86_64" } }, "an entry that never decides"))
    local f, report = oci.import(text, { arches = { "i386" } })
    assert.equal(EPERM, f:eval("connect"))
    assert.equal("kill_thread", (f:eval("bind", { 2 })))      -- the unconditional entry replaced it
    assert.equal("log", (f:eval("mount")))                    -- the first unconditional entry decides
    assert.is_true(#report.notes > 0)                         -- socketcall's calls added
  end)

  it("give the same program for random exported filters", function()
    local n = 0
    for seed = 1, 60 do
      local case = gen.rule_set(seed, 5)
      local f = seccomp.from_rules(case.rules, case.default, case.opts)
      local json = f and oci.export(f)
      if json then
        same_program(json, { arches = f.arches, bad_arch = f.bad_arch }, "seed " .. seed)
        n = n + 1
      end
    end
    assert.is_true(n >= 20, n .. " exported")
  end)
end)

-- The exported profile in a real OCI runtime: runc (what Docker and containerd run)
-- builds it with libseccomp and installs it before it executes the container's process.
describe("an exported profile under runc", function()
  local BUNDLE = os.tmpname()
  local why_not
  local serial = 0

  local function sh(cmd)
    local p = io.popen(cmd .. " 2>&1; echo \"rc=$?\"")
    local out = p:read("a")
    p:close()
    local rc = tonumber(out:match("rc=(%d+)%s*$"))
    return (out:gsub("rc=%d+%s*$", "")), rc
  end

  -- run argv in a container whose rootfs shows the host's /usr /bin /lib /lib64, read-only,
  -- with `profile` (JSON text) as linux.seccomp
  local function runc(profile, argv)
    local args = {}
    for i, a in ipairs(argv) do args[i] = require("cjson").encode(a) end
    local binds = {}
    for _, d in ipairs({ "/usr", "/bin", "/lib", "/lib64" }) do
      binds[#binds + 1] = fmt('{"destination": "%s", "type": "bind", "source": "%s", "options": ["rbind", "ro"]}', d, d)
    end
    local config = fmt([[{
  "ociVersion": "1.0.2",
  "process": {"user": {"uid": 0, "gid": 0}, "args": [%s], "cwd": "/", "env": ["PATH=/usr/bin:/bin"],
    "noNewPrivileges": true,
    "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}},
  "root": {"path": "rootfs", "readonly": true},
  "mounts": [%s, {"destination": "/proc", "type": "proc", "source": "proc"}],
  "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]%s}
}]], concat(args, ", "), concat(binds, ", "), profile and (', "seccomp": ' .. profile) or "")
    local f = assert(io.open(BUNDLE .. "/config.json", "w"))
    f:write(config)
    f:close()
    serial = serial + 1
    return sh(fmt("cd %s && timeout 60 runc run sx-oci-%d-%d", BUNDLE, math.floor(os.time()) % 100000, serial))
  end

  setup(function()
    os.remove(BUNDLE)
    local _, rc = sh("command -v runc")
    if rc ~= 0 then why_not = "runc is not installed (Debian's runc; tools/setup installs it)" return end
    sh(fmt("mkdir -p %s/rootfs/usr %s/rootfs/bin %s/rootfs/lib %s/rootfs/lib64 %s/rootfs/proc",
           BUNDLE, BUNDLE, BUNDLE, BUNDLE, BUNDLE))
    local out
    out, rc = runc(nil, { "uname", "-s" })
    if rc ~= 0 or out ~= "Linux\n" then why_not = "runc cannot run a container here: " .. out end
  end)

  teardown(function() sh("rm -rf " .. BUNDLE) end)

  local function runs(name, fn)
    it(name, function()
      if why_not then return pending(why_not) end
      if core.host_arch() ~= "x86_64" then return pending("the programs' ABI is checked for x86_64 hosts") end
      fn()
    end)
  end

  runs("enforces the errno of an exported rule", function()
    local f = assert(seccomp.deny_list({ "uname" }, { deny_action = seccomp.errno("ENOTRECOVERABLE") }))
    local out, rc = runc(assert(oci.export(f)), { "uname", "-s" })
    assert.equal(1, rc)
    assert.matches("State not recoverable", out)
  end)

  runs("enforces exported argument conditions", function()
    local f = assert(seccomp.from_rules({
      { action = seccomp.errno("ENOTRECOVERABLE"), syscall = "mkdirat", args = { { index = 2, op = "eq", value = 0x1c0 } } },
      { action = seccomp.errno("ENOTRECOVERABLE"), syscall = "mkdir", args = { { index = 1, op = "eq", value = 0x1c0 } } },
    }, "allow"))
    local json = assert(oci.export(f))
    local out = runc(json, { "mkdir", "-m", "0700", "/sx-oci-test" })
    assert.matches("State not recoverable", out)
    out = runc(json, { "mkdir", "-m", "0755", "/sx-oci-test" })
    assert.matches("Read%-only file system", out)
  end)

  runs("enforces Docker's default profile after sx.oci read and rewrote it", function()
    local f = assert(oci.import(read(DOCKER)))
    local json = assert(oci.export(f))
    local out, rc = runc(json, { "uname", "-s" })
    assert.equal(0, rc, out)
    -- without a profile the container may make a user namespace; with Docker's it may not
    out, rc = runc(nil, { "unshare", "-U", "true" })
    assert.equal(0, rc, out)
    out, rc = runc(json, { "unshare", "-U", "true" })
    assert.is_not.equal(0, rc)
    assert.matches("Operation not permitted", out)
  end)

  -- runc itself as the judge of how sx.oci reads a profile: args repeating an index are
  -- alternatives, a later unconditional entry replaces conditional ones, and a
  -- conditional entry after an unconditional one is dropped.
  runs("reads a profile the way runc does", function()
    local function entries(name, index)
      local function arg(mode) return fmt('{"index": %d, "value": %d, "op": "SCMP_CMP_EQ"}', index, mode) end
      return {
        -- mkdir: 0700 or 0750 -> ENOTRECOVERABLE (one entry, index repeated)
        fmt('{"names": ["%s"], "action": "SCMP_ACT_ERRNO", "errnoRet": 131, "args": [%s, %s]}',
            name, arg(448), arg(488)),
      }
    end
    local function profile_text(extra)
      local list = {}
      for _, e in ipairs(entries("mkdir", 1)) do list[#list + 1] = e end
      for _, e in ipairs(entries("mkdirat", 2)) do list[#list + 1] = e end
      for _, e in ipairs(extra) do list[#list + 1] = e end
      return '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [' .. concat(list, ", ") .. "]}"
    end
    local function verdict(out)
      if out:match("State not recoverable") then return seccomp.errno("ENOTRECOVERABLE") end
      if out:match("Invalid cross%-device link") then return seccomp.errno("EXDEV") end
      if out:match("Read%-only file system") then return "allow" end
      return "?? " .. out
    end
    local cases = {
      { {}, { [448] = seccomp.errno("ENOTRECOVERABLE"), [488] = seccomp.errno("ENOTRECOVERABLE"), [493] = "allow" } },
      -- an unconditional EXDEV after the conditional entries: it alone decides
      { { '{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}' },
        { [448] = seccomp.errno("EXDEV"), [493] = seccomp.errno("EXDEV") } },
    }
    for n, c in ipairs(cases) do
      local text = profile_text(c[1])
      local f = assert(oci.import(text, { arch = "x86_64" }))
      for mode, want in pairs(c[2]) do
        assert.equal(want, f:eval("mkdir", { 0, mode }), fmt("case %d mode %o, sx", n, mode))
        assert.equal(want, f:eval("mkdirat", { 0, 0, mode }), fmt("case %d mode %o, sx", n, mode))
        local out = runc(text, { "mkdir", "-m", fmt("%o", mode), "/sx-oci-test" })
        assert.equal(want, verdict(out), fmt("case %d mode %o, runc", n, mode))
      end
    end
    -- a conditional entry after an unconditional one is dropped (runc/libseccomp keep the first)
    local text = '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [' ..
      '{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}, ' ..
      '{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 131, "args": [{"index": 1, "value": 448, "op": "SCMP_CMP_EQ"}]}, ' ..
      '{"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 131, "args": [{"index": 2, "value": 448, "op": "SCMP_CMP_EQ"}]}]}'
    local f = assert(oci.import(text, { arch = "x86_64" }))
    assert.equal(seccomp.errno("EXDEV"), f:eval("mkdirat", { 0, 0, 448 }))
    assert.equal(seccomp.errno("EXDEV"), verdict((runc(text, { "mkdir", "-m", "700", "/sx-oci-test" }))))
  end)

  runs("kills with SCMP_ACT_KILL_PROCESS", function()
    local f = assert(seccomp.deny_list({ "uname" }, { deny_action = "kill_process" }))
    local _, rc = runc(assert(oci.export(f)), { "uname", "-s" })
    assert.equal(128 + 31, rc)   -- runc run exits with 128 + the signal
  end)
end)

-- The real kernel agrees: compiled filters are installed in forked children
-- (sx.core.probe) and what the kernel does to one raw syscall is compared with what the
-- filter promises (f:eval, and the reference evaluator).
local seccomp = require "sx.seccomp"
local core = require "sx.core"
local reference = require "support.reference"
local gen = require "support.random_rules"
local agree = require "support.agree"

local X32_BIT = 0x40000000
local SIGSYS, ENOSYS, EBADF = 31, 38, 9

local host = seccomp.arch()
local usable = seccomp.supported() and host == "x86_64"

-- The kernel's answer to syscall `nr` with `args` under filter f.
local function probe(f, nr, args)
  args = args or {}
  return core.probe(f.bpf, nr, args[1] or 0, args[2] or 0, args[3] or 0, args[4] or 0,
                    args[5] or 0, args[6] or 0)
end

local function nr_of(name) return assert(seccomp.syscall_number(name, "x86_64")) end

-- What a child sees when the filter returns `act` for a syscall that, when it runs,
-- returns normally (`runs` = "returned") or fails with EBADF (`runs` = "ebadf").
local function expected(act, runs)
  if act == "allow" or act == "log" then
    if runs == "ebadf" then return "errno", EBADF end
    return "returned", nil
  end
  if act == "kill_process" or act == "kill_thread" or act == "trap" then return "signaled", SIGSYS end
  if act == "notify" then return "errno", ENOSYS end          -- no listener
  local v = reference.action_value(act)
  if v & 0xffff0000 == 0x7ff00000 then return "errno", ENOSYS end   -- trace, no tracer
  assert(v & 0xffff0000 == 0x00050000, "unexpected action " .. tostring(act))
  if v & 0xffff == 0 then return "returned", 0 end            -- errno(0): returns 0
  return "errno", v & 0xffff
end

local function my_pid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("n")
  f:close()
  return pid
end

-- Check the kernel's answer for one probe against the filter's own verdict.
local function agrees(f, name_or_nr, args, runs, context)
  local nr = type(name_or_nr) == "string" and nr_of(name_or_nr) or name_or_nr
  local act = f:eval(nr, args)
  local want_kind, want_value = expected(act, runs)
  local kind, value = probe(f, nr, args)
  local what = ("%s: syscall %s args {%s}: filter says %s, kernel did %s %s"):format(
    context or "", tostring(name_or_nr), table.concat((function()
      local t = {}
      for i = 1, 6 do t[i] = ("0x%x"):format(args and args[i] or 0) end
      return t
    end)(), ", "), tostring(act), kind, tostring(value))
  assert.equal(want_kind, kind, what)
  if want_value ~= nil then assert.equal(want_value, value, what) end
  return act
end

local describe_kernel = usable and describe or function(name)
  describe(name, function()
    pending(seccomp.supported() and "the kernel spec's syscalls are x86_64 ones; host is " .. host
            or "seccomp is not supported on this kernel")
  end)
end

describe_kernel("installed filters (real kernel, forked children)", function()
  it("an allowed syscall works", function()
    local f = assert(seccomp.allow_list({ "getpid", "getppid", "exit_group" }, { arch = "x86_64" }))
    local kind, pid = probe(f, nr_of("getpid"))
    assert.equal("returned", kind)
    assert.is_true(pid > 0 and pid ~= my_pid())
    kind, pid = probe(f, nr_of("getppid"))
    assert.equal("returned", kind)
    assert.equal(my_pid(), pid)         -- the child's parent is this process
  end)

  it("errno(N) makes the syscall fail with N", function()
    for _, e in ipairs({ 1, 13, 22, 95, 4095 }) do
      local f = assert(seccomp.from_rules({ { seccomp.errno(e), "getppid" } }, "allow",
                                          { arch = "x86_64" }))
      assert.same({ "errno", e }, { probe(f, nr_of("getppid")) })
      assert.equal("returned", (probe(f, nr_of("getpid"))))
    end
    local f = assert(seccomp.deny_list({ "getppid" }, { arch = "x86_64", deny_action = seccomp.errno("EACCES") }))
    assert.same({ "errno", 13 }, { probe(f, nr_of("getppid")) })
    -- errno(0) skips the call and returns 0
    f = assert(seccomp.from_rules({ { seccomp.errno(0), "getppid" } }, "allow", { arch = "x86_64" }))
    assert.same({ "returned", 0 }, { probe(f, nr_of("getppid")) })
  end)

  it("kill_process ends the child with SIGSYS; the default decides the rest", function()
    local f = assert(seccomp.from_rules({ { "kill_process", "getppid" } }, "allow", { arch = "x86_64" }))
    assert.same({ "signaled", SIGSYS }, { probe(f, nr_of("getppid")) })
    f = assert(seccomp.allow_list({ "getpid", "exit_group" }, { arch = "x86_64" }))
    assert.same({ "signaled", SIGSYS }, { probe(f, nr_of("getuid")) })
    assert.equal("returned", (probe(f, nr_of("getpid"))))
  end)

  it("trap, kill_thread, log, notify and trace behave as the kernel documents", function()
    local f = assert(seccomp.from_rules({
      { "trap", "getuid" }, { "kill_thread", "getgid" }, { "log", "geteuid" },
      { "notify", "getegid" }, { seccomp.trace(3), "gettid" },
    }, "allow", { arch = "x86_64" }))
    assert.same({ "signaled", SIGSYS }, { probe(f, nr_of("getuid")) })   -- SIGSYS, unhandled
    assert.same({ "signaled", SIGSYS }, { probe(f, nr_of("getgid")) })   -- the only thread
    local kind, uid = probe(f, nr_of("geteuid"))                          -- runs, logged
    assert.equal("returned", kind)
    assert.is_true(uid >= 0)
    assert.same({ "errno", ENOSYS }, { probe(f, nr_of("getegid")) })     -- no listener
    assert.same({ "errno", ENOSYS }, { probe(f, nr_of("gettid")) })      -- no tracer
  end)

  it("the x32 bit never reaches an x86_64 rule: it gets the bad-arch action", function()
    local f = assert(seccomp.allow_list({ "getpid", "exit_group" },
                                        { arch = "x86_64", default = "allow", bad_arch = seccomp.errno(91) }))
    assert.equal("returned", (probe(f, nr_of("getpid"))))
    assert.same({ "errno", 91 }, { probe(f, X32_BIT | 39) })
    assert.same({ "errno", 91 }, { probe(f, X32_BIT | 520) })
    assert.same({ "errno", 91 }, { probe(f, -1) })                       -- 0xffffffff
    assert.equal(seccomp.errno(91), (f:eval(X32_BIT | 39, nil, "x86_64")))
    -- with the default bad-arch action the child is killed
    f = assert(seccomp.allow_list({ "getpid", "exit_group" }, { arch = "x86_64", default = "allow" }))
    assert.same({ "signaled", SIGSYS }, { probe(f, X32_BIT | 39) })
    -- an unknown x86_64 number is the default's, and the kernel then says ENOSYS
    assert.same({ "errno", ENOSYS }, { probe(f, 1000) })
  end)

  it("a filter with x32 decides x32 numbers by its x32 rules", function()
    local f = assert(seccomp.from_rules({ { seccomp.errno(44), "getpid" } }, "allow",
                                        { arches = { "x86_64", "x32" }, bad_arch = seccomp.errno(91) }))
    assert.same({ "errno", 44 }, { probe(f, X32_BIT | 39) })
    assert.same({ "errno", 44 }, { probe(f, 39) })
    -- an x32-only filter gives the bad-arch action to x86_64 numbers
    f = assert(seccomp.from_rules({ { seccomp.errno(44), "getpid" } }, "allow",
                                  { arch = "x32", bad_arch = seccomp.errno(91) }))
    assert.same({ "errno", 44 }, { probe(f, X32_BIT | 39) })
    assert.same({ "errno", 91 }, { probe(f, 39) })
    -- allowed x32 calls reach the kernel: ENOSYS without the x32 ABI, a pid with it
    local kind, v = probe(f, X32_BIT | nr_of("getppid"))
    assert.is_true((kind == "errno" and v == ENOSYS) or (kind == "returned" and v == my_pid()),
                   kind .. " " .. tostring(v))
  end)

  it("argument conditions decide as the emulator says (fixed cases, 64-bit values)", function()
    local f = assert(seccomp.from_rules({
      { seccomp.errno(11), "getppid", { { index = 0, op = "eq", value = 0x100000000 } } },
      { seccomp.errno(12), "getppid", { { index = 0, op = "gt", value = 0xffffffff } } },
      { seccomp.errno(13), "getppid", { { index = 1, op = "masked_eq", mask = "0x8000000000000001", value = 1 } } },
      { seccomp.errno(14), "getppid", { { index = 5, op = "lt", value = 3 }, { index = 4, op = "ge", value = -1 } } },
      { seccomp.errno(15), "getppid", { { index = 2, op = "ne", value = 0 } } },
    }, "allow", { arch = "x86_64" }))
    local cases = {
      { { 0x100000000 }, "errno", 11 },
      { { 0x100000001 }, "errno", 12 },
      { { 0xffffffff }, "returned" },
      { { -1 }, "errno", 12 },
      { { 0, 0x8000000000000001 }, "returned" },                 -- high bit set: mask misses
      { { 0, 1 }, "errno", 13 },
      { { 0, 0x0000000100000001 }, "errno", 13 },
      { { 0, 0, 0, 0, -1, 2 }, "errno", 14 },
      { { 0, 0, 0, 0, -2, 2 }, "returned" },
      { { 0, 0, 0x100000000 }, "errno", 15 },
      { { 0, 0, 1 }, "errno", 15 },
    }
    for i, c in ipairs(cases) do
      local kind, value = probe(f, nr_of("getppid"), c[1])
      assert.equal(c[2], kind, "case " .. i)
      if c[3] then assert.equal(c[3], value, "case " .. i) end
      agrees(f, "getppid", c[1], "returned", "case " .. i)
    end
  end)

  it("argument conditions decide as the emulator says (random rule sets)", function()
    -- syscalls that ignore their arguments, so any 64-bit values reach the filter and
    -- an allowed call still just returns
    local quiet = { "getpid", "getppid", "getuid", "getgid", "geteuid", "getegid", "getpgrp",
                    "sched_yield" }
    local probes = 0
    for seed = 1, 12 do
      local r = gen.rng(1000 + seed)
      local indices = { r.int(0, 5), r.int(0, 5), r.int(0, 5) }
      local rules = {}
      local names = {}
      for k = 1, r.int(1, 3) do names[k] = r.pick(quiet) end
      for _, name in ipairs(names) do
        for _ = 1, r.int(1, 4) do
          local args = {}
          for c = 1, r.int(1, 3) do args[c] = gen.random_cond(r, indices) end
          rules[#rules + 1] = { action = gen.random_action(r), syscall = name, args = args }
        end
      end
      local case = { seed = seed, rules = rules, default = gen.random_action(r),
                     opts = { arch = "x86_64", bad_arch = "kill_process" } }
      local f = assert(seccomp.from_rules(rules, case.default, case.opts))
      local ref = reference.new({ rules = agree.plain_rules(rules), default = case.default,
                                  bad_arch = "kill_process", arches = { "x86_64" } })
      local context = "rule set:\n" .. gen.source({ rules = rules, default = case.default,
                        opts = { arches = { "x86_64" }, bad_arch = "kill_process" } }) .. "\n"
      local seen = {}
      for _, name in ipairs(names) do
        if not seen[name] then
          seen[name] = true
          local nr = nr_of(name)
          local vecs = agree.arg_vectors(ref.by_arch.x86_64[nr], r)
          -- the kernel sees a sample; the emulator all of them
          for i, args in ipairs(vecs) do
            assert.equal(reference.eval(ref, "x86_64", nr, args),
                         reference.action_value((f:eval(nr, args))), context)
            if i <= 3 or r.chance(0.12) then
              agrees(f, name, args, "returned", context)
              probes = probes + 1
            end
          end
        end
      end
      -- and a syscall without rules gets the default
      agrees(f, "getsid", { 0 }, "returned", context)
    end
    assert.is_true(probes >= 100, "only " .. probes .. " kernel probes")
  end)

  it("every x86_64 syscall number is decided by the kernel as by the emulator", function()
    -- rules on the whole table; only argument-ignoring syscalls may ever run, everything
    -- else is denied one way or another, so any number is safe to call
    local quiet = { getpid = true, getppid = true, getuid = true, getgid = true, geteuid = true,
                    getegid = true, getpgrp = true, sched_yield = true }
    local DENY = { "kill_process", "kill_thread", "trap", "notify", seccomp.trace(9) }
    for _, seed in ipairs({ 77, 78 }) do
      local r = gen.rng(seed)
      local rules = {}
      for _, name in ipairs(seccomp.syscall_names()) do
        if seccomp.syscall_number(name, "x86_64") and r.chance(0.6) then
          local act = r.chance(0.6) and seccomp.errno(r.int(2, 4095)) or r.pick(DENY)
          if quiet[name] and r.chance(0.5) then act = r.pick({ "allow", "log" }) end
          if r.chance(0.3) then
            rules[#rules + 1] = { action = act, syscall = name,
                                  args = { { index = r.int(0, 2), op = "le", value = r.int(0, 4) } } }
            act = seccomp.errno(r.int(2, 4095))
          end
          if r.chance(0.8) then rules[#rules + 1] = { action = act, syscall = name } end
        end
      end
      local f = assert(seccomp.from_rules(rules, seccomp.errno(1), { arch = "x86_64" }))
      local numbers = {}
      -- except uretprobe and uprobe: recent kernels (this 6.18 one included) let them
      -- through seccomp unfiltered, as they only act from the kernel's probe trampolines
      -- (called here they raise SIGILL and fail with ENXIO whatever the filter says)
      local passthrough = { uretprobe = true, uprobe = true }
      for nr = 0, 470 do
        if not passthrough[seccomp.syscall_name(nr, "x86_64")] then numbers[#numbers + 1] = nr end
      end
      for _, nr in ipairs({ 512, 1000, X32_BIT, X32_BIT | 39, X32_BIT | 520, 0x7fffffff }) do
        numbers[#numbers + 1] = nr
      end
      for _, nr in ipairs(numbers) do
        local args = { r.int(0, 6), r.int(0, 6), r.int(0, 6), 0, 0, 0 }
        local act = f:eval(nr, args, "x86_64")
        if act == "allow" or act == "log" then
          -- only the argument-ignoring ones can get here
          assert.is_true(quiet[seccomp.syscall_name(nr, "x86_64")], tostring(nr))
        end
        agrees(f, nr, args, "returned", "seed " .. seed)
      end
    end
  end)

  it("conditions on syscalls that do run: allowed calls fail with EBADF, denied with errno", function()
    local BAD_FD = 0x7fffffff
    local f = assert(seccomp.from_rules({
      { seccomp.errno(40), "close", { { index = 0, op = "eq", value = BAD_FD } } },
      { seccomp.errno(41), "dup", { { index = 0, op = "ge", value = 0x7ffffff0 } } },
      { seccomp.errno(42), "lseek", { { index = 1, op = "lt", value = 0 },
                                      { index = 2, op = "masked_eq", mask = 3, value = 2 } } },
      { seccomp.errno(43), "ioctl", { { index = 1, op = "eq", value = 0xdeadbeef } } },
      { seccomp.errno(44), "fcntl", { { index = 1, op = "ne", value = 1 } } },
    }, "allow", { arch = "x86_64" }))
    agrees(f, "close", { BAD_FD }, "ebadf")
    agrees(f, "close", { BAD_FD - 1 }, "ebadf")
    agrees(f, "dup", { 0x7ffffff0 }, "ebadf")
    agrees(f, "dup", { 0x7fffffef }, "ebadf")
    agrees(f, "lseek", { BAD_FD, 5, 2 }, "ebadf")
    agrees(f, "lseek", { BAD_FD, 5, 6 }, "ebadf")
    agrees(f, "ioctl", { BAD_FD, 0xdeadbeef }, "ebadf")
    agrees(f, "ioctl", { BAD_FD, 0xdeadbeee }, "ebadf")
    agrees(f, "fcntl", { BAD_FD, 1 }, "ebadf")           -- F_GETFD on a bad fd
    agrees(f, "fcntl", { BAD_FD, 3 }, "ebadf")
    assert.same({ "errno", 40 }, { probe(f, nr_of("close"), { BAD_FD }) })
    assert.same({ "errno", EBADF }, { probe(f, nr_of("close"), { BAD_FD - 1 }) })
  end)

  it("a multi-arch filter and big programs install and decide in the kernel", function()
    local rules = {}
    for i = 1, 300 do
      rules[i] = { seccomp.errno(i), "getppid", { { index = 0, op = "eq", value = i * 0x100000001 } } }
    end
    -- (not i386: getppid's arguments are 32 bits there, where these values do not fit)
    local f = assert(seccomp.from_rules(rules, "allow", { arches = { "x86_64", "x32" } }))
    assert.is_true(#f > 255)
    for _, i in ipairs({ 1, 2, 150, 299, 300 }) do
      assert.same({ "errno", i }, { probe(f, nr_of("getppid"), { i * 0x100000001 }) })
      agrees(f, "getppid", { i * 0x100000001 + 1 }, "returned")
    end
    assert.same({ "errno", 7 }, { probe(f, X32_BIT | 110, { 7 * 0x100000001 }) })
  end)
end)

-- What the kernel does with any 32-bit filter return value for a call that would run.
local function kernel_outcome(ret)
  local act, data = ret & 0xffff0000, ret & 0xffff
  if act == 0x7fff0000 or act == 0x7ffc0000 then return "returned" end      -- allow, log
  if act == 0x00050000 then                                                  -- errno
    if data == 0 then return "returned", 0 end
    return "errno", math.min(data, 4095)
  end
  if act == 0x7fc00000 or act == 0x7ff00000 then return "errno", ENOSYS end  -- notify, trace
  return "signaled", SIGSYS            -- kill_process, kill_thread, trap, and unknown ones
end

describe_kernel("raw BPF (seccomp.load) against the kernel", function()
  it("accepts what the kernel accepts and runs it to the same verdict", function()
    local r = gen.rng(4242)
    local RETS = { 0x7fff0000, 0x7ffc0000, 0x00050000, 0x00050007, 0x0005ffff, 0x80000000, 0,
                   0x00030000, 0x7fc00000, 0x7ff00005, 0x12345678, 0x7fff0001 }
    local LOADS = { 0, 4, 8, 12, 16, 20, 24, 56, 60, 2, 64, 0x7fffffff }
    local OPS = {
      function() return 0x20, r.pick(LOADS) end,                         -- ld [k]
      function() return 0x00, r.pick(RETS) end,                          -- ld #k
      function() return 0x01, r.int(0, 40) end,                          -- ldx #k
      function() return 0x80, 0 end, function() return 0x81, 0 end,     -- ld/ldx len
      function() return 0x02, r.int(0, 17) end,                          -- st M[k]
      function() return 0x03, r.int(0, 15) end,                          -- stx M[k]
      function() return 0x60, r.int(0, 16) end,                          -- ld M[k]
      function() return 0x61, r.int(0, 15) end,                          -- ldx M[k]
      function() return 0x07, 0 end, function() return 0x87, 0 end,     -- tax, txa
      function() return r.pick({ 0x04, 0x14, 0x24, 0x34, 0x44, 0x54, 0x64, 0x74, 0xa4, 0x94 }),
                        r.pick({ 0, 1, 3, 31, 32, 0xffff0000 }) end,      -- alu k (incl. mod)
      function() return r.pick({ 0x0c, 0x1c, 0x2c, 0x3c, 0x4c, 0x5c, 0x6c, 0x7c, 0xac, 0x84 }), 0 end,
      function() return r.pick({ 0x30, 0x28, 0x48, 0xc4 }), r.int(0, 8) end,  -- not for seccomp
    }
    local JUMPS = { 0x15, 0x25, 0x35, 0x45, 0x1d, 0x2d, 0x3d, 0x4d }
    local getppid = nr_of("getppid")
    local accepted, refused = 0, 0
    for n = 1, 200 do
      local prog = {}
      local len = r.int(1, 7)
      for i = 1, len - 1 do
        local code, k, jt, jf
        if r.chance(0.3) then
          code, k = r.pick(JUMPS), r.pick({ 0, 5, 110, 0xc000003e, 0x7fff0000, r.u64() & 0xffffffff })
          jt, jf = r.int(0, len - i), r.int(0, len - i)
        elseif r.chance(0.05) then
          code, k, jt, jf = 0x05, r.int(0, len - i), 0, 0                 -- ja
        else
          code, k = r.pick(OPS)()
          jt, jf = 0, 0
        end
        prog[i] = string.pack("<I2BBI4", code, jt, jf, k & 0xffffffff)
      end
      if r.chance(0.95) then
        prog[len] = string.pack("<I2BBI4", r.chance(0.7) and 0x06 or 0x16, 0, 0, r.pick(RETS))
      else
        prog[len] = string.pack("<I2BBI4", 0x20, 0, 0, 0)                 -- no return at the end
      end
      local bpf = table.concat(prog)
      local args = { r.pick(gen.BOUNDARY), r.u64(), r.int(0, 9), 0, 0, 0 }
      local f, err = seccomp.load(bpf, "x86_64")
      local kind, value = probe({ bpf = bpf }, getppid, args)
      local listing = require("sx.core").disasm(bpf)
      if not f then
        refused = refused + 1
        assert.same({ "install_failed", 22 }, { kind, value },
                    "sx refused (" .. tostring(err) .. ") what the kernel took:\n" .. listing)
      else
        accepted = accepted + 1
        assert.are_not.equal("install_failed", kind, "the kernel refused:\n" .. listing)
        local ret = require("sx.core").emulate(bpf, reference.AUDIT.x86_64, getppid,
                                               table.unpack(args))
        local want_kind, want_value = kernel_outcome(ret)
        local what = ("emulator returns 0x%08x, kernel did %s %s, program %d:\n%s"):format(
          ret, kind, tostring(value), n, listing)
        assert.equal(want_kind, kind, what)
        if want_value then assert.equal(want_value, value, what) end
      end
    end
    assert.is_true(accepted >= 40 and refused >= 20, accepted .. " accepted, " .. refused .. " refused")
  end)

  it("refuses exactly the scratch-memory reads the kernel refuses, reachable or not", function()
    -- RETs in the middle leave code after them that no path reaches; the kernel still
    -- checks its reads of scratch memory in program order (check_load_and_stores)
    local r = gen.rng(99)
    local getppid = nr_of("getppid")
    local fixed = string.pack("<I2BBI4", 0x06, 0, 0, 0x7fff0000) ..    -- ret allow
                  string.pack("<I2BBI4", 0x60, 0, 0, 0) ..             -- ld M[0], unreachable
                  string.pack("<I2BBI4", 0x06, 0, 0, 0x7fff0000)
    assert.is_nil((seccomp.load(fixed, "x86_64")))
    assert.same({ "install_failed", 22 }, { probe({ bpf = fixed }, getppid) })
    local accepted, refused = 0, 0
    for _ = 1, 300 do
      local prog, len = {}, r.int(2, 9)
      for i = 1, len - 1 do
        local c = r.int(1, 6)
        local code, k, jt, jf = 0, 0, 0, 0
        if c == 1 then code, k = r.pick({ 0x02, 0x03 }), r.int(0, 2)          -- st/stx M[k]
        elseif c == 2 then code, k = r.pick({ 0x60, 0x61 }), r.int(0, 2)      -- ld/ldx M[k]
        elseif c == 3 then code, k = 0x06, 0x7fff0000                         -- ret allow
        elseif c == 4 then code, k = 0x05, r.int(0, len - i - 1)              -- ja
        elseif c == 5 then code, k, jt, jf = 0x15, r.int(0, 1), r.int(0, len - i - 1), r.int(0, len - i - 1)
        else code, k = 0x00, r.int(0, 1) end                                   -- ld #k
        prog[i] = string.pack("<I2BBI4", code, jt, jf, k)
      end
      prog[len] = string.pack("<I2BBI4", 0x06, 0, 0, 0x7fff0000)
      local bpf = table.concat(prog)
      local ok = seccomp.load(bpf, "x86_64") ~= nil
      local kind = probe({ bpf = bpf }, getppid)
      assert.equal(kind ~= "install_failed", ok, core.disasm(bpf))
      if ok then accepted = accepted + 1 else refused = refused + 1 end
    end
    assert.is_true(accepted >= 40 and refused >= 40, accepted .. " accepted, " .. refused .. " refused")
  end)

  it("divides by a zero X and shifts by 32+ as the kernel does", function()
    local function prog(...)
      local t = {}
      for i, insn in ipairs({ ... }) do t[i] = string.pack("<I2BBI4", table.unpack(insn)) end
      return table.concat(t)
    end
    local ALLOW, EIO = 0x7fff0000, 0x00050005
    local cases = {
      -- ldx #0; ld #5; div x; ret allow: the kernel ends the program with 0 (kill_thread)
      { "div by X = 0", prog({ 0x01, 0, 0, 0 }, { 0x00, 0, 0, 5 }, { 0x3c, 0, 0, 0 }, { 0x06, 0, 0, ALLOW }) },
      { "div by X = 2", prog({ 0x01, 0, 0, 2 }, { 0x00, 0, 0, 5 }, { 0x3c, 0, 0, 0 },
                             { 0x15, 0, 1, 2 }, { 0x06, 0, 0, ALLOW }, { 0x06, 0, 0, EIO }) },
      -- ldx #33; ld #1; lsh x; jeq #2: the count is taken mod 32
      { "lsh by X = 33", prog({ 0x01, 0, 0, 33 }, { 0x00, 0, 0, 1 }, { 0x6c, 0, 0, 0 },
                              { 0x15, 0, 1, 2 }, { 0x06, 0, 0, ALLOW }, { 0x06, 0, 0, EIO }) },
      { "rsh by X = 34", prog({ 0x01, 0, 0, 34 }, { 0x00, 0, 0, 8 }, { 0x7c, 0, 0, 0 },
                              { 0x15, 0, 1, 2 }, { 0x06, 0, 0, ALLOW }, { 0x06, 0, 0, EIO }) },
      { "ret A", prog({ 0x00, 0, 0, 0x00050021 }, { 0x16, 0, 0, 0 }) },
      { "errno data over 4095", prog({ 0x06, 0, 0, 0x0005ffff }) },
      { "unknown action", prog({ 0x06, 0, 0, 0x12345678 }) },
    }
    local getppid = nr_of("getppid")
    for _, c in ipairs(cases) do
      local f = assert(seccomp.load(c[2], "x86_64"))
      local ret = core.emulate(f.bpf, reference.AUDIT.x86_64, getppid)
      local want_kind, want_value = kernel_outcome(ret)
      local kind, value = probe(f, getppid)
      assert.equal(want_kind, kind, c[1])
      if want_value then assert.equal(want_value, value, c[1]) end
    end
  end)
end)

-- An i386 syscall (int $0x80) from an x86_64 process: seccomp sees AUDIT_ARCH_I386.
describe_kernel("the i386 ABI (int $0x80)", function()
  -- built here rather than by CMake: one small program only this spec needs
  local helper = (os.getenv("SX_BUILD_DIR") or "build") .. "/int80_probe"
  local source = (os.getenv("SX_SOURCE_DIR") or ".") .. "/spec/support/int80_probe.c"
  local built = os.execute(("cc -O2 -Wall -Wextra -o %q %q 2>/dev/null"):format(helper, source))

  local function int80(f, nr, ...)
    local path = os.tmpname()
    local h = assert(io.open(path, "wb"))
    h:write(f.bpf)
    h:close()
    local args = {}
    for i, a in ipairs({ ... }) do args[i] = ("0x%x"):format(a) end
    local p = assert(io.popen(("%s %s %d %s"):format(helper, path, nr, table.concat(args, " "))))
    local out = p:read("a")
    p:close()
    os.remove(path)
    local kind, value = out:match("^(%S+) (%-?%d+)")
    return kind, math.tointeger(tonumber(value))
  end

  local available, why = false, "int80_probe could not be built with cc"
  if built then
    local open = assert(seccomp.load(string.pack("<I2BBI4", 0x06, 0, 0, 0x7fff0000), "x86_64"))
    local kind, value = int80(open, 20)                   -- i386 getpid, no filter in the way
    available = kind == "returned" and value > 0
    why = "int $0x80 does not work on this machine (" .. tostring(kind) .. " " ..
          tostring(value) .. "), so i386 calls cannot be made"
  end

  if not available then
    it("is probed when int $0x80 works", function() pending(why) end)
    return
  end

  it("an x86_64-only filter gives i386 calls the bad-arch action", function()
    local f = assert(seccomp.allow_list({ "getpid" }, { arch = "x86_64", default = "allow",
                                                        bad_arch = seccomp.errno(91) }))
    assert.same({ "errno", 91 }, { int80(f, 20) })
    f = assert(seccomp.allow_list({ "getpid" }, { arch = "x86_64", default = "allow" }))
    assert.same({ "signaled", SIGSYS }, { int80(f, 20) })
  end)

  it("an x86_64+i386 filter decides i386 calls by their rules and arguments", function()
    local f = assert(seccomp.from_rules({
      { seccomp.errno(44), "getpid", { { index = 0, op = "eq", value = 7 } } },
    }, "allow", { arches = { "x86_64", "i386" }, bad_arch = seccomp.errno(91) }))
    assert.same({ "errno", 44 }, { int80(f, 20, 7) })
    assert.equal("returned", (int80(f, 20, 8)))
    assert.equal(seccomp.errno(44), (f:eval("getpid", { 7 }, "i386")))
  end)
end)

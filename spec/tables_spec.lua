-- The syscall tables: names to numbers strictly, numbers to names leniently.
local seccomp = require "sx.seccomp"

describe("syscall tables", function()
  it("maps names to the kernel's numbers on each architecture", function()
    assert.equal(0, seccomp.syscall_number("read", "x86_64"))
    assert.equal(59, seccomp.syscall_number("execve", "x86_64"))
    assert.equal(11, seccomp.syscall_number("execve", "i386"))
    assert.equal(221, seccomp.syscall_number("execve", "aarch64"))
    assert.equal(11, seccomp.syscall_number("execve", "arm"))
    assert.equal(221, seccomp.syscall_number("execve", "riscv64"))
    -- x32 numbers carry the x32 bit, as seccomp_data.nr does
    assert.equal(0x40000000 + 520, seccomp.syscall_number("execve", "x32"))
  end)

  it("defaults to the host's architecture", function()
    assert.equal(seccomp.syscall_number("openat", seccomp.arch()), seccomp.syscall_number("openat"))
  end)

  it("rejects unknown names with a suggestion", function()
    local nr, err = seccomp.syscall_number("execv", "x86_64")
    assert.is_nil(nr)
    assert.equal("unknown_syscall", err.code)
    assert.equal("execv", err.syscall)
    assert.matches("did you mean 'execve'", tostring(err))
    nr, err = seccomp.syscall_number("opne", "x86_64")
    assert.matches("did you mean 'open'", tostring(err))
    nr, err = seccomp.syscall_number("zzzzzzzzzz", "x86_64")
    assert.equal("unknown_syscall", err.code)
    assert.not_matches("did you mean", tostring(err))
  end)

  it("says when a syscall exists, but not on this architecture", function()
    local nr, err = seccomp.syscall_number("open", "aarch64")
    assert.is_nil(nr)
    assert.equal("unknown_syscall", err.code)
    assert.matches("does not exist on aarch64", tostring(err))
  end)

  it("names numbers, and says 'unknown' outside the table", function()
    assert.equal("read", seccomp.syscall_name(0, "x86_64"))
    assert.equal("execve", seccomp.syscall_name(0x40000000 + 520, "x32"))
    assert.equal("unknown", seccomp.syscall_name(99999, "x86_64"))
    assert.equal("unknown", seccomp.syscall_name(-5, "x86_64"))
  end)

  it("round-trips every name on every architecture", function()
    for _, arch in ipairs(seccomp.arches()) do
      for _, name in ipairs(seccomp.syscall_names()) do
        local nr = seccomp.syscall_number(name, arch)
        if nr then
          local back = seccomp.syscall_name(nr, arch)
          -- a few numbers carry two names (aliases); the number must still agree
          assert.equal(nr, seccomp.syscall_number(back, arch))
        end
      end
    end
  end)

  it("finds exactly the names in the table: no near miss, prefix or extension slips in",
     function()
    -- the lookup compares 8-byte words of zero-padded names: every length matters
    local core = require "sx.core"
    local names, set = seccomp.syscall_names(), {}
    for _, name in ipairs(names) do set[name] = true end
    local lengths = {}
    for _, name in ipairs(names) do
      assert.is_true(core.syscall_known(name), name)
      lengths[#name] = true
      for i = 1, #name do
        local changed = name:sub(1, i - 1) .. "#" .. name:sub(i + 1)
        assert.is_false(core.syscall_known(changed), changed)
        local prefix = name:sub(1, i - 1)
        if i > 1 then assert.equal(set[prefix] or false, core.syscall_known(prefix), prefix) end
      end
      assert.equal(set[name .. "x"] or false, core.syscall_known(name .. "x"), name .. "x")
      assert.is_false(core.syscall_known(name .. "\0"))
      assert.is_false(core.syscall_known(name .. ("\0"):rep(40 - #name)))
    end
    for _, len in ipairs({ 3, 4, 5, 7, 8, 9, 15, 16, 17, 22, 28 }) do
      assert.is_true(lengths[len] or false, "no name of length " .. len .. " to test")
    end
    assert.is_false(core.syscall_known(""))
    assert.is_false(core.syscall_known(("a"):rep(200)))
  end)
end)

describe("sx.core.syscall_arches", function()
  local core = require "sx.core"
  it("gives, for each name of a list, the arches that have it as bits of arches()", function()
    local bit = {}
    for i, a in ipairs(core.arches()) do bit[a] = 1 << (i - 1) end
    local names = { "read", "arch_prctl", "socketcall", "no_such_call", "re\0ad" }
    local masks = assert(core.syscall_arches(names))
    assert.equal(#names, #masks)
    for i, name in ipairs(names) do
      for arch, b in pairs(bit) do
        local has = name:find("\0", 1, true) == nil and core.syscall_number(name, arch) ~= nil
        assert.equal(has, masks[i] & b ~= 0, name .. " on " .. arch)
      end
    end
    assert.equal(0, masks[4])
    assert.same({}, core.syscall_arches({}))
  end)

  it("says which item is not a string", function()
    local masks, bad = core.syscall_arches({ "read", 7, "write" })
    assert.is_nil(masks)
    assert.equal(2, bad)
  end)
end)

describe("sx.core", function()
  it("loads on its own, in a fresh state, before anything else", function()
    -- luaopen_sx_core pushes more than the 20 stack slots a C function gets unasked
    local lua = os.getenv("SX_LUA") or "lua5.4"
    local p = assert(io.popen(("%s -e 'local c = require \"sx.core\" " ..
                               "print(type(c.build), c.syscall_known(\"read\"))' 2>&1"):format(lua)))
    local out = p:read("a")
    local ok, how, code = p:close()
    assert.equal("function\ttrue\n", out)
    assert.is_true(ok, ("%s %s"):format(how, code))
  end)
end)

describe("syscall arguments", function()
  local function arg(syscall, arch, index)
    return assert(seccomp.syscall_args(syscall, arch))[index + 1]
  end

  it("have the kernel's names and widths, joined on the number", function()
    assert.same({ index = 0, name = "family", width = 4, bits = 32 }, arg("socket", "x86_64", 0))
    assert.same({ index = 1, name = "len", width = 8, bits = 64 }, arg("mmap", "x86_64", 1))
    -- declared unsigned long, read through lower_32_bits (effective-widths.tsv)
    assert.same({ index = 0, name = "clone_flags", width = 4, bits = 32 }, arg("clone", "x86_64", 0))
    assert.same({ index = 4, name = "tls", width = 8, bits = 64 }, arg("clone", "x86_64", 4))
    -- kcmp's idx1 goes to get_file_raw_ptr(unsigned int), mbind's mode to an int
    assert.equal(32, arg("kcmp", "x86_64", 3).bits)
    assert.equal(64, arg("kcmp", "x86_64", 4).bits)        -- idx2: an epoll slot pointer too
    assert.equal(32, arg("mbind", "aarch64", 2).bits)
    assert.same({ index = 0, name = "personality", width = 4, bits = 32 },
                arg("personality", "aarch64", 0))
    -- umode_t: the kernel reads 16 bits
    assert.same({ index = 1, name = "mode", width = 2, bits = 16 }, arg("chmod", "x86_64", 1))
    -- i386's chown is the kernel's chown16 at that number, and chown32 has 4-byte ids
    assert.equal(4, arg("chown32", "i386", 1).width)
    assert.equal(2, arg("chown", "i386", 1).width)
  end)

  it("are 32 bits on i386 and arm, known or not, and stop naming after a split 64-bit one", function()
    assert.same({ index = 0, name = "family", width = 4, bits = 32 }, arg("socket", "i386", 0))
    -- pread64's pos takes two registers there: what follows is not parameter 3 any more.
    -- On i386 the kernel's entry (ia32_pread64) names the halves; arm's EABI puts pos in
    -- the pair r4:r5, and nothing names argument 3 (a padding register)
    assert.same({ index = 3, name = "poslo", width = 4, bits = 32 }, arg("pread64", "i386", 3))
    assert.same({ index = 3, width = 0, bits = 32 }, arg("pread64", "arm", 3))
    assert.same({ index = 3, name = "pos", width = 8, bits = 64 }, arg("pread64", "x86_64", 3))
  end)

  -- kafel's tables stop at i386's 384 (arm's 389): the kernel's tables and prototypes
  -- (data/syscall-args-kernel.tsv) name the calls since, as x86_64 spells them
  it("name i386's and arm's calls kafel's tables lack: time64, clone3, openat2, ...", function()
    for _, a in ipairs { "i386", "arm" } do
      assert.same({ index = 1, name = "op", width = 4, bits = 32 }, arg("futex_time64", a, 1))
      assert.same({ index = 0, name = "which_clock", width = 4, bits = 32 }, arg("clock_gettime64", a, 0))
      assert.same({ index = 1, name = "size", width = 4, bits = 32 }, arg("clone3", a, 1))
      assert.same({ index = 2, name = "how", width = 4, bits = 32 }, arg("openat2", a, 2))
      assert.same({ index = 2, name = "flags", width = 4, bits = 32 }, arg("mseal", a, 2))
      assert.same({ index = 2, name = "cpu_id", width = 4, bits = 32 }, arg("membarrier", a, 2))
      assert.equal(arg("close_range", "x86_64", 2).name, arg("close_range", a, 2).name)
    end
    -- a name means one argument in a filter for x86_64 and i386 both
    local f = assert(seccomp.builder()
      :allow("close_range", "flags == 0"):allow("futex_time64", "op == 0")
      :allow("openat2", "size == 24"):build({ arches = { "x86_64", "i386" } }))
    assert.equal("allow", f:eval("close_range", { 3, 9, 0 }, "i386"))
    assert.equal("kill_process", f:eval("close_range", { 3, 9, 4 }, "i386"))
    assert.equal("allow", f:eval("openat2", { 0, 0, 0, 24 }, "i386"))
    assert.equal("kill_process", f:eval("openat2", { 0, 0, 0, 25 }, "i386"))
  end)

  it("are x86_64's on x32's common entries, and its own functions' on its own (512 up)", function()
    assert.same(arg("socket", "x86_64", 0), arg("socket", "x32", 0))
    -- compat_sys_ioctl(unsigned int fd, unsigned int cmd, compat_ulong_t arg)
    assert.same({ index = 1, name = "cmd", width = 4, bits = 32 }, arg("ioctl", "x32", 1))
    assert.same({ index = 2, name = "arg", width = 4, bits = 32 }, arg("ioctl", "x32", 2))
    assert.same({ index = 2, name = "arg", width = 8, bits = 64 }, arg("ioctl", "x86_64", 2))
    assert.same({ index = 2, name = "flags", width = 4, bits = 32 }, arg("recvmsg", "x32", 2))
    -- compat_sys_ptrace(compat_long_t request, pid, addr, data); x86_64's are longs
    -- (x86_64's pid too: find_get_task_by_vpid takes a pid_t)
    for i = 0, 3 do
      assert.equal(32, arg("ptrace", "x32", i).bits)
      assert.equal(i == 1 and 32 or 64, arg("ptrace", "x86_64", i).bits)
    end
    assert.equal("request", arg("ptrace", "x32", 0).name)
    -- compat_sys_rt_sigaction's sigsetsize is a compat_size_t; its pointers stay 64 bits
    assert.same({ index = 3, name = "sigsetsize", width = 4, bits = 32 }, arg("rt_sigaction", "x32", 3))
    assert.same({ index = 1, name = "act", width = 8, bits = 64 }, arg("rt_sigaction", "x32", 1))
    -- x32's readv runs x86_64's sys_readv: vlen is an unsigned long there too, which
    -- import_iovec reads as an unsigned (effective-widths.tsv)
    assert.same({ index = 2, name = "vlen", width = 4, bits = 32 }, arg("readv", "x32", 2))
    assert.same({ index = 1, name = "vec", width = 8, bits = 64 }, arg("readv", "x32", 1))
    -- compat_sys_preadv64v2 takes the position in one register: flags is argument 4
    assert.same({ index = 4, name = "flags", width = 4, bits = 32 }, arg("preadv2", "x32", 4))
    assert.same({ index = 5, name = "flags", width = 4, bits = 32 }, arg("preadv2", "x86_64", 5))
    assert.same({ index = 5, width = 0, bits = 64 }, arg("preadv2", "x32", 5))
  end)

  it("name every x32 syscall from 512 up, from x32-own-args.tsv", function()
    for nr = 512, 547 do
      local name = seccomp.syscall_name(nr | 0x40000000, "x32")
      if name ~= "unknown" then
        local known = false
        for i = 0, 5 do known = known or arg(name, "x32", i).width ~= 0 end
        assert(known or name == "rt_sigreturn", name)
      end
    end
  end)

  it("are unknown, and compared on 64 bits, where the table has nothing", function()
    assert.same({ index = 0, width = 0, bits = 64 }, arg(1000, "x86_64", 0))
    -- s390x builds one of two sigsuspends, by a configuration the reader does not decide
    assert.same({ index = 0, width = 0, bits = 64 }, arg(72, "s390x", 0))
  end)

  it("are the kernel's where kafel's tables describe another prototype", function()
    -- futex_wait(uaddr, unsigned long val, unsigned long mask, unsigned int flags, timeout, clockid)
    assert.same({ index = 3, name = "flags", width = 4, bits = 32 }, arg("futex_wait", "x86_64", 3))
    assert.same({ index = 2, name = "mask", width = 8, bits = 64 }, arg("futex_wait", "aarch64", 2))
    -- mseal's and pkey_alloc's flags are unsigned long: all 64 bits
    assert.same({ index = 2, name = "flags", width = 8, bits = 64 }, arg("mseal", "x86_64", 2))
    assert.equal(64, arg("pkey_alloc", "riscv64", 0).bits)
    -- setxattrat (6.13): at_flags before name
    assert.same({ index = 2, name = "at_flags", width = 4, bits = 32 }, arg("setxattrat", "x86_64", 2))
    -- riscv64 builds the CLONE_BACKWARDS clone: tls before child_tidptr
    assert.equal("tls", arg("clone", "riscv64", 3).name)
    assert.equal("child_tidptr", arg("clone", "x86_64", 3).name)
    -- kafel's names stay where they only spell a parameter differently
    assert.equal("count", arg("getrandom", "x86_64", 1).name)
  end)

  it("cover s390x, ppc64le and loongarch64, read from the kernel's sources", function()
    assert.same({ index = 0, name = "family", width = 4, bits = 32 }, arg("socket", "s390x", 0))
    assert.same({ index = 0, name = "family", width = 4, bits = 32 }, arg("socket", "ppc64le", 0))
    -- s390x builds the CLONE_BACKWARDS2 clone: the stack first
    assert.equal("clone_flags", arg("clone", "s390x", 1).name)
    assert.equal(64, arg("clone", "s390x", 0).bits)
    -- kafel's spelling of the same function's parameters, so one name means one index
    assert.equal("count", arg("getrandom", "s390x", 1).name)
    assert.equal(arg("openat", "aarch64", 2).name, arg("openat", "ppc64le", 2).name)
  end)
end)

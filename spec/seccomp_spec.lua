-- The sx.seccomp API: every function, every error code, and the promises the contract
-- makes about filters (fields, printing, round trips, raw BPF).
local seccomp = require "sx.seccomp"
local core = require "sx.core"

local THIS = debug.getinfo(1, "S").short_src
-- "file:line" of the caller's line, for checking err.where.
local function here() return THIS .. ":" .. debug.getinfo(2, "l").currentline end

local X32_BIT = 0x40000000

-- A raw BPF program from {code, jt, jf, k} tuples.
local function bpf(...)
  local out = {}
  for i, insn in ipairs({ ... }) do
    out[i] = string.pack("<I2BBI4", insn[1], insn[2], insn[3], insn[4])
  end
  return table.concat(out)
end
local RET, LD_ABS, JEQ = 0x06, 0x20, 0x15

describe("sx.seccomp", function()
  describe("the machine", function()
    it("supported() says whether /proc/self/status has a Seccomp line", function()
      local status = assert(io.open("/proc/self/status")):read("a")
      assert.equal(status:find("\nSeccomp:") ~= nil, seccomp.supported())
    end)

    it("arch() names the host's architecture", function()
      local machine = io.popen("uname -m"):read("l")
      local expect = ({ x86_64 = "x86_64", aarch64 = "aarch64", riscv64 = "riscv64",
                        s390x = "s390x", ppc64le = "ppc64le", loongarch64 = "loongarch64",
                        i686 = "i386", armv7l = "arm" })[machine] or "unsupported"
      assert.equal(expect, seccomp.arch())
    end)

    it("arches() lists every supported architecture", function()
      local set = {}
      for _, a in ipairs(seccomp.arches()) do set[a] = true end
      for _, a in ipairs({ "x86_64", "i386", "x32", "aarch64", "arm", "riscv64" }) do
        assert.is_true(set[a], a)
      end
    end)
  end)

  describe("actions", function()
    it("errno actions that mean the same are equal and print readably", function()
      assert.equal(seccomp.errno("EPERM"), seccomp.errno(1))
      assert.is_true(seccomp.errno("EPERM") == seccomp.errno(1))
      assert.is_true(seccomp.errno("eperm") == seccomp.errno("EPERM"))
      assert.is_false(seccomp.errno("EPERM") == seccomp.errno(2))
      assert.equal("errno(EPERM)", tostring(seccomp.errno(1)))
      assert.equal("errno(ENOENT)", tostring(seccomp.errno("enoent")))
      assert.equal("errno(0)", tostring(seccomp.errno(0)))
      assert.equal("errno(4095)", tostring(seccomp.errno(4095)))
    end)

    it("trace actions compare and print", function()
      assert.is_true(seccomp.trace(7) == seccomp.trace(7))
      assert.is_false(seccomp.trace(7) == seccomp.trace(8))
      assert.equal("trace(7)", tostring(seccomp.trace(7)))
      assert.equal("trace(65535)", tostring(seccomp.trace(65535)))
    end)

    it("errno and trace refuse what the kernel cannot carry", function()
      assert.has_error(function() seccomp.errno(4096) end)
      assert.has_error(function() seccomp.errno(-1) end)
      assert.has_error(function() seccomp.errno("EFOO") end)
      assert.has_error(function() seccomp.errno({}) end)
      assert.has_error(function() seccomp.trace(65536) end)
      assert.has_error(function() seccomp.trace(-1) end)
    end)

    it("action() gives the canonical form, or bad_action", function()
      assert.equal("allow", seccomp.action("ALLOW"))
      assert.equal("kill_process", seccomp.action("kill_process"))
      for _, a in ipairs({ "kill_thread", "trap", "log", "notify" }) do
        assert.equal(a, seccomp.action(a))
      end
      assert.equal(seccomp.errno(1), seccomp.action("errno(EPERM)"))
      assert.equal(seccomp.errno(1), seccomp.action("ERRNO(eperm)"))
      assert.equal(seccomp.errno(13), seccomp.action("errno(13)"))
      assert.equal(seccomp.trace(3), seccomp.action("trace(3)"))
      assert.equal(seccomp.errno(2), seccomp.action(seccomp.errno(2)))
      local a, err = seccomp.action("alow")
      assert.is_nil(a)
      assert.equal("bad_action", err.code)
      assert.equal("alow", err.action)
      assert.matches("unknown action 'alow'", tostring(err))
      a, err = seccomp.action("errno(5000)")
      assert.is_nil(a)
      assert.equal("bad_action", err.code)
      a, err = seccomp.action(42)
      assert.equal("bad_action", err.code)
    end)
  end)

  describe("syscall_number and syscall_name", function()
    it("map names and numbers per arch, x32 numbers with the x32 bit", function()
      assert.equal(39, seccomp.syscall_number("getpid", "x86_64"))
      assert.equal(20, seccomp.syscall_number("getpid", "i386"))
      assert.equal(X32_BIT + 39, seccomp.syscall_number("getpid", "x32"))
      assert.equal(172, seccomp.syscall_number("getpid", "aarch64"))
      assert.equal("getpid", seccomp.syscall_name(39, "x86_64"))
      assert.equal("getpid", seccomp.syscall_name(X32_BIT + 39, "x32"))
      assert.equal("unknown", seccomp.syscall_name(5000, "x86_64"))
      assert.equal("unknown", seccomp.syscall_name(0xffffffff, "aarch64"))
    end)

    it("reports unknown names with a suggestion, naming the caller's line", function()
      local nr, err = seccomp.syscall_number("getpdi", "x86_64"); local line = here()
      assert.is_nil(nr)
      assert.equal("unknown_syscall", err.code)
      assert.equal("getpdi", err.syscall)
      assert.matches("did you mean 'getpid'", err.message)
      assert.equal(line, err.where)
      assert.equal(line .. ": " .. err.message, tostring(err))
    end)

    it("agree with this machine's kernel headers", function()
      local function check(arch, header, literal_only)
        local f = io.open(header)
        if not f then return 0 end
        local n = 0
        for line in f:lines() do
          local name, expr = line:match("^#define __NR_([%w_]+)%s+(.-)%s*$")
          local v = expr and tonumber(expr:match("^%d+$"))
          if expr and not literal_only and expr:match("__X32_SYSCALL_BIT") then
            v = X32_BIT + tonumber(expr:match("(%d+)%)%s*$"))
          end
          if v and name ~= "syscalls" then
            local mine = seccomp.syscall_number(name, arch)
            -- the tables may know newer syscalls than the headers, never other numbers
            if mine then
              assert.equal(v, mine, arch .. " " .. name)
              n = n + 1
            end
          end
        end
        f:close()
        return n
      end
      local dir = "/usr/include/x86_64-linux-gnu/asm/"
      local n = check("x86_64", dir .. "unistd_64.h") + check("i386", dir .. "unistd_32.h") +
                check("x32", dir .. "unistd_x32.h")
      for _, arch in ipairs({ "aarch64", "riscv64", "loongarch64" }) do
        n = n + check(arch, "/usr/include/asm-generic/unistd.h", true)
      end
      if n == 0 then pending("no kernel headers to compare with") end
    end)

    it("use the audit arch values of <linux/audit.h>", function()
      local src = os.tmpname() .. ".c"
      local exe = os.tmpname()
      local h = assert(io.open(src, "w"))
      h:write([[
#include <linux/audit.h>
#include <stdio.h>
int main(void) {
  printf("x86_64 %u\ni386 %u\nx32 %u\naarch64 %u\narm %u\nriscv64 %u\n", AUDIT_ARCH_X86_64,
         AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, AUDIT_ARCH_RISCV64);
  printf("s390x %u\nppc64le %u\n", AUDIT_ARCH_S390X, AUDIT_ARCH_PPC64LE);
#ifdef AUDIT_ARCH_LOONGARCH64
  printf("loongarch64 %u\n", AUDIT_ARCH_LOONGARCH64);
#endif
  return 0;
}
]])
      h:close()
      local built = os.execute(("cc -o %q %q 2>/dev/null"):format(exe, src))
      os.remove(src)
      if not built then pending("no C compiler or <linux/audit.h>"); return end
      local p = assert(io.popen(exe))
      local n = 0
      for line in p:lines() do
        local arch, value = line:match("^(%S+) (%d+)$")
        assert.equal(math.tointeger(tonumber(value)), core.audit(arch), arch)
        n = n + 1
      end
      p:close()
      os.remove(exe)
      assert.is_true(n >= 8)
    end)

    it("raises on misuse", function()
      assert.has_error(function() seccomp.syscall_number(5) end)
      assert.has_error(function() seccomp.syscall_name("read") end)
    end)
  end)

  describe("eval and explain", function()
    local f = seccomp.allow_list({ "read" }, { arches = { "x86_64" } })
    it("refuse args that are not a list, naming the mistake", function()
      local ok, err = pcall(f.eval, f, "read", 5)
      assert.is_false(ok)
      assert.matches("args must be a list of arguments %(args%[1%] is argument 0%), got number", tostring(err))
      assert.is_false((pcall(f.explain, f, "read", "x")))
    end)
    it("say that the kernel never filters uretprobe and uprobe (x86_64)", function()
      local a, _, why = f:eval("uretprobe")         -- the filter's answer, and why it is moot
      assert.equal("kill_process", tostring(a))
      assert.matches("without consulting seccomp", why)
      local e = f:explain("uprobe")
      assert.equal("allow", tostring(e.action))
      assert.equal("kill_process", tostring(e.filter_action))
      assert.matches("without consulting seccomp", e.reason)
    end)
  end)

  describe("allow_list", function()
    it("allows the names and kills the rest by default", function()
      local f = assert(seccomp.allow_list({ "read", "write", "exit_group" }, { arch = "x86_64" }))
      assert.equal("allow", (f:eval("read")))
      assert.equal("allow", (f:eval("exit_group")))
      assert.equal("kill_process", (f:eval("ptrace")))
      assert.equal("kill_process", f.default)
      assert.equal("kill_process", f.bad_arch)
    end)

    it("takes default and bad_arch options, and a name twice is harmless", function()
      local f = assert(seccomp.allow_list({ "read", "read" }, { arch = "x86_64",
        default = seccomp.errno("EACCES"), bad_arch = "trap" }))
      assert.equal(seccomp.errno("EACCES"), (f:eval("write")))
      assert.equal("trap", (f:eval("read", nil, "i386")))
      assert.equal("trap", (f:eval(X32_BIT, nil, "x86_64")))
    end)

    it("raises on misuse: not a list, unknown option", function()
      local line
      local ok, msg = pcall(function() line = here(); seccomp.allow_list("read") end)
      assert.is_false(ok)
      assert.equal(line .. ": allow_list takes a list of syscall names, got string", msg)
      ok, msg = pcall(function() line = here(); seccomp.allow_list({}, { dfault = "allow" }) end)
      assert.equal(line .. ": allow_list: unknown option 'dfault'", msg)
      assert.has_error(function() seccomp.allow_list("read") end)
      assert.has_error(function() seccomp.allow_list({ "read" }, { arhc = "x86_64" }) end)
      assert.has_error(function() seccomp.allow_list({ "read" }, "x86_64") end)
    end)
  end)

  describe("deny_list", function()
    it("denies with errno(EPERM) and allows the rest by default", function()
      local f = assert(seccomp.deny_list({ "ptrace", "kexec_load" }, { arch = "x86_64" }))
      assert.equal(seccomp.errno("EPERM"), (f:eval("ptrace")))
      assert.equal(seccomp.errno("EPERM"), (f:eval("kexec_load")))
      assert.equal("allow", (f:eval("read")))
      assert.equal("allow", f.default)
    end)

    it("takes deny_action and default", function()
      local f = assert(seccomp.deny_list({ "ptrace" }, { arch = "aarch64",
        deny_action = "kill_thread", default = "log" }))
      assert.equal("kill_thread", (f:eval("ptrace")))
      assert.equal("log", (f:eval("read")))
      local g, err = seccomp.deny_list({ "ptrace" }, { deny_action = "deny" })
      assert.is_nil(g)
      assert.equal("bad_action", err.code)
    end)
  end)

  describe("from_rules", function()
    it("takes {action, name} pairs and named tables with conditions", function()
      local f = assert(seccomp.from_rules({
        { "allow", "read" },
        { action = seccomp.errno(9), syscall = "write",
          args = { { index = 0, op = "eq", value = 1 },
                   { index = 2, op = "masked_eq", mask = 4, value = 0 } } },
        { "allow", "write" },
        { action = "log", syscall = "lseek", args = { { index = 1, op = "gt", value = "0xffffffff" } } },
      }, "kill_process", { arch = "x86_64" }))
      assert.equal("allow", (f:eval("read")))
      assert.equal(seccomp.errno(9), (f:eval("write", { 1, 0, 3 })))
      assert.equal("allow", (f:eval("write", { 1, 0, 4 })))     -- mask bit set
      assert.equal("allow", (f:eval("write", { 2, 0, 0 })))     -- arg0 differs
      assert.equal("log", (f:eval("lseek", { 0, 0x100000000 })))
      assert.equal("kill_process", (f:eval("lseek", { 0, 0xffffffff })))
      assert.equal("kill_process", (f:eval("open")))
    end)

    it("tries a syscall's conditional rules in order, then its unconditional one", function()
      local f = assert(seccomp.from_rules({
        { "log", "dup" },                                           -- fallback, listed first
        { seccomp.errno(1), "dup", { { index = 0, op = "lt", value = 10 } } },
        { seccomp.errno(2), "dup", { { index = 0, op = "lt", value = 20 } } },
      }, "allow", { arch = "x86_64" }))
      assert.equal(seccomp.errno(1), (f:eval("dup", { 5 })))
      assert.equal(seccomp.errno(2), (f:eval("dup", { 15 })))
      assert.equal("log", (f:eval("dup", { 25 })))
      assert.equal("log", (f:eval("dup", { -1 })))                  -- unsigned: 2^64-1
    end)

    it("compares all 64 bits, unsigned, with values >= 2^63 as negative integers", function()
      local f = assert(seccomp.from_rules({
        { "allow", "dup", { { index = 1, op = "ge", value = math.mininteger } } },  -- 2^63
        { "allow", "dup", { { index = 2, op = "eq", value = "18446744073709551615" } } },
      }, "kill_process", { arch = "x86_64" }))
      assert.equal("allow", (f:eval("dup", { 0, -1 })))
      assert.equal("allow", (f:eval("dup", { 0, math.mininteger })))
      assert.equal("kill_process", (f:eval("dup", { 0, math.maxinteger })))
      assert.equal("allow", (f:eval("dup", { 0, 0, -1 })))
      assert.equal("kill_process", (f:eval("dup", { 0, 0, 0xffffffff })))
    end)

    it("applies a rule on each arch that has the syscall", function()
      local f = assert(seccomp.from_rules({ { "allow", "open" }, { "allow", "openat" } },
        "kill_process", { arches = { "x86_64", "aarch64", "i386" } }))
      assert.same({ "x86_64", "aarch64", "i386" }, f.arches)
      assert.is_nil(f.arch)
      assert.equal("allow", (f:eval("open", nil, "x86_64")))
      assert.equal("allow", (f:eval("open", nil, "i386")))
      assert.equal("allow", (f:eval("openat", nil, "aarch64")))
      assert.equal("kill_process", (f:eval("open", nil, "arm")))        -- not in the filter
    end)

    it("takes syscall numbers for a single-arch filter", function()
      local f = assert(seccomp.from_rules({ { "allow", 39 }, { "log", 999 } }, "kill_process",
                                          { arch = "x86_64" }))
      assert.equal("allow", (f:eval("getpid")))
      assert.equal("log", (f:eval(999)))
      f = assert(seccomp.from_rules({ { "allow", 39 } }, "kill_process", { arch = "x32" }))
      assert.equal("allow", (f:eval(X32_BIT + 39, nil, "x86_64")))
      assert.equal("kill_process", (f:eval(39, nil, "x86_64")))         -- below the bit
    end)

    it("raises on misuse: unknown option, arch and arches both", function()
      assert.has_error(function() seccomp.from_rules({}, "allow", { nope = 1 }) end)
      assert.has_error(function()
        seccomp.from_rules({}, "allow", { arch = "x86_64", arches = { "x86_64" } })
      end)
    end)
  end)

  describe("builder", function()
    it("takes deny's action before its conditions too, and refuses an argument too many", function()
      local f = assert(seccomp.builder()
        :deny("ioctl", "kill_process", "arg1 == TIOCSTI")
        :deny("kill", "arg1 == 9", "kill_thread")
        :build({ arch = "x86_64", default = "allow" }))
      assert.equal("kill_process", (f:eval("ioctl", { 0, 0x5412 })))
      assert.equal("allow", (f:eval("ioctl", { 0, 0x5413 })))
      assert.equal("kill_thread", (f:eval("kill", { 1, 9 })))
      assert.equal("allow", (f:eval("kill", { 1, 15 })))
      for _, call in ipairs({ function(b) return b:allow("read", nil, "x") end,
                              function(b) return b:deny("read", "kill_process", nil, 1) end,
                              function(b) return b:rule("allow", "read", nil, true) end }) do
        local ok, err = pcall(call, seccomp.builder())
        assert.is_false(ok)
        assert.matches("takes at most %d arguments, got %d", tostring(err))
      end
    end)

    it("takes its options at build, and refuses them at its start (never ignored)", function()
      local ok, err = pcall(seccomp.builder, { arches = { "x86_64", "i386" } })
      assert.is_false(ok)
      assert.matches("seccomp.builder() takes no options: give them to :build(opts)", err, 1, true)
    end)

    it("chains allow, deny, rule and build", function()
      local f = assert(seccomp.builder()
        :allow({ "read", "write" })
        :allow("close", { { index = 0, op = "gt", value = 2 } })
        :deny("ptrace")
        :deny("kexec_load", "kill_thread")
        :rule("log", { "uname", "getpid" })
        :rule(seccomp.errno(22), "dup", { { index = 0, op = "eq", value = 7 } })
        :build({ arch = "x86_64", default = "trap" }))
      assert.equal("allow", (f:eval("read")))
      assert.equal("allow", (f:eval("write")))
      assert.equal("allow", (f:eval("close", { 3 })))
      assert.equal("trap", (f:eval("close", { 2 })))
      assert.equal(seccomp.errno("EPERM"), (f:eval("ptrace")))
      assert.equal("kill_thread", (f:eval("kexec_load")))
      assert.equal("log", (f:eval("uname")))
      assert.equal("log", (f:eval("getpid")))
      assert.equal(seccomp.errno(22), (f:eval("dup", { 7 })))
      assert.equal("trap", (f:eval("dup", { 8 })))
    end)

    it("defaults to kill_process and names the line that added a bad rule", function()
      local f = assert(seccomp.builder():allow("read"):build({ arch = "x86_64" }))
      assert.equal("kill_process", (f:eval("write")))
      local b = seccomp.builder():allow("read")
      b:allow("raed"); local line = here()
      b:allow("write")
      local g, err = b:build({ arch = "x86_64" })
      assert.is_nil(g)
      assert.equal("unknown_syscall", err.code)
      assert.equal("raed", err.syscall)
      assert.equal(2, err.rule)                     -- the rule's index ...
      assert.equal("raed", err.row.syscall or err.row[2])   -- ... and the offending rule
      assert.equal(line, err.where)
      assert.matches("did you mean 'read'", tostring(err))
    end)

    it("raises on an unknown build option", function()
      assert.has_error(function() seccomp.builder():allow("read"):build({ arc = "x86_64" }) end)
    end)
  end)

  describe("errors", function()
    it("unsupported_arch", function()
      for _, opts in ipairs({ { arch = "mips" }, { arches = {} }, { arches = { "x86_64", "x86_64" } },
                              { arches = { "x86_64", nil, "i386" } }, { arches = { "x86_64", also = "i386" } },
                              { arches = "x86_64" }, { arch = 64 } }) do
        local f, err = seccomp.allow_list({ "read" }, opts); local line = here()
        assert.is_nil(f)
        assert.equal("unsupported_arch", err.code)
        assert.equal(line, err.where)
      end
      local _, err = seccomp.allow_list({ "read" }, { arch = "mips" })
      assert.matches("unsupported architecture 'mips'", tostring(err))
      assert.equal("mips", err.arch)
    end)

    it("bad_action: in a rule, as default, as bad_arch, missing default", function()
      local rules = { { "allow", "read" }, { "alow", "write" } }
      local f, err = seccomp.from_rules(rules, "allow", { arch = "x86_64" }); local line = here()
      assert.is_nil(f)
      assert.equal("bad_action", err.code)
      assert.equal(2, err.rule)
      assert.equal("alow", err.action)
      assert.equal(line, err.where)
      assert.matches("alow", tostring(err))
      f, err = seccomp.from_rules({ { "errno(5000)", "read" } }, "allow")
      assert.equal("bad_action", err.code)
      f, err = seccomp.from_rules({ { "allow", "read" } }, "nope")
      assert.equal("bad_action", err.code)
      assert.matches("default", err.message)
      f, err = seccomp.from_rules({ { "allow", "read" } }, "allow", { bad_arch = "errno(-1)" })
      assert.equal("bad_action", err.code)
      f, err = seccomp.from_rules({ { "allow", "read" } })
      assert.equal("bad_action", err.code)
      f, err = seccomp.from_rules({ { nil, "read" } }, "allow")
      assert.equal("bad_action", err.code)
      f, err = seccomp.from_rules({ { "read", "allow" } }, "allow")   -- swapped
      assert.equal("bad_action", err.code)
    end)

    it("unknown_syscall, with 'did you mean' and per-arch existence", function()
      local f, err = seccomp.allow_list({ "read", "execv" }, { arch = "x86_64" }); local line = here()
      assert.is_nil(f)
      assert.equal("unknown_syscall", err.code)
      assert.equal("execv", err.syscall)
      assert.equal(2, err.rule)
      assert.equal(line, err.where)
      assert.matches("did you mean 'execve'", tostring(err))
      f, err = seccomp.allow_list({ "zzzzzzzzzzzz" }, { arch = "x86_64" })
      assert.equal("unknown_syscall", err.code)
      assert.not_matches("did you mean", tostring(err))
      -- open exists on x86_64 but not aarch64: unknown there, fine in a mixed filter
      f, err = seccomp.allow_list({ "open" }, { arch = "aarch64" })
      assert.equal("unknown_syscall", err.code)
      assert.matches("does not exist on aarch64", tostring(err))
      assert.is_truthy(seccomp.allow_list({ "open" }, { arches = { "aarch64", "x86_64" } }))
      local _, e2 = f, select(2, seccomp.allow_list({ "open" }, { arches = { "aarch64", "riscv64" } }))
      assert.equal("unknown_syscall", e2.code)
    end)

    it("duplicate_rule: two unconditional rules for one syscall", function()
      local rules = { { "allow", "read" }, { "log", "write" }, { "log", "read" } }
      local f, err = seccomp.from_rules(rules, "kill_process", { arch = "x86_64" }); local line = here()
      assert.is_nil(f)
      assert.equal("duplicate_rule", err.code)
      assert.equal("read", err.syscall)
      assert.equal(3, err.rule)
      assert.equal(line, err.where)
      assert.matches("read", tostring(err))
      -- a name and its number are the same syscall
      f, err = seccomp.from_rules({ { "allow", "getpid" }, { "log", 39 } }, "kill_process",
                                  { arch = "x86_64" })
      assert.equal("duplicate_rule", err.code)
      -- the same action twice is still two rules
      f, err = seccomp.from_rules({ { "allow", "read" }, { "allow", "read" } }, "kill_process")
      assert.equal("duplicate_rule", err.code)
      -- a conditional rule next to an unconditional one is fine
      assert.is_truthy(seccomp.from_rules({ { "allow", "read" },
        { "log", "read", { { index = 0, op = "eq", value = 0 } } } }, "kill_process"))
    end)

    it("bad_rule: every malformed rule shape", function()
      local function cond(c) return { { action = "allow", syscall = "read", args = { c } } } end
      local many = {}
      for i = 1, 17 do many[i] = { index = 0, op = "ne", value = i } end
      local shapes = {
        { "a string, not a table", { "read" } },
        { "no syscall", { { "allow" } } },
        { "syscall of the wrong type", { { "allow", true } } },
        { "negative number", { { "allow", -1 } } },
        { "fractional number", { { "allow", 1.5 } } },
        { "number with the x32 bit on x86_64", { { "allow", X32_BIT } } },
        { "number beyond 32 bits", { { "allow", 0x100000000 } } },
        { "unknown rule field", { { action = "allow", syscall = "read", when = 1 } } },
        { "action twice", { { "allow", "read", action = "kill_process" } } },
        { "syscall twice", { { "allow", "read", syscall = "write" } } },
        { "args twice", { { "allow", "read", {}, args = {} } } },
        { "args not a table", { { action = "allow", syscall = "read", args = 5 } } },
        { "args one condition, not a list",
          { { action = "allow", syscall = "read", args = { index = 0, op = "eq", value = 1 } } } },
        { "args with holes", { { action = "allow", syscall = "read",
            args = { [1] = { index = 0, op = "eq", value = 1 }, [3] = { index = 0, op = "eq", value = 1 } } } } },
        { "condition not a table", cond(7) },
        { "index 6", cond({ index = 6, op = "eq", value = 1 }) },
        { "index -1", cond({ index = -1, op = "eq", value = 1 }) },
        { "index missing", cond({ op = "eq", value = 1 }) },
        { "unknown op", cond({ index = 0, op = "==", value = 1 }) },
        { "op missing", cond({ index = 0, value = 1 }) },
        { "value missing", cond({ index = 0, op = "eq" }) },
        { "value not a number", cond({ index = 0, op = "eq", value = "zz" }) },
        { "value fractional", cond({ index = 0, op = "eq", value = 0.5 }) },
        { "value beyond 64 bits", cond({ index = 0, op = "eq", value = "0x10000000000000000" }) },
        { "value beyond 64 bits (decimal)", cond({ index = 0, op = "eq", value = "18446744073709551616" }) },
        { "masked_eq without mask", cond({ index = 0, op = "masked_eq", value = 1 }) },
        { "mask on eq", cond({ index = 0, op = "eq", value = 1, mask = 1 }) },
        { "unknown condition field", cond({ index = 0, op = "eq", value = 1, arg = 2 }) },
        { "too many conditions", { { action = "allow", syscall = "read", args = many } } },
      }
      for _, shape in ipairs(shapes) do
        local f, err = seccomp.from_rules(shape[2], "kill_process", { arch = "x86_64" }); local line = here()
        assert.is_nil(f, shape[1])
        assert.equal("bad_rule", err.code, shape[1] .. ": " .. tostring(err))
        assert.equal(line, err.where, shape[1])
        assert.is_true(#err.message > 10, shape[1])
      end
      -- a number in a filter for several arches is ambiguous
      local f, err = seccomp.from_rules({ { "allow", 39 } }, "kill_process",
                                        { arches = { "x86_64", "i386" } })
      assert.is_nil(f)
      assert.equal("bad_rule", err.code)
      -- rules not a list
      f, err = seccomp.from_rules("read", "allow")
      assert.equal("bad_rule", err.code)
    end)

    it("bad_rule: a list with a hole or a non-list key never drops a rule silently", function()
      -- a misspelt variable is nil: the items after it must not vanish
      local f, err = seccomp.deny_list({ "ptrace", nil, "kexec_load" }, { arch = "x86_64" }); local line = here()
      assert.is_nil(f)
      assert.equal("bad_rule", err.code)
      assert.equal(2, err.rule)
      assert.equal(line, err.where)
      assert.matches("item 2 is nil", err.message)
      f, err = seccomp.allow_list({ "read", nil, "write" }, { arch = "x86_64" })
      assert.equal("bad_rule", err.code)
      f, err = seccomp.allow_list({ "read", extra = "write" }, { arch = "x86_64" })
      assert.equal("bad_rule", err.code)
      assert.matches("'extra'", err.message)
      local rules = { { "allow", "read" } }
      rules[3] = { "kill_process", "ptrace" }
      f, err = seccomp.from_rules(rules, "allow", { arch = "x86_64" })
      assert.equal("bad_rule", err.code)
      assert.equal(2, err.rule)
      f, err = seccomp.from_rules({ { "allow", "read" }, nil, { "kill_process", "ptrace" } }, "allow",
                                  { arch = "x86_64" })
      assert.equal("bad_rule", err.code)
      f, err = seccomp.from_rules({ { "allow", "read" }, deny = { "kill_process", "ptrace" } }, "allow",
                                  { arch = "x86_64" })
      assert.equal("bad_rule", err.code)
      local b = seccomp.builder():allow("read")
      b:deny({ "ptrace", nil, "kexec_load" }); line = here()
      f, err = b:build({ arch = "x86_64", default = "allow" })
      assert.is_nil(f)
      assert.equal("bad_rule", err.code)
      assert.equal(line, err.where)
      f, err = seccomp.builder():deny({ "ptrace", also = "kexec_load" }):build({ default = "allow" })
      assert.equal("bad_rule", err.code)
    end)

    it("too_big: more than the kernel's 4096 instructions", function()
      -- (rules on one argument share its high word: each still needs a test of its own)
      local rules = {}
      for i = 1, 4200 do
        rules[i] = { action = "allow", syscall = "read", args = { { index = 1, op = "eq", value = i * 3 } } }
      end
      local f, err = seccomp.from_rules(rules, "kill_process", { arch = "x86_64" }); local line = here()
      assert.is_nil(f)
      assert.equal("too_big", err.code)
      assert.equal(line, err.where)
      assert.matches("4096", tostring(err))
    end)

    it("bad_program from load, and too_big for an oversized raw program", function()
      local cases = {
        { "not a multiple of 8 bytes", "abc" },
        { "empty", "" },
        { "load outside seccomp_data", bpf({ LD_ABS, 0, 0, 64 }, { RET, 0, 0, 0x7fff0000 }) },
        { "misaligned load", bpf({ LD_ABS, 0, 0, 2 }, { RET, 0, 0, 0x7fff0000 }) },
        { "jump past the end", bpf({ JEQ, 1, 0, 5 }, { RET, 0, 0, 0 }) },
        { "no return at the end", bpf({ LD_ABS, 0, 0, 0 }) },
        { "unknown opcode", bpf({ 0xff, 0, 0, 0 }, { RET, 0, 0, 0 }) },
        { "packet-only load", bpf({ 0x30, 0, 0, 0 }, { RET, 0, 0, 0 }) },   -- ld b [0]
      }
      for _, c in ipairs(cases) do
        local f, err = seccomp.load(c[2], "x86_64"); local line = here()
        assert.is_nil(f, c[1])
        assert.equal("bad_program", err.code, c[1])
        assert.equal(line, err.where, c[1])
      end
      -- sx.core's emulator, given a program nobody checked, raises instead of reading
      -- past seccomp_data
      for _, off in ipairs({ 64, 2, 0x7fffffff, 0xfffffffc }) do
        assert.has_error(function()
          core.emulate(bpf({ LD_ABS, 0, 0, off }, { RET, 0, 0, 0 }), 0xc000003e, 0)
        end)
      end
      local f, err = seccomp.load(string.rep(bpf({ RET, 0, 0, 0x7fff0000 }), 4097), "x86_64")
      assert.is_nil(f)
      assert.equal("too_big", err.code)
      f, err = seccomp.load(bpf({ RET, 0, 0, 0 }), "mips")
      assert.equal("unsupported_arch", err.code)
      assert.has_error(function() seccomp.load(42) end)
    end)

    it("no_rules from to_rules of raw BPF", function()
      local f = assert(seccomp.load(bpf({ RET, 0, 0, 0x7fff0000 }), "x86_64"))
      local rules, err = seccomp.to_rules(f); local line = here()
      assert.is_nil(rules)
      assert.equal("no_rules", err.code)
      assert.equal(line, err.where)
      assert.has_error(function() seccomp.to_rules({}) end)
    end)
  end)

  describe("filters", function()
    local f
    before_each(function()
      f = assert(seccomp.from_rules({
        { "allow", "read" }, { "allow", "write" },
        { seccomp.errno(1), "openat", { { index = 2, op = "masked_eq", mask = 3, value = 1 } } },
      }, "kill_process", { arch = "x86_64" }))
    end)

    it("have arches, arch, bpf, rules, default, bad_arch", function()
      assert.same({ "x86_64" }, f.arches)
      assert.equal("x86_64", f.arch)
      assert.equal("string", type(f.bpf))
      assert.equal(0, #f.bpf % 8)
      assert.equal("kill_process", f.default)
      assert.equal("kill_process", f.bad_arch)
      -- each rule knows the line of the call that wrote it
      local where = f.rules[1].where
      assert.matches("seccomp_spec.lua:%d+$", where)
      assert.same({ action = "allow", syscall = "read", where = where }, f.rules[1])
      assert.same({ action = seccomp.errno(1), syscall = "openat", where = where,
                    args = { { index = 2, op = "masked_eq", mask = 3, value = 1 } } }, f.rules[3])
      assert.is_true(seccomp.is_filter(f))
      assert.is_false(seccomp.is_filter({}))
    end)

    it("give arches and arch without unpacking the rules, and the same table after", function()
      local g = assert(seccomp.from_rules({ { "allow", "open" } }, "kill_process",
                                          { arches = { "x86_64", "i386" } }))
      local arches = g.arches
      assert.is_nil(g.arch)
      assert.is_nil(rawget(g, "rules"))       -- still in C: arches did not unpack them
      assert.same({ "x86_64", "i386" }, arches)
      assert.equal("allow", g.rules[1].action)
      assert.equal(arches, g.arches)          -- the same table once the rules are out
      assert.is_nil(g.arch)
      local h = assert(seccomp.allow_list({ "read" }, { arch = "x86_64" }))
      assert.equal("x86_64", h.arch)
      assert.same({ "x86_64" }, h.arches)
      assert.equal("allow", h.rules[1].action)
      assert.equal("x86_64", h.arch)
    end)

    it("count each syscall once when printed, without unpacking the rules", function()
      local g = assert(seccomp.from_rules({
        { "allow", "read", { { index = 0, op = "eq", value = 1 } } },
        { "allow", "read", { { index = 0, op = "eq", value = 2 } } },
        { "allow", "write" }, { "allow", 998 }, { "allow", 999, { { index = 1, op = "eq", value = 1 } } },
        { "allow", 999, { { index = 1, op = "eq", value = 2 } } },
      }, "kill_process", { arch = "x86_64" }))
      assert.matches(" 4 syscalls,", tostring(g))
      assert.is_nil(rawget(g, "rules"))
      local seen, n = {}, 0
      for _, r in ipairs(g.rules) do
        if not seen[r.syscall] then seen[r.syscall], n = true, n + 1 end
      end
      assert.equal(4, n)
      assert.matches(" 4 syscalls,", tostring(g))          -- the same once unpacked
      local l = assert(seccomp.allow_list({ "read", "write", "read" }, { arch = "x86_64" }))
      assert.matches(" 2 syscalls,", tostring(l))
      assert.matches("<x86_64 raw, ", tostring(seccomp.load(l.bpf, "x86_64")))
    end)

    it("print short and count instructions with #", function()
      assert.equal(#f.bpf // 8, #f)
      assert.equal(("sx.filter<x86_64 3 syscalls, %d BPF insns>"):format(#f), tostring(f))
      local g = assert(seccomp.allow_list({ "read" }, { arches = { "x86_64", "i386" } }))
      assert.equal(("sx.filter<x86_64+i386 1 syscall%%s?, %d BPF insns>"):format(#g),
                   ("sx.filter<x86_64+i386 1 syscall%%s?, %d BPF insns>"):format(#g))
      assert.matches("^sx%.filter<x86_64%+i386 1 syscalls?, " .. #g .. " BPF insns>$", tostring(g))
    end)

    it("eval by name or number, with args, on an arch, counting instructions", function()
      local a, n = f:eval("read")
      assert.equal("allow", a)
      assert.is_true(math.type(n) == "integer" and n >= 3 and n <= #f)
      assert.equal("allow", (f:eval(0)))
      assert.equal(seccomp.errno(1), (f:eval("openat", { 0, 0, 5 })))
      assert.equal(seccomp.errno(1), (f:eval("openat", { 0, 0, "0xffffffff00000001" })))
      assert.equal("kill_process", (f:eval("openat", { 0, 0, 6 })))
      assert.equal("kill_process", (f:eval("read", nil, "i386")))           -- bad arch
      assert.equal("kill_process", (f:eval(X32_BIT, nil, "x86_64")))      -- x32 bit
      assert.equal("kill_process", (f:eval("read", nil, "x32")))
      local r, err = f:eval("raed")
      assert.is_nil(r)
      assert.equal("unknown_syscall", err.code)
      assert.has_error(function() f:eval("read", nil, "mips") end)
      assert.has_error(function() f:eval("read", { "zz" }) end)
      assert.has_error(function() f:eval({}) end)
    end)

    it("say which syscalls the kernel's action cache can answer", function()
      assert.is_true(f:cache_eligible("read"))
      assert.is_true(f:cache_eligible(1))
      assert.is_false(f:cache_eligible("openat"))      -- loads an argument
      assert.is_false(f:cache_eligible("ptrace"))      -- killed, not allowed
      assert.is_false(f:cache_eligible("read", "i386"))
      -- x32 numbers are beyond the kernel's cache bitmaps, whatever the filter says
      local x = assert(seccomp.allow_list({ "read" }, { arches = { "x86_64", "x32" } }))
      assert.is_true(x:cache_eligible("read", "x86_64"))
      assert.equal("allow", (x:eval("read", nil, "x32")))
      assert.is_false(x:cache_eligible("read", "x32"))
      assert.is_false(x:cache_eligible(X32_BIT, "x86_64"))
      local _, err = f:cache_eligible("raed")
      assert.equal("unknown_syscall", err.code)
    end)

    it("disassemble one instruction a line", function()
      local text = f:disasm()
      local lines = 0
      for _ in text:gmatch("[^\n]+") do lines = lines + 1 end
      assert.equal(#f, lines)
      assert.matches("openat", text)
      assert.matches("x86_64", text)
    end)

    it("round-trip through to_rules and from_rules to the same program", function()
      local rules, default, opts = seccomp.to_rules(f)
      assert.equal("kill_process", default)
      assert.same({ "x86_64" }, opts.arches)
      local g = assert(seccomp.from_rules(rules, default, opts))
      assert.equal(f.bpf, g.bpf)
      -- what to_rules returns is a copy
      rules[1].syscall = "ptrace"
      rules[3].args[1].value = 2
      assert.equal("read", f.rules[1].syscall)
      assert.equal(1, f.rules[3].args[1].value)
      -- multi-arch, bad_arch and hex values survive too
      local h = assert(seccomp.from_rules({
        { seccomp.trace(5), "openat", { { index = 1, op = "ge", value = "0x8000000000000000" } } },
        { "log", "uname" },
      }, seccomp.errno(38), { arches = { "x86_64", "aarch64", "x32" }, bad_arch = "trap" }))
      local r2, d2, o2 = seccomp.to_rules(h)
      local h2 = assert(seccomp.from_rules(r2, d2, o2))
      assert.equal(h.bpf, h2.bpf)
      assert.equal("trap", o2.bad_arch)
    end)

    it("load wraps raw BPF that evaluates like the original", function()
      local raw = assert(seccomp.load(f.bpf, "x86_64"))
      assert.equal(f.bpf, raw.bpf)
      assert.is_nil(raw.rules)
      assert.is_nil(raw.default)
      assert.equal("x86_64", raw.arch)
      assert.matches("^sx%.filter<x86_64 raw, " .. #f .. " BPF insns>$", tostring(raw))
      for _, probe in ipairs({ { "read" }, { "ptrace" }, { "openat", { 0, 0, 1 } } }) do
        assert.equal((f:eval(probe[1], probe[2])), (raw:eval(probe[1], probe[2])))
      end
      -- a hand-written program: allow getpid, errno(3) otherwise
      local hand = assert(seccomp.load(bpf({ LD_ABS, 0, 0, 0 }, { JEQ, 0, 1, 39 },
        { RET, 0, 0, 0x7fff0000 }, { RET, 0, 0, 0x00050003 }), "x86_64"))
      assert.equal("allow", (hand:eval("getpid")))
      assert.equal(seccomp.errno(3), (hand:eval("read")))
      assert.equal(4, #hand)
    end)
  end)

  it("compiles deterministically: the same policy twice gives the same bytes", function()
    local names = seccomp.syscall_names()
    local some = {}
    for i = 1, #names, 3 do
      if seccomp.syscall_number(names[i], "x86_64") then some[#some + 1] = names[i] end
    end
    local a = assert(seccomp.allow_list(some, { arch = "x86_64" }))
    local b = assert(seccomp.allow_list(some, { arch = "x86_64" }))
    assert.equal(a.bpf, b.bpf)
    assert.equal(core.disasm(a.bpf), b:disasm())
    -- and Docker's default allow list (its unconditional entries)
    local cjson = require "cjson"
    local h = assert(io.open((os.getenv("SX_SOURCE_DIR") or ".") ..
                             "/spec/fixtures/docker-default.json"))
    local profile = cjson.decode(h:read("a"))
    h:close()
    local docker = {}
    for _, entry in ipairs(profile.syscalls) do
      if entry.action == "SCMP_ACT_ALLOW" and entry.args == nil and entry.includes == nil
         and entry.excludes == nil then
        for _, name in ipairs(entry.names) do
          if seccomp.syscall_number(name, "x86_64") then docker[#docker + 1] = name end
        end
      end
    end
    assert.is_true(#docker >= 300)
    local d1 = assert(seccomp.allow_list(docker, { arch = "x86_64" }))
    local d2 = assert(seccomp.allow_list(docker, { arch = "x86_64" }))
    assert.equal(d1.bpf, d2.bpf)
  end)
end)

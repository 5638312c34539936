-- Syscall groups ("@file-system", ...): their data, and their use wherever a syscall name
-- is accepted, checked through the emulator and, for a few, through the kernel.
local seccomp = require "sx.seccomp"
local core = require "sx.core"

local HOST = seccomp.arch()
local EPERM = seccomp.errno("EPERM")

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

-- Every member of group g on any architecture (seccomp.group gives one arch's).
local function members(g)
  local seen, out = {}, {}
  for _, arch in ipairs(seccomp.arches()) do
    for _, m in ipairs(assert(seccomp.group(g, arch))) do
      if not seen[m] then seen[m] = true; out[#out + 1] = m end
    end
  end
  table.sort(out)
  return out
end

local function on_host(list)
  local out = {}
  for _, name in ipairs(list) do
    if seccomp.syscall_number(name, HOST) then out[#out + 1] = name end
  end
  return out
end

describe("syscall groups", function()
  it("lists the groups people know from systemd, sorted", function()
    local names = seccomp.groups()
    local sorted = {}
    for i, n in ipairs(names) do sorted[i] = n end
    table.sort(sorted)
    assert.same(sorted, names)
    local have = set_of(names)
    for _, g in ipairs({ "@aio", "@basic-io", "@chown", "@clock", "@cpu-emulation", "@debug",
                         "@default", "@file-system", "@io-event", "@ipc", "@keyring",
                         "@known", "@memlock", "@module", "@mount", "@network-io",
                         "@obsolete", "@pkey", "@privileged", "@process", "@raw-io",
                         "@reboot", "@resources", "@sandbox", "@setuid", "@signal", "@swap",
                         "@sync", "@system-service", "@timer" }) do
      assert.is_true(have[g], g)
    end
  end)

  it("expands every group to a sorted, repeat-free list of names the tables know", function()
    local known = set_of(seccomp.syscall_names())
    for _, g in ipairs(seccomp.groups()) do
      for _, arch in ipairs(seccomp.arches()) do
        local list = assert(seccomp.group(g, arch))
        local seen = {}
        for i, m in ipairs(list) do
          assert.is_truthy(known[m] and seccomp.syscall_number(m, arch),
                           g .. " lists '" .. m .. "', which " .. arch .. " lacks")
          assert.is_nil(seen[m], g .. " repeats " .. m)
          seen[m] = true
          if i > 1 then assert.is_true(list[i - 1] < m, g .. " is not sorted") end
        end
      end
      assert.is_true(#members(g) > 0, g)
    end
  end)

  it("has the members people rely on", function()
    local function has(g, ...)
      local s = set_of(members(g))
      for _, m in ipairs({ ... }) do assert.is_true(s[m], g .. " should have " .. m) end
    end
    has("@mount", "mount", "umount2", "pivot_root", "fsopen", "move_mount")
    has("@module", "init_module", "finit_module", "delete_module")
    has("@reboot", "reboot", "kexec_load", "kexec_file_load")
    has("@swap", "swapon", "swapoff")
    has("@raw-io", "iopl", "ioperm")
    has("@debug", "ptrace", "perf_event_open")
    has("@clock", "settimeofday", "clock_settime", "adjtimex")
    has("@cpu-emulation", "modify_ldt", "vm86")
    has("@network-io", "socket", "connect", "accept4", "sendmsg", "recvmsg")
    has("@file-system", "openat", "close", "statx", "getdents64", "mkdirat")
    has("@process", "clone", "clone3", "execveat", "kill", "unshare", "setns")
    has("@obsolete", "uselib", "_sysctl", "create_module")
    assert.equal(#seccomp.syscall_names(), #members("@known"))
    local _, help = seccomp.group("@mount")
    assert.equal("Mounting and unmounting of file systems", help)
    for _, g in ipairs(seccomp.groups()) do assert.is_string(select(2, seccomp.group(g)), g) end
  end)

  it("follows includes: a group holds every member of the groups it names", function()
    local function includes(outer, inner)
      local s = set_of(members(outer))
      for _, m in ipairs(members(inner)) do
        assert.is_true(s[m], ("%s should include %s's %s"):format(outer, inner, m))
      end
    end
    for _, inner in ipairs({ "@chown", "@clock", "@module", "@raw-io", "@reboot", "@swap" }) do
      includes("@privileged", inner)
    end
    for _, inner in ipairs({ "@aio", "@basic-io", "@default", "@file-system", "@io-event",
                             "@ipc", "@network-io", "@process", "@signal", "@timer" }) do
      includes("@system-service", inner)
    end
    includes("@default", "@sandbox")   -- two levels: @system-service > @default > @sandbox
    includes("@system-service", "@sandbox")
    -- and the members of its own
    assert.is_true(set_of(members("@privileged")).acct)
    assert.is_nil(set_of(members("@privileged")).read)
  end)

  it("rejects an unknown group with a suggestion", function()
    local g, err = seccomp.group("@file-sytem")
    assert.is_nil(g)
    assert.equal("unknown_syscall", err.code)
    assert.matches("did you mean '@file%-system'", tostring(err))
    g, err = seccomp.group("@zzzzzzzzzzzz")
    assert.is_nil(g)
    assert.not_matches("did you mean", tostring(err))
    g, err = seccomp.group(nil)
    assert.is_nil(g)
    assert.equal("unknown_syscall", err.code)
  end)
end)

describe("groups where a syscall name is accepted", function()
  it("allow_list allows every member and nothing else", function()
    local f = assert(seccomp.allow_list({ "@basic-io", "@io-event", "exit_group" }))
    local members = on_host(seccomp.group("@basic-io"))
    for _, m in ipairs(on_host(seccomp.group("@io-event"))) do members[#members + 1] = m end
    local allowed = set_of(members)
    allowed.exit_group = true
    for _, name in ipairs(on_host(seccomp.syscall_names())) do
      assert.equal(allowed[name] and "allow" or "kill_process", (f:eval(name)), name)
    end
  end)

  it("treats an allow or deny list as a set, overlapping groups included", function()
    -- close is in @basic-io and @file-system; read is named as well
    local f = assert(seccomp.allow_list({ "@basic-io", "@file-system", "read", "close" }))
    assert.equal("allow", (f:eval("close")))
    assert.equal("allow", (f:eval("openat")))
    local d = assert(seccomp.deny_list({ "@privileged", "@chown", "@setuid" }))
    assert.equal(EPERM, (d:eval("fchownat")))
    assert.equal(EPERM, (d:eval("setgid")))
    assert.equal("allow", (d:eval("getpid")))
  end)

  it("deny_list denies every member with the deny action", function()
    local f = assert(seccomp.deny_list({ "@mount", "@module" },
                                       { deny_action = seccomp.errno("EACCES") }))
    for _, g in ipairs({ "@mount", "@module" }) do
      for _, m in ipairs(on_host(seccomp.group(g))) do
        assert.equal(seccomp.errno("EACCES"), (f:eval(m)), m)
      end
    end
    assert.equal("allow", (f:eval("openat")))
  end)

  it("works in from_rules and the builder, with conditions on every member", function()
    local f = assert(seccomp.from_rules({
      { "allow", "@basic-io" },
      { action = "log", syscall = "@network-io", args = { { index = 0, op = "eq", value = 1 } } },
      { action = "trap", syscall = "@network-io" },
    }, "kill_process"))
    for _, m in ipairs(on_host(seccomp.group("@basic-io"))) do
      assert.equal("allow", (f:eval(m)), m)
    end
    for _, m in ipairs(on_host(seccomp.group("@network-io"))) do
      assert.equal("log", (f:eval(m, { 1 })), m)
      assert.equal("trap", (f:eval(m, { 2 })), m)
    end
    local b = assert(seccomp.builder():allow("@timer"):deny("@reboot"):build())
    assert.equal("allow", (b:eval("timerfd_create")))
    assert.equal(EPERM, (b:eval("reboot")))
    assert.equal("kill_process", (b:eval("getpid")))
  end)

  it("lets a syscall's own rule decide over its group's", function()
    local f = assert(seccomp.builder():allow("@system-service"):deny("getrandom"):build())
    assert.equal(EPERM, (f:eval("getrandom")))
    assert.equal("allow", (f:eval("read")))
    f = assert(seccomp.builder():deny("ptrace"):allow("@debug"):build())
    assert.equal(EPERM, (f:eval("ptrace")))
    assert.equal("allow", (f:eval("perf_event_open")))
  end)

  it("lets a syscall's own conditional rules beat its group's, whatever the order", function()
    local AF_INET, AF_PACKET = 2, 17
    local f = assert(seccomp.builder():allow { "@system-service" }
                       :allow("socket", "arg0 == AF_INET"):build { arch = "x86_64" })
    assert.equal("allow", (f:eval("socket", { AF_INET })))
    assert.equal("kill_process", (f:eval("socket", { AF_PACKET })))
    assert.equal("allow", (f:eval("read")))
    -- the own rule first, the group after, a deny: the same
    f = assert(seccomp.builder():deny("socket", "arg0 == AF_PACKET"):allow("@network-io")
                 :build { arch = "x86_64", default = "allow" })
    assert.equal(EPERM, (f:eval("socket", { AF_PACKET })))
    for _, r in ipairs(f.rules) do
      if r.syscall == "socket" then assert.is_table(r.args) end   -- no group rule left
    end
    -- a group's conditional rules give way too
    f = assert(seccomp.builder():allow("@basic-io", "arg0 == 1"):allow("write", "arg0 == 2")
                 :build { arch = "x86_64" })
    assert.equal("kill_process", (f:eval("write", { 1 })))
    assert.equal("allow", (f:eval("write", { 2 })))
    assert.equal("allow", (f:eval("read", { 1 })))
  end)

  it("group(name, arch) lists what exists there, and takes its own result back", function()
    local cpu = set_of(assert(seccomp.group("@cpu-emulation", "i386")))
    assert.is_true(cpu.vm86)
    assert.is_nil(set_of(assert(seccomp.group("@cpu-emulation", "x86_64"))).vm86)
    assert.same(seccomp.group("@system-service", seccomp.arch()), seccomp.group("@system-service"))
    for _, arch in ipairs(seccomp.arches()) do
      for _, g in ipairs(seccomp.groups()) do
        local list = assert(seccomp.group(g, arch))
        if #list > 0 then
          assert(seccomp.allow_list(list, { arch = arch }), g .. " on " .. arch)
          assert(seccomp.deny_list(list, { arch = arch }), g .. " on " .. arch)
        end
      end
    end
    assert.has_error(function() seccomp.group("@mount", "vax") end)
  end)

  it("refuses two groups that give one syscall different actions, naming them", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local f, err = seccomp.builder():allow("@system-service"):deny("@privileged"):build()
    assert.is_nil(f)
    assert.equal("duplicate_rule", err.code)
    assert.equal(2, err.rule)
    assert.matches("@system%-service", err.message)
    assert.matches("@privileged", err.message)
    assert.matches("setuid", err.message)
    assert.matches(":" .. line .. "$", err.where)
    -- naming the contested syscalls settles it
    local contested = {}
    local service = set_of(members("@system-service"))
    for _, m in ipairs(members("@privileged")) do
      if service[m] then contested[#contested + 1] = m end
    end
    local b = seccomp.builder():allow("@system-service"):deny("@privileged")
    for _, m in ipairs(contested) do b:deny(m) end
    f = assert(b:build({ arches = { "x86_64", "i386" } }))
    assert.equal(EPERM, (f:eval("setuid")))
    assert.equal(EPERM, (f:eval("setuid32", nil, "i386")))
    assert.equal("allow", (f:eval("read")))
  end)

  it("keeps two explicit unconditional rules for one syscall an error, numbered as written", function()
    local f, err = seccomp.builder():allow("read"):deny("read"):build()
    assert.is_nil(f)
    assert.equal("duplicate_rule", err.code)
    -- a group before them expands to many rules; the numbers are still the policy's
    f, err = seccomp.builder():allow("@basic-io"):allow("ptrace"):deny("ptrace"):build()
    assert.equal("duplicate_rule", err.code)
    assert.equal(3, err.rule)
    assert.matches("rules 2 and 3", err.message)
  end)

  it("compiles every group alone on every architecture that has a member", function()
    for _, arch in ipairs(seccomp.arches()) do
      for _, g in ipairs(seccomp.groups()) do
        local present = #seccomp.group(g, arch)
        local f, err = seccomp.allow_list({ g }, { arch = arch, default = "log" })
        if present == 0 then
          assert.equal("unknown_syscall", err and err.code, g .. " on " .. arch)
        else
          assert(f, tostring(err))
          for _, m in ipairs(seccomp.group(g, arch)) do
            assert.equal("allow", (f:eval(m, nil, arch)), m .. " on " .. arch)
          end
        end
      end
    end
  end)

  it("skips members missing on an architecture, and fails a group with none", function()
    -- vm86 is i386-only, modify_ldt exists on x86_64 too
    local f = assert(seccomp.deny_list({ "@cpu-emulation" }, { arch = "x86_64" }))
    assert.equal(EPERM, (f:eval("modify_ldt")))
    f = assert(seccomp.deny_list({ "@cpu-emulation" }, { arches = { "x86_64", "i386" } }))
    assert.equal(EPERM, (f:eval("vm86", nil, "i386")))
    local err
    f, err = seccomp.deny_list({ "@cpu-emulation" }, { arch = "aarch64" })
    assert.is_nil(f)
    assert.equal("unknown_syscall", err.code)
    assert.equal("@cpu-emulation", err.syscall)
    assert.matches("no syscall of group '@cpu%-emulation' exists on aarch64", err.message)
  end)

  it("reports an unknown group as unknown_syscall at the policy line", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local f, err = seccomp.builder():allow("read"):allow("@netwrk-io"):build()
    assert.is_nil(f)
    assert.equal("unknown_syscall", err.code)
    assert.equal(2, err.rule)
    assert.equal("@netwrk-io", err.syscall)
    assert.matches("did you mean '@network%-io'", err.message)
    assert.matches(":" .. line .. "$", err.where)
    f, err = seccomp.allow_list({ "@nope-nothing-like-it" })
    assert.equal("unknown_syscall", err.code)
  end)

  it("reports malformed rules around groups and condition strings, never drops them", function()
    for _, case in ipairs({
      { { "allow", "@basic-io", 5 }, "bad_rule", "args must be a list" },
      { { "allow", nil, "arg0 == 1" }, "bad_rule", "syscall must be a name" },
      { { "allow" }, "bad_rule", "syscall must be a name" },
      { { action = "allow", syscall = "@basic-io", when = 1 }, "bad_rule", "unknown field" },
      { { "bogus", "@basic-io" }, "bad_action", "unknown action" },
      { { nil, "@basic-io" }, "bad_action", "no action" },
      { { "allow", "@" }, "unknown_syscall", "unknown syscall group" },
      { { "allow", "@basic-io", { 7 } }, "bad_rule", "a condition is a table" },
    }) do
      local f, err = seccomp.from_rules({ { "allow", "getpid" }, case[1] }, "kill_process")
      assert.is_nil(f, case[3])
      assert.equal(case[2], err.code, case[3])
      assert.equal(2, err.rule, case[3])
      assert.matches(case[3], err.message, 1, true)
    end
  end)

  it("to_rules carries the arches: from_rules of its first two values never guesses the host", function()
    local f = seccomp.allow_list({ "read" }, { arches = { "aarch64", "arm" } })
    local rules, default = seccomp.to_rules(f)
    local g = assert(seccomp.from_rules(rules, default))
    assert.same({ "aarch64", "arm" }, g.arches)
    assert.equal(f.bpf, g.bpf)
  end)

  it("round-trips through to_rules", function()
    local f = assert(seccomp.builder():allow("@basic-io"):allow("@network-io", "arg0 == 3")
                       :deny("@swap"):build())
    local g = assert(seccomp.from_rules(seccomp.to_rules(f)))
    assert.equal(f.bpf, g.bpf)
  end)

  it("is enforced by the kernel", function()
    -- deny @sync with EACCES: fsync(-1) answers EACCES instead of the kernel's EBADF
    local f = assert(seccomp.deny_list({ "@sync" }, { deny_action = seccomp.errno("EACCES") }))
    local fsync = seccomp.syscall_number("fsync")
    local kind, v = core.probe(f.bpf, fsync, -1)
    assert.equal("errno", kind)
    assert.equal(seccomp.errno("EACCES"), seccomp.action("errno(" .. v .. ")"))
    kind, v = core.probe(f.bpf, seccomp.syscall_number("getppid"))
    assert.equal("returned", kind)
    -- an allow list of groups: a member runs, anything else is killed
    local a = assert(seccomp.allow_list({ "@default", "@basic-io" }))
    kind = core.probe(a.bpf, seccomp.syscall_number("getppid"))
    assert.equal("returned", kind)
    kind, v = core.probe(a.bpf, seccomp.syscall_number("dup"), 0)
    assert.equal("returned", kind)
    kind, v = core.probe(a.bpf, seccomp.syscall_number("uname"), 0)
    assert.equal("signaled", kind)
    assert.equal(31, v)   -- SIGSYS
  end)
end)

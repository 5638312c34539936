-- A filter's raw BPF handed to bubblewrap (`bwrap --seccomp FD`, Debian's bubblewrap),
-- which installs it right before it executes the program: the kernel enforces it there.
-- bwrap reads the bare sock_filter array, which is what f.bpf is.
local seccomp = require "sx.seccomp"
local oci = require "sx.oci"

local fmt = string.format

local DOCKER = (os.getenv("SX_SOURCE_DIR") or ".") .. "/spec/fixtures/docker-default.json"
local BPF = os.tmpname()

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Run `cmd` (a shell word list) under bwrap, with the filter `bpf` when given; returns
-- its combined output and exit status (128 + signal when a signal ended it).
local function bwrap(bpf, cmd)
  local seccomp_args = ""
  if bpf then
    local f = assert(io.open(BPF, "wb"))
    f:write(bpf)
    f:close()
    seccomp_args = "--seccomp 9 9<" .. sh_quote(BPF)
  end
  local p = io.popen(fmt("bwrap --ro-bind / / --dev /dev --proc /proc %s -- %s 2>&1; echo \"rc=$?\"",
                         seccomp_args, cmd))
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return out:gsub("rc=%d+%s*$", ""), rc
end

-- Can bwrap run here at all? (It needs mount namespaces: root, or user namespaces.)
local why_not
do
  local p = io.popen("command -v bwrap")
  local path = p:read("a")
  p:close()
  if path == "" then
    why_not = "bwrap is not installed (Debian's bubblewrap; tools/setup installs it)"
  else
    local out, rc = bwrap(nil, "true")
    if rc ~= 0 then why_not = "bwrap cannot make a sandbox here: " .. out:gsub("%s+$", "") end
  end
end

local function runs(name, fn)
  it(name, function()
    if why_not then return pending(why_not) end
    if seccomp.arch() ~= "x86_64" then return pending("the programs' ABI is checked for x86_64 hosts") end
    fn()
  end)
end

describe("bwrap --seccomp", function()
  runs("enforces a filter sx built: the denied syscall fails with the filter's errno", function()
    local out, rc = bwrap(nil, "uname -s")
    assert.equal(0, rc)
    assert.equal("Linux\n", out)
    local f = assert(seccomp.deny_list({ "uname" }, { deny_action = seccomp.errno("ENOTRECOVERABLE") }))
    out, rc = bwrap(f.bpf, "uname -s")
    assert.equal(1, rc)
    assert.matches("State not recoverable", out)   -- strerror(ENOTRECOVERABLE)
  end)

  runs("kills on kill_process: bwrap reports SIGSYS", function()
    local f = assert(seccomp.deny_list({ "uname" }, { deny_action = "kill_process" }))
    local _, rc = bwrap(f.bpf, "uname -s")
    assert.equal(128 + 31, rc)
    -- everything else still runs
    local out
    out, rc = bwrap(f.bpf, "echo still here")
    assert.equal(0, rc)
    assert.equal("still here\n", out)
  end)

  runs("enforces Docker's default profile imported by sx.oci", function()
    local f = assert(oci.import(io.open(DOCKER):read("a")))
    local out, rc = bwrap(f.bpf, "uname -s")
    assert.equal(0, rc)
    assert.equal("Linux\n", out)
    -- root may make a user namespace outside; Docker's profile says EPERM without CAP_SYS_ADMIN
    out, rc = bwrap(nil, "unshare -U true")
    assert.equal(0, rc, out)
    out, rc = bwrap(f.bpf, "unshare -U true")
    assert.is_not.equal(0, rc)
    assert.matches("Operation not permitted", out)
    -- with CAP_SYS_ADMIN in the set the profile allows it
    local admin = assert(oci.import(io.open(DOCKER):read("a"), { caps = { "CAP_SYS_ADMIN" } }))
    out, rc = bwrap(admin.bpf, "unshare -U true")
    assert.equal(0, rc, out)
  end)

  runs("enforces a filter that went through oci.export and oci.import", function()
    local f = assert(seccomp.from_rules({
      { action = seccomp.errno("EXDEV"), syscall = "uname" },
      { action = seccomp.errno("ENOTRECOVERABLE"), syscall = "mkdirat", args = { { index = 2, op = "eq", value = 0x1c0 } } },
      { action = seccomp.errno("ENOTRECOVERABLE"), syscall = "mkdir", args = { { index = 1, op = "eq", value = 0x1c0 } } },
    }, "allow"))
    local g = assert(oci.import(assert(oci.export(f)), { arches = f.arches }))
    local out, rc = bwrap(g.bpf, "uname -s")
    assert.equal(1, rc)
    assert.matches("Invalid cross%-device link", out)
    -- mode 0700 is refused, 0755 reaches the kernel (which then says the fs is read-only)
    out = bwrap(g.bpf, "mkdir -m 0700 /sx-bwrap-test")
    assert.matches("State not recoverable", out)
    out = bwrap(g.bpf, "mkdir -m 0755 /sx-bwrap-test")
    assert.matches("Read%-only file system", out)
  end)
end)

os.remove(BPF)

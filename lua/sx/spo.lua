-- sx.spo: a filter as a Kubernetes SeccompProfile, the custom resource of the
-- security-profiles-operator (apiVersion security-profiles-operator.x-k8s.io/v1), in YAML.
--
--   local spo = require "sx.spo"
--   io.write(assert(spo.export(f, { name = "web" })))      -- kubectl apply -f -
--
-- The operator writes the profile to every node as operator/NAME.json under the kubelet's
-- seccomp directory; a Pod uses it with securityContext.seccompProfile = { type:
-- Localhost, localhostProfile: operator/NAME.json } (README, "Kubernetes").
--
-- The spec holds the entries sx.oci's export writes (see sx/oci_export.lua), checked
-- against the operator's CRD (spec/fixtures/spo-seccompprofile-v1.schema.yaml), because
-- the API server would quietly prune or round what the CRD cannot hold:
-- * there is no defaultErrnoRet: runtimes read a bare SCMP_ACT_ERRNO as EPERM (and
--   SCMP_ACT_TRACE as trace(1)), so any other default errno or trace value is refused;
-- * errnoRet is at most 4095 (trace values above are refused);
-- * argument values and masks are int64: 2^63 and above are refused (Kubernetes would
--   keep them as rounded floats);
-- * architectures come from the CRD's list (loongarch64 is not there);
-- * metadata.name is a DNS subdomain (RFC 1123), as Kubernetes requires.
-- Each refusal is nil, err with err.code "bad_profile" and a sentence saying what to do.

local error_ = require "sx.error"
local filter = require "sx.filter"
local oci = require "sx.oci"
local export = require "sx.oci_export"

local type, ipairs, tostring, fmt, concat = type, ipairs, tostring, string.format, table.concat

local M = {}

M.API_VERSION = "security-profiles-operator.x-k8s.io/v1"

-- The architectures the CRD's enum allows, of those sx builds for.
local CRD_ARCHES = { SCMP_ARCH_X86_64 = true, SCMP_ARCH_X86 = true, SCMP_ARCH_X32 = true,
                     SCMP_ARCH_AARCH64 = true, SCMP_ARCH_ARM = true, SCMP_ARCH_RISCV64 = true,
                     SCMP_ARCH_S390X = true, SCMP_ARCH_PPC64LE = true }

local MAX_ERRNO = 4095

local function refuse(msg, ...)
  return nil, error_.new("bad_profile", fmt(msg, ...))
end

-- Is `name` a DNS subdomain (RFC 1123), as Kubernetes wants object names?
local function dns_subdomain(name)
  if #name == 0 or #name > 253 then return false end
  for label in (name .. "."):gmatch("(.-)%.") do
    if not label:find("^[a-z0-9]$") and not label:find("^[a-z0-9][a-z0-9-]*[a-z0-9]$") then
      return false
    end
  end
  return true
end

-- Strings in the output are syscall names, SCMP_* constants and the checked name:
-- written double-quoted, which YAML reads as JSON does.
local function quoted(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return fmt("\\x%02x", c:byte()) end) .. '"'
end

local function check(p)
  if p.defaultAction == "SCMP_ACT_ERRNO" and p.defaultErrnoRet ~= 1 then
    return refuse("the default action is errno %d, and the operator's SeccompProfile has no " ..
      "defaultErrnoRet (runtimes read SCMP_ACT_ERRNO alone as EPERM): use errno(EPERM) as " ..
      "the default, or --format oci for a Localhost profile file", p.defaultErrnoRet)
  end
  if p.defaultAction == "SCMP_ACT_TRACE" and p.defaultErrnoRet ~= 1 then
    return refuse("the default action is trace(%d), and the operator's SeccompProfile has no " ..
      "defaultErrnoRet (SCMP_ACT_TRACE alone is trace(1)): use --format oci", p.defaultErrnoRet)
  end
  for _, a in ipairs(p.architectures) do
    if not CRD_ARCHES[a] then
      return refuse("the operator's SeccompProfile does not take the architecture %s", a)
    end
  end
  for _, e in ipairs(p.syscalls) do
    if e.errnoRet and e.errnoRet > MAX_ERRNO then
      return refuse("%s: %s %d is above the %d the operator's SeccompProfile allows",
                    e.names[1], e.action, e.errnoRet, MAX_ERRNO)
    end
    for _, a in ipairs(e.args) do
      for _, field in ipairs { "value", "valueTwo" } do
        if a[field] < 0 then
          return refuse("%s: argument %d's %s 0x%x does not fit the int64 of the operator's " ..
            "SeccompProfile (Kubernetes would round it): use --format oci for a Localhost " ..
            "profile file, or a condition without the top bit", e.names[1], a.index, field, a[field])
        end
      end
    end
  end
  return true
end

-- export(f, { name = "NAME" }) -> YAML text, or nil, err
function M.export(f, opts)
  if not filter.is(f) then error_.raise("spo.export takes a filter") end
  opts = error_.check_options(opts, { name = true }, "spo.export")
  local name = opts.name
  if type(name) ~= "string" then
    return refuse("a SeccompProfile needs a name (--name NAME)")
  end
  if not dns_subdomain(name) then
    return refuse("'%s' is not a Kubernetes object name: lower-case letters, digits, '-' " ..
                  "and '.', starting and ending with a letter or digit, at most 253", name)
  end
  local p, err = export.profile(f, oci.scmp_arch)
  if not p then return nil, err end
  local ok, cerr = check(p)
  if not ok then return nil, cerr end

  local out = {
    "# A seccomp profile for the Kubernetes security-profiles-operator, made by sxlua.",
    "# kubectl apply -f this file; a Pod then runs under it with",
    "#   securityContext: { seccompProfile: { type: Localhost, localhostProfile: operator/" ..
      name .. ".json } }",
    "apiVersion: " .. M.API_VERSION,
    "kind: SeccompProfile",
    "metadata:",
    "  name: " .. quoted(name),
    "spec:",
    "  defaultAction: " .. quoted(p.defaultAction),
  }
  local arches = {}
  for i, a in ipairs(p.architectures) do arches[i] = quoted(a) end
  out[#out + 1] = "  architectures: [" .. concat(arches, ", ") .. "]"
  if #p.syscalls == 0 then out[#out + 1] = "  syscalls: []" else out[#out + 1] = "  syscalls:" end
  for _, e in ipairs(p.syscalls) do
    local names = {}
    for i, n in ipairs(e.names) do names[i] = quoted(n) end
    out[#out + 1] = "  - names: [" .. concat(names, ", ") .. "]"
    out[#out + 1] = "    action: " .. quoted(e.action)
    if e.errnoRet then out[#out + 1] = "    errnoRet: " .. tostring(e.errnoRet) end
    if #e.args > 0 then
      out[#out + 1] = "    args:"
      for _, a in ipairs(e.args) do
        out[#out + 1] = fmt("    - { index: %d, value: %d, valueTwo: %d, op: %s }",
                            a.index, a.value, a.valueTwo, quoted(a.op))
      end
    end
  end
  return concat(out, "\n") .. "\n"
end

return M

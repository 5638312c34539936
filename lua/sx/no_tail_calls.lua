-- sx.no_tail_calls: load a policy as sxlua runs it, with no tail calls in its functions.
--
--   local chunk, err = require("sx.no_tail_calls").loadfile("policy.lua")
--
-- `return seccomp.allow_list{...}` is a tail call: Lua drops the policy's frame before
-- allow_list runs, so when sx looks for the policy line to blame for an error (or the
-- line a rule came from), the line is gone. sxlua loads the policy as text (bytecode is
-- refused, as ever) and turns each tail call into a call followed by the return the
-- compiler already put after it (`return f(x)` then works as `return (f(x))` would, all
-- results kept), which is what Lua itself compiles inside a block with a to-be-closed
-- variable. Every frame of the policy stays on the stack, and sx.error.where finds the
-- line of any call without a hook watching every line run.
--
-- The rewriting is sx.bytecode's (Lua 5.4's format; sxlua embeds 5.4 and CMakeLists.txt
-- pins the release). A chunk it cannot read stays as it was: tail calls then only cost
-- the line of an error that happens inside one.

local bytecode = require "sx.bytecode"

local string_dump, load, loadfile = string.dump, load, loadfile

local M = {}

-- `dump` (string.dump's) with every OP_TAILCALL made an OP_CALL, or nil when it is not
-- the format sx.bytecode reads.
function M.patch(dump)
  return bytecode.rewrite(dump, { calls = true })
end

-- loadfile(path) -> the policy's chunk (text only) without tail calls, or nil, message
function M.loadfile(path)
  local chunk, err = loadfile(path, "t")
  if not chunk then return nil, err end
  local dump = M.patch(string_dump(chunk))
  if not dump then return chunk end
  return load(dump, "=" .. path, "b") or chunk
end

return M

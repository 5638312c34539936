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
-- The patch reads Lua 5.4's dump format (sxlua embeds 5.4; CMakeLists.txt pins the
-- release). Anything unexpected in it leaves the chunk as it was: tail calls then only
-- cost the line of an error that happens inside one.

local string_dump, load, loadfile, byte, sub, find, unpack, pack, concat, sort, pcall, pairs,
      ipairs, error =
  string.dump, load, loadfile, string.byte, string.sub, string.find, string.unpack,
  string.pack, table.concat, table.sort, pcall, pairs, ipairs, error

local M = {}

local OP_MASK = 0x7f                    -- iABC: op 7 bits, A 8, k 1, B 8, C 8
local OP_CALL, OP_TAILCALL, OP_RETURN = 68, 69, 70   -- lopcodes.h, Lua 5.4
local TAILCALL_BYTES = { "\x45", "\xc5" }  -- OP_TAILCALL with either low bit of A
local K_AND_C = 0xff008000              -- the k bit and C: cleared (C = 0: all results)

-- Constants (lobject.h): LUA_VSHRSTR and VLNGSTR are strings; VNUMINT and VNUMFLT 8
-- bytes; VNIL, VFALSE and VTRUE nothing.
local STRING, EIGHT_BYTES, NOTHING = { [4] = true, [20] = true }, { [3] = true, [19] = true },
                                     { [0] = true, [1] = true, [17] = true }

-- ldump.c's dumpSize at `pos`: 7 bits a byte, the last byte marked. -> value, next pos
local function size(dump, pos)
  local x = 0
  repeat
    local b = byte(dump, pos)
    if not b then error("truncated") end
    pos = pos + 1
    x = (x << 7) | (b & 0x7f)
  until b >= 0x80
  return x, pos
end

-- past a dumped string (size + 1, then the bytes; 0 for none)
local function skip_string(dump, pos)
  local b = byte(dump, pos)
  if b and b > 0x80 then return pos + b - 0x80 end         -- shorter than 127 bytes
  local n
  n, pos = size(dump, pos)
  return n > 0 and pos + n - 1 or pos
end

-- Walk the function dumped at `pos` (and the functions inside it), noting in `patches`
-- (position -> instruction) each OP_TAILCALL made an OP_CALL; -> the position after it.
local function walk(dump, pos, patches)
  local n
  pos = skip_string(dump, pos)              -- source
  _, pos = size(dump, pos)                  -- linedefined
  _, pos = size(dump, pos)                  -- lastlinedefined
  n, pos = size(dump, pos + 3)              -- after numparams, is_vararg, maxstacksize
  local code = pos
  pos = pos + 4 * n
  -- the instructions whose first byte (little-endian: the opcode's) says OP_TAILCALL,
  -- found by plain searches (a scan in Lua would cost more than all the rest)
  local text = sub(dump, code, pos - 1)
  for _, first in ipairs(TAILCALL_BYTES) do
    local at = find(text, first, 1, true)
    while at do
      if at % 4 == 1 then
        local word = unpack("<I4", text, at)
        if unpack("<I4", text, at + 4) & OP_MASK ~= OP_RETURN then
          error("a tail call not followed by its return")
        end
        patches[code + at - 1] = (word & ~(OP_MASK | K_AND_C)) | OP_CALL
      end
      at = find(text, first, at + 1, true)
    end
  end
  n, pos = size(dump, pos)                  -- constants
  for _ = 1, n do
    local tag = byte(dump, pos)
    if STRING[tag] then pos = skip_string(dump, pos + 1)
    elseif EIGHT_BYTES[tag] then pos = pos + 9
    elseif NOTHING[tag] then pos = pos + 1
    else error("unknown constant") end
  end
  n, pos = size(dump, pos)                  -- upvalues: instack, idx, kind
  pos = pos + 3 * n
  n, pos = size(dump, pos)                  -- functions inside
  for _ = 1, n do pos = walk(dump, pos, patches) end
  n, pos = size(dump, pos)                  -- lineinfo, a byte each
  pos = pos + n
  n, pos = size(dump, pos)                  -- abslineinfo: pc, line
  for _ = 1, 2 * n do _, pos = size(dump, pos) end
  n, pos = size(dump, pos)                  -- locvars: name, startpc, endpc
  for _ = 1, n do
    pos = skip_string(dump, pos)
    _, pos = size(dump, pos)
    _, pos = size(dump, pos)
  end
  n, pos = size(dump, pos)                  -- upvalue names
  for _ = 1, n do pos = skip_string(dump, pos) end
  return pos
end

-- `dump` (string.dump's) with every OP_TAILCALL made an OP_CALL, or nil when it is not
-- the format this reads.
function M.patch(dump)
  -- signature, version 0x54, format 0, LUAC_DATA, sizes 4 8 8, LUAC_INT (0x5678: its
  -- first byte says little-endian), LUAC_NUM; then the main function's upvalue count
  if sub(dump, 1, 6) ~= "\27Lua\x54\0" or sub(dump, 13, 16) ~= "\4\8\8\x78" then return nil end
  local patches = {}
  local ok, after = pcall(walk, dump, 33, patches)
  if not ok or after ~= #dump + 1 then return nil end
  local positions, out, from = {}, {}, 1
  for pos in pairs(patches) do positions[#positions + 1] = pos end
  sort(positions)
  for _, pos in ipairs(positions) do
    out[#out + 1] = sub(dump, from, pos - 1)
    out[#out + 1] = pack("<I4", patches[pos])
    from = pos + 4
  end
  out[#out + 1] = sub(dump, from)
  return concat(out)
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

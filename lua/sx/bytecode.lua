-- sx.bytecode: Lua 5.4's precompiled chunks (what string.dump writes), rewritten.
--
--   local bytecode = require "sx.bytecode"
--   local dump = bytecode.rewrite(string.dump(f), { calls = true, names = false })
--
-- calls = true turns every tail call into a plain call (sx.no_tail_calls: the frames of a
-- policy stay on the stack); names = false drops the names of local variables and
-- upvalues, which only messages about sx's own locals use, and keeps the source and the
-- line of every instruction, so errors still say "sx.rules:123:" (tools/embed_lua.lua:
-- sxlua then loads its modules with less to read). rewrite returns nil for a chunk that is
-- not Lua 5.4's little-endian format as this reads it, or that holds something it does
-- not expect: the caller keeps the chunk as it was.
--
-- The format is ldump.c's: a header, then the main function, each function being its
-- source, lines, sizes, code, constants, upvalues, the functions inside it, then its
-- debug information (line info, absolute line info, local variables, upvalue names).

local byte, sub, find, unpack, pack, concat, pcall, ipairs, error =
  string.byte, string.sub, string.find, string.unpack, string.pack, table.concat, pcall,
  ipairs, error

local M = {}

local OP_MASK = 0x7f                    -- iABC: op 7 bits, A 8, k 1, B 8, C 8
local OP_CALL, OP_TAILCALL, OP_RETURN = 68, 69, 70   -- lopcodes.h, Lua 5.4
local TAILCALL_BYTES = { "\x45", "\xc5" }  -- OP_TAILCALL with either low bit of A
local K_AND_C = 0xff008000              -- the k bit and C: cleared (C = 0: all results)
local NO_NAMES = "\x80"                 -- a count of 0

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

-- The copy being made: pieces of the dump between edits, in order.
local function writer(dump)
  local w = { out = {}, from = 1 }
  -- bytes first..last are replaced by `text`
  function w.edit(first, last, text)
    w.out[#w.out + 1] = sub(dump, w.from, first - 1)
    w.out[#w.out + 1] = text
    w.from = last + 1
  end
  function w.finish()
    w.out[#w.out + 1] = sub(dump, w.from)
    return concat(w.out)
  end
  return w
end

-- The function dumped at `pos` (and the functions inside it), edited as opts say;
-- -> the position after it.
local function walk(dump, pos, opts, w)
  local n
  pos = skip_string(dump, pos)              -- source
  _, pos = size(dump, pos)                  -- linedefined
  _, pos = size(dump, pos)                  -- lastlinedefined
  n, pos = size(dump, pos + 3)              -- after numparams, is_vararg, maxstacksize
  local code = pos
  pos = pos + 4 * n
  if opts.calls then
    -- instructions whose first byte (little-endian: the opcode's) says OP_TAILCALL, found
    -- by plain searches (a scan in Lua would cost more than all the rest)
    local text, found = sub(dump, code, pos - 1), {}
    for _, first in ipairs(TAILCALL_BYTES) do
      local at = find(text, first, 1, true)
      while at do
        if at % 4 == 1 then found[#found + 1] = at end
        at = find(text, first, at + 1, true)
      end
    end
    table.sort(found)
    for _, at in ipairs(found) do
      local word = unpack("<I4", text, at)
      if unpack("<I4", text, at + 4) & OP_MASK ~= OP_RETURN then
        error("a tail call not followed by its return")
      end
      w.edit(code + at - 1, code + at + 2, pack("<I4", (word & ~(OP_MASK | K_AND_C)) | OP_CALL))
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
  for _ = 1, n do pos = walk(dump, pos, opts, w) end
  n, pos = size(dump, pos)                  -- lineinfo, a byte each
  pos = pos + n
  n, pos = size(dump, pos)                  -- abslineinfo: pc, line
  for _ = 1, 2 * n do _, pos = size(dump, pos) end
  local names = pos
  n, pos = size(dump, pos)                  -- locvars: name, startpc, endpc
  for _ = 1, n do
    pos = skip_string(dump, pos)
    _, pos = size(dump, pos)
    _, pos = size(dump, pos)
  end
  n, pos = size(dump, pos)                  -- upvalue names
  for _ = 1, n do pos = skip_string(dump, pos) end
  if opts.names == false then w.edit(names, pos - 1, NO_NAMES .. NO_NAMES) end
  return pos
end

-- rewrite(dump, opts) -> the dump edited as opts say (see the top), or nil
function M.rewrite(dump, opts)
  -- signature, version 0x54, format 0, LUAC_DATA, sizes 4 8 8, LUAC_INT (0x5678: its
  -- first byte says little-endian), LUAC_NUM; then the main function's upvalue count
  if sub(dump, 1, 6) ~= "\27Lua\x54\0" or sub(dump, 13, 16) ~= "\4\8\8\x78" then return nil end
  local w = writer(dump)
  local ok, after = pcall(walk, dump, 33, opts or {}, w)
  if not ok or after ~= #dump + 1 then return nil end
  return w.finish()
end

return M

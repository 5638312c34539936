-- support.bpf: a second, tiny classic-BPF interpreter in Lua for the instructions a
-- seccomp filter uses, to check the C emulator (src/emulator.c) independently,
-- including how a 32-bit load reads a 64-bit argument on a big-endian arch.
--
--   run(bpf, audit, nr, args) -> action, instructions executed
--   unreachable(bpf) -> the positions no path from the first instruction reaches

local unpack, ult = string.unpack, math.ult

local M = {}

local LE_BIT = 0x40000000           -- __AUDIT_ARCH_LE

-- The 32-bit word at `offset` of struct seccomp_data {int nr; u32 arch; u64 ip;
-- u64 args[6]} laid out in the arch's byte order (ip is 0 here).
local function word(offset, audit, nr, args)
  if offset == 0 then return nr end
  if offset == 4 then return audit end
  if offset < 16 then return 0 end
  local v = args[(offset - 16) // 8 + 1] or 0
  local first_half = offset % 8 == 0
  local little = audit & LE_BIT ~= 0
  -- little-endian: the first 4 bytes are the low word; big-endian: the high word
  if first_half == little then return v & 0xffffffff end
  return (v >> 32) & 0xffffffff
end

function M.run(bpf, audit, nr, args)
  local n = #bpf // 8
  local a, x, mem = 0, 0, {}
  local pc, steps = 0, 0
  while pc < n do
    local code, jt, jf, k = unpack("<I2BBI4", bpf, pc * 8 + 1)
    steps = steps + 1
    local class = code & 0x07
    if class == 0x06 then                                    -- RET
      return (code & 0x18) == 0x10 and a or k, steps
    elseif code == 0x20 then a = word(k, audit, nr & 0xffffffff, args)   -- LD W ABS
    elseif code == 0x00 then a = k                           -- LD IMM
    elseif code == 0x01 then x = k                           -- LDX IMM
    elseif code == 0x60 then a = mem[k] or 0                 -- LD MEM
    elseif code == 0x61 then x = mem[k] or 0                 -- LDX MEM
    elseif code == 0x02 then mem[k] = a                      -- ST
    elseif code == 0x03 then mem[k] = x                      -- STX
    elseif code == 0x07 then x = a                           -- TAX
    elseif code == 0x87 then a = x                           -- TXA
    elseif code == 0x54 then a = a & k                       -- AND K
    elseif code == 0x5c then a = a & x                       -- AND X
    elseif code == 0x44 then a = a | k                       -- OR K
    elseif code == 0x04 then a = (a + k) & 0xffffffff        -- ADD K
    elseif code == 0x14 then a = (a - k) & 0xffffffff        -- SUB K
    elseif code == 0x05 then pc = pc + k                     -- JA
    elseif class == 0x05 then
      local operand = (code & 0x08) ~= 0 and x or k
      local op, taken = code & 0xf0, nil
      if op == 0x10 then taken = a == operand                -- JEQ
      elseif op == 0x20 then taken = ult(operand, a)         -- JGT
      elseif op == 0x30 then taken = not ult(a, operand)     -- JGE
      elseif op == 0x40 then taken = (a & operand) ~= 0      -- JSET
      else error(("unknown jump 0x%02x at %d"):format(code, pc)) end
      pc = pc + (taken and jt or jf)
    else
      error(("instruction 0x%04x at %d is not one this interpreter knows"):format(code, pc))
    end
    pc = pc + 1
  end
  error("ran off the end of the program")
end

-- Every path is followed whatever the data: a position left unvisited is dead code.
function M.unreachable(bpf)
  local n, seen, todo = #bpf // 8, {}, { 0 }
  while #todo > 0 do
    local pc = table.remove(todo)
    if pc < n and not seen[pc] then
      seen[pc] = true
      local code, jt, jf, k = unpack("<I2BBI4", bpf, pc * 8 + 1)
      local class = code & 0x07
      if code == 0x05 then todo[#todo + 1] = pc + 1 + k
      elseif class == 0x05 then
        todo[#todo + 1] = pc + 1 + jt
        todo[#todo + 1] = pc + 1 + jf
      elseif class ~= 0x06 then todo[#todo + 1] = pc + 1 end
    end
  end
  local dead = {}
  for pc = 0, n - 1 do
    if not seen[pc] then dead[#dead + 1] = pc end
  end
  return dead
end

return M

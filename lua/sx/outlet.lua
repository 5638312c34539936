-- sx.outlet: lines to a descriptor the workload shares (sxlua's stderr), queued and
-- written as it takes them, so that nothing the workload does to it stalls the writer.
--
--   local out = require("sx.outlet").open(2)     -- before the workload exists
--   out:write("sxlua: ...\n")                    -- never waits
--   out:finish()                                 -- the rest, once nothing is supervised
--
-- The workload shares sxlua's stderr: it can fill the pipe behind it, set O_NONBLOCK on
-- it or stop the terminal's output. A supervisor that waited to write a report would stop
-- answering the workload's notified calls, so a kill would wait with it (review). An
-- outlet writes through a file of its own (src/outlet.h); what the descriptor does not
-- take stays queued, up to LIMIT bytes; a line past that is lost, and finish() says how
-- many were.

local core = require "sx.process_core"

local setmetatable, concat = setmetatable, table.concat

local EAGAIN = require("sx.core").errno_number("EAGAIN")

local M = {}

M.LIMIT = 1 << 20

local Outlet = {}
Outlet.__index = Outlet

-- open(fd) -> an outlet onto descriptor fd; one that drops everything when fd is closed.
function M.open(fd)
  local out, kind = core.outlet_open(fd)
  return setmetatable({ fd = out, kind = kind, queue = {}, first = 1, last = 0, at = 1,
                        queued = 0, lost = 0 }, Outlet)
end

-- Writes what the descriptor takes now. True when nothing is left queued.
function Outlet:flush()
  local q = self.queue
  while self.first <= self.last do
    local s = q[self.first]
    local n, e = core.outlet_write(self.fd, self.kind, s, self.at)
    if not n then
      if e == EAGAIN then return false end
      self.lost = self.lost + (self.last - self.first + 1)     -- gone: EPIPE, EBADF, ...
      for i = self.first, self.last do q[i] = nil end
      self.first, self.last, self.at, self.queued = 1, 0, 1, 0
      return true
    end
    self.at, self.queued = self.at + n, self.queued - n
    if self.at <= #s then return false end
    q[self.first], self.first, self.at = nil, self.first + 1, 1
  end
  self.first, self.last = 1, 0
  return true
end

-- write(text): queued, and written as far as the descriptor takes it now.
function Outlet:write(text)
  if not self.fd then self.lost = self.lost + 1 return end
  if self.queued + #text > M.LIMIT then
    self.lost = self.lost + 1
    self:flush()
    return
  end
  self.last = self.last + 1
  self.queue[self.last] = text
  self.queued = self.queued + #text
  self:flush()
end

-- Everything queued, waiting for the descriptor as long as it takes (a pipe's reader, a
-- pager); a terminal that takes nothing for a second gets its output restarted once (the
-- workload may have stopped it: TCXONC). False when the descriptor failed.
function Outlet:drain()
  local restarted = false
  while not self:flush() do
    local ready = core.outlet_wait(self.fd, restarted and -1 or 1000)
    if ready == nil then return false end
    if not ready then restarted = core.outlet_restart(self.fd) ~= nil end
  end
  return true
end

-- finish(): everything queued (drain, once the workload is gone), then how many lines
-- were lost; closes the outlet. Later writes are lost.
function Outlet:finish()
  if not self.fd then return end
  if self:drain() and self.lost > 0 then
    local n = self.lost
    self.lost = 0
    self:write(concat({ "sxlua: ", n, " line", n == 1 and " was" or "s were",
                        " lost: stderr did not take them while the workload ran\n" }))
    self:drain()
  end
  core.close_fd(self.fd)
  self.fd = nil
end

return M

-- sx.outlet: lines to a descriptor the workload shares (sxlua's stderr), queued and
-- written by a thread of their own (src/outlet.h), so that nothing the workload does to
-- that descriptor stalls the writer.
--
--   local out = require("sx.outlet").open(2)     -- before the workload exists
--   out:write("sxlua: ...\n")                    -- never waits on the descriptor
--   out:finish()                                 -- the rest, once nothing is supervised
--
-- The workload shares sxlua's stderr: it can fill the pipe behind it, set O_NONBLOCK on
-- it, stop the terminal's output or hold the pipe's lock with a splice that waits. A
-- supervisor that waited to write a report would stop answering the workload's notified
-- calls, so a kill would wait with it (review). What the queue (LIMIT bytes) has no room
-- for is lost, and finish() says how many lines were.

local core = require "sx.process_core"

local setmetatable = setmetatable

local M = {}

M.LIMIT = 1 << 20

local Outlet = {}
Outlet.__index = Outlet

-- open(fd) -> an outlet onto descriptor fd (one that loses every line when fd is closed).
function M.open(fd)
  return setmetatable({ queue = core.outlet(fd, M.LIMIT), lost = 0 }, Outlet)
end

-- write(text): queued, whole or not at all; never waits on the descriptor.
function Outlet:write(text)
  if self.queue then self.queue:put(text) else self.lost = self.lost + 1 end   -- (put counts)
end

-- finish(): waits until the queue is written (as long as the descriptor takes: the
-- workload is gone; a terminal it stopped is restarted), then says how many lines were
-- lost, through the same thread (a reader gone is EPIPE there, not SIGPIPE). Later
-- writes are lost.
function Outlet:finish()
  local q = self.queue
  if not q then return end
  local lost = self.lost + q:drain()
  if lost > 0 then
    q:put(("sxlua: %d line%s lost: stderr did not take them while the workload ran\n")
          :format(lost, lost == 1 and " was" or "s were"))
  end
  q:finish()
  self.queue, self.lost = nil, 0
end

return M

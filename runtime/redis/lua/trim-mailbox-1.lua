--[[
  Trims a mailbox below its oldest entry still needed: the oldest pending (delivered, unacked) entry, or — when
  nothing is pending — the group's last delivered entry. Entries not yet delivered are never trimmed (a trimmed
  undelivered entry would be lost without a trace), so this is safe to run at any time, by any node.
  Also deletes the group's consumers that have nothing pending and have been idle longer than a bound: consumers
  are named after nodes, so without this every node that ever owned the partition (dead ones included) stays in
  the group forever. Deleting a consumer with no pending entry loses nothing; a live node that reads again is
  re-added by XREADGROUP.

  KEYS[1] mbox   ARGV[1] group
  ARGV[2] (optional) idle time (ms) after which a consumer with no pending entry is deleted; default 3,600,000
  Returns the number of entries removed
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])
if not ok then return 0 end
local last
for _, g in ipairs(groups) do
  local name, delivered
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] end
    if g[i] == 'last-delivered-id' then delivered = g[i + 1] end
  end
  if name == ARGV[1] then last = delivered end
end
if not last then return 0 end

local idleBound = tonumber(ARGV[2]) or 3600000
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local name, pending, idle
  for i = 1, #c, 2 do
    if c[i] == 'name' then name = c[i + 1] end
    if c[i] == 'pending' then pending = c[i + 1] end
    if c[i] == 'idle' then idle = c[i + 1] end
  end
  if name and pending == 0 and idle and idle > idleBound then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
  end
end

if last == '0-0' then return 0 end
local summary = redis.call('XPENDING', KEYS[1], ARGV[1])
local floor = last
if summary[1] > 0 and summary[2] then floor = summary[2] end
return redis.call('XTRIM', KEYS[1], 'MINID', floor)

--[[
  Trims a mailbox below its oldest entry still needed: the oldest pending (delivered, unacked) entry, or — when
  nothing is pending — the group's last delivered entry. Entries not yet delivered are never trimmed (a trimmed
  undelivered entry would be lost without a trace), so this is safe to run at any time, by any node.

  KEYS[1] mbox   ARGV[1] group
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
if not last or last == '0-0' then return 0 end
local summary = redis.call('XPENDING', KEYS[1], ARGV[1])
local floor = last
if summary[1] > 0 and summary[2] then floor = summary[2] end
return redis.call('XTRIM', KEYS[1], 'MINID', floor)

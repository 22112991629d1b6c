--[[
  Reads how far behind one mailbox is, for admission control: read-only, a handful of O(1) / O(log N) lookups.

  KEYS[1] mbox   ARGV[1] group
  ARGV[2] cap: when Redis cannot tell the group's lag (entries deleted inside the undelivered range), the
          undelivered entries are counted, up to this many
  Returns { undelivered, pending, oldestUndeliveredId, nowMs }
    undelivered          entries the group has not read yet (its lag); the whole stream when there is no group yet
    pending              entries read and not yet acknowledged
    oldestUndeliveredId  the next entry the group will read ('' when none): its age is how long a message that
                         arrives now would wait at least before it is read
    nowMs                Redis's clock, which stamped the entry ids, so the age needs no clock of the caller's
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 0 then return { 0, 0, '', now } end

local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])
if not ok then groups = {} end
local found
for _, g in ipairs(groups) do
  local rec = {}
  for i = 1, #g, 2 do rec[g[i]] = g[i + 1] end
  if rec['name'] == ARGV[1] then found = rec end
end

if not found then
  -- No consumer has ever read this mailbox: everything in it waits.
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
  return { redis.call('XLEN', KEYS[1]), 0, first[1] and first[1][1] or '', now }
end

local nextEntry = redis.call('XRANGE', KEYS[1], '(' .. found['last-delivered-id'], '+', 'COUNT', 1)
local oldest = nextEntry[1] and nextEntry[1][1] or ''
local lag = found['lag']
if type(lag) ~= 'number' then
  if oldest == '' then lag = 0
  else lag = #redis.call('XRANGE', KEYS[1], '(' .. found['last-delivered-id'], '+', 'COUNT', tonumber(ARGV[2]) or 1000) end
end
return { lag, found['pending'], oldest, now }

--[[
  Removes finished actors whose retention ran out: their record and their line in the actor index, for the
  lease holder only (its cached actors are evicted with them). A record goes only if its expiry is still due.

  KEYS[1] lease   KEYS[2] expiry (sorted set: index field → expiry time)   KEYS[3] index
  KEYS[4..] record keys, one per field
  ARGV[1] expected lease value   ARGV[2] now (ms)   ARGV[3..] index fields (type/id), in the order of KEYS[4..]

  Returns the number of actors removed, or -1 when the caller does not hold the lease
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local removed = 0
for i = 3, #ARGV do
  local field = ARGV[i]
  local due = redis.call('ZSCORE', KEYS[2], field)
  if due and tonumber(due) <= tonumber(ARGV[2]) then
    redis.call('DEL', KEYS[i + 1])
    redis.call('HDEL', KEYS[3], field)
    redis.call('ZREM', KEYS[2], field)
    removed = removed + 1
  end
end
return removed

--[[
  An operator's command on a shared circuit breaker: hold it open, switch it off, or reset it to closed with an empty
  window. Moving to the state it is already in changes nothing, except that a reset always empties the window.
  KEYS[1] state hash   KEYS[2] window hash   KEYS[3] count-window ring
  ARGV[1] to ('forcedOpen' | 'disabled' | 'closed')   ARGV[2] now (ms)   ARGV[3] cause (JSON)
  ARGV[4] notice channel   ARGV[5] breaker name
  Returns {version, state}
]]
local head = redis.call('HMGET', KEYS[1], 'state', 'version')
local state = head[1] or 'closed'
local version = tonumber(head[2] or '0')
local to = ARGV[1]
if to == 'closed' then redis.call('DEL', KEYS[2], KEYS[3]) end
if state == to then return {version, state} end
version = version + 1
redis.call('HSET', KEYS[1], 'state', to, 'version', version, 'openedAt', ARGV[2], 'cause', ARGV[3],
  'admitted', 0, 'succeeded', 0, 'failed', 0, 'slow', 0)
if to == 'closed' then redis.call('HSET', KEYS[1], 'trips', 0) end
redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' ' .. version)
return {version, to}

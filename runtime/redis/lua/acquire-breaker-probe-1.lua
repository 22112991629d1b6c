--[[
  Asks a shared circuit breaker for a half-open probe permit. An open breaker whose wait has elapsed moves to
  half-open first (and says so on the notice channel), so the first instance to ask after the wait starts the probes.
  KEYS[1] state hash
  ARGV[1] now (ms)   ARGV[2] probes permitted   ARGV[3] notice channel   ARGV[4] breaker name
  Returns {granted (1 | 0), version, state}
]]
local head = redis.call('HMGET', KEYS[1], 'state', 'version', 'openedAt', 'waitMs', 'admitted')
local state = head[1] or 'closed'
local version = tonumber(head[2] or '0')
if state == 'open' and tonumber(ARGV[1]) >= tonumber(head[3] or '0') + tonumber(head[4] or '0') then
  version = version + 1
  state = 'halfOpen'
  redis.call('HSET', KEYS[1], 'state', state, 'version', version,
    'cause', cjson.encode({kind = 'wait', waitMs = tonumber(head[4] or '0')}),
    'admitted', 0, 'succeeded', 0, 'failed', 0, 'slow', 0)
  redis.call('PUBLISH', ARGV[3], ARGV[4] .. ' ' .. version)
  head[5] = '0'
end
if state == 'halfOpen' and tonumber(head[5] or '0') < tonumber(ARGV[2]) then
  redis.call('HINCRBY', KEYS[1], 'admitted', 1)
  return {1, version, state}
end
return {0, version, state}

--[[
  Extends a lease the caller holds.
  KEYS[1] lease   ARGV[1] expected lease value   ARGV[2] ttl (ms)
  Returns 1 renewed, 0 lost (expired or taken over)
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0

--[[
  Takes a free partition lease with a new fencing token.

  KEYS[1] lease  KEYS[2] fence
  ARGV[1] node id  ARGV[2] ttl (ms)

  Returns {1, token}     acquired; the lease value is "<node>|<token>"
          {0, holder}    somebody holds it
]]
local holder = redis.call('GET', KEYS[1])
if holder then return {0, holder} end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', tonumber(ARGV[2]))
return {1, token}

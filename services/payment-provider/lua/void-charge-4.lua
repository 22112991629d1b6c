--[[
  Settles a charge key whose outcome the caller does not know: returns its charge if it holds one, otherwise blocks
  the key for good so that no charge with it can ever land (a request still in flight included).

  KEYS[1] charge-keys  KEYS[2] charges  KEYS[3] voids  KEYS[4] totals
  ARGV[1] idempotency key  ARGV[2] new void JSON

  Returns {1, json}   voided now (json: the void)
          {0, json}   voided before (json: that void)
          {2, json}   the key holds a charge (json: the charge)
]]
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing == 'void' then return {0, redis.call('HGET', KEYS[3], ARGV[1])} end
if existing then return {2, redis.call('HGET', KEYS[2], existing)} end
redis.call('HSET', KEYS[1], ARGV[1], 'void')
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[4], 'voids', 1)
return {1, ARGV[2]}

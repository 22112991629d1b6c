--[[
  Records a charge once per idempotency key.

  KEYS[1] charge-keys  KEYS[2] charges  KEYS[3] charge-log  KEYS[4] by-order  KEYS[5] totals
  ARGV[1] idempotency key  ARGV[2] new charge id  ARGV[3] order id  ARGV[4] amount (cents)  ARGV[5] new charge JSON

  Returns {1, json}   created
          {0, json}   the key already holds this charge (same order and amount)
          {-1, json}  the key holds a charge of another order or amount
          {-2, ''}    the key was voided: it can never be charged
]]
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing == 'void' then return {-2, ''} end
if existing then
  local json = redis.call('HGET', KEYS[2], existing)
  local charge = cjson.decode(json)
  if charge.orderId ~= ARGV[3] or charge.amount ~= tonumber(ARGV[4]) then return {-1, json} end
  return {0, json}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[5])
redis.call('RPUSH', KEYS[3], ARGV[2])
local entries = redis.call('HGET', KEYS[4], ARGV[3])
local order = entries and cjson.decode(entries) or { charges = {}, refunds = {} }
table.insert(order.charges, ARGV[2])
redis.call('HSET', KEYS[4], ARGV[3], cjson.encode(order))
redis.call('HINCRBY', KEYS[5], 'charged', tonumber(ARGV[4]))
redis.call('HINCRBY', KEYS[5], 'charges', 1)
return {1, ARGV[5]}

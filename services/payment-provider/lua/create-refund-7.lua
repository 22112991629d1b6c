--[[
  Records a refund once per idempotency key, never letting a charge's refunds exceed it.

  KEYS[1] refund-keys  KEYS[2] refunds  KEYS[3] refund-log  KEYS[4] charges  KEYS[5] refunded  KEYS[6] by-order
  KEYS[7] totals
  ARGV[1] idempotency key  ARGV[2] new refund id  ARGV[3] charge id  ARGV[4] amount (cents)  ARGV[5] now (ms)

  Returns {1, json}                  created
          {0, json}                  the key already holds this refund (same charge and amount)
          {-1, json}                 the key holds a refund of another charge or amount
          {-3, ''}                   no such charge
          {-4, 'charged|refunded'}   the refund would exceed the charge (its amount and what is refunded already)
]]
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  local json = redis.call('HGET', KEYS[2], existing)
  local refund = cjson.decode(json)
  if refund.chargeId ~= ARGV[3] or refund.amount ~= tonumber(ARGV[4]) then return {-1, json} end
  return {0, json}
end
local chargeJson = redis.call('HGET', KEYS[4], ARGV[3])
if not chargeJson then return {-3, ''} end
local charge = cjson.decode(chargeJson)
local amount = tonumber(ARGV[4])
local refunded = tonumber(redis.call('HGET', KEYS[5], ARGV[3]) or '0')
if refunded + amount > charge.amount then
  return {-4, string.format('%d|%d', charge.amount, refunded)}
end
local json = cjson.encode({
  refundId = ARGV[2], chargeId = ARGV[3], orderId = charge.orderId, amount = amount,
  idempotencyKey = ARGV[1], createdAt = tonumber(ARGV[5]),
})
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], json)
redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('HINCRBY', KEYS[5], ARGV[3], amount)
local entries = redis.call('HGET', KEYS[6], charge.orderId)
local order = entries and cjson.decode(entries) or { charges = {}, refunds = {} }
table.insert(order.refunds, ARGV[2])
redis.call('HSET', KEYS[6], charge.orderId, cjson.encode(order))
redis.call('HINCRBY', KEYS[7], 'refunded', amount)
redis.call('HINCRBY', KEYS[7], 'refunds', 1)
return {1, json}

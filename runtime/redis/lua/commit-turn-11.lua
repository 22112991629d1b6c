--[[
  Commits one batch of turns of a partition atomically: new actor snapshots (each with a version check),
  processed-message markers, acks, outgoing messages (into the outbox), domain events, timers, effects,
  dead letters, the actor index, and replies. Every precondition is checked before the first write, because
  Lua does not roll back.

  KEYS[1] lease  KEYS[2] mbox  KEYS[3] seen  KEYS[4] outbox  KEYS[5] events  KEYS[6] timers  KEYS[7] timerdata
  KEYS[8] effects  KEYS[9] tries  KEYS[10] index  KEYS[11] dlq  KEYS[12..] one snapshot key per actor updated

  ARGV[1] expected lease value  ARGV[2] group  ARGV[3] now (ms)  ARGV[4] seen horizon (ms)
  ARGV[5] events max length (approximate)
  then sections, each a count followed by its items:
    acks:        n, stream ids
    seen:        n, message ids
    actors:      n, (expected version, new version, record JSON, index field, index value) per actor, in KEYS order
    outbox:      n, JSON payloads (one entry each)
    events:      n, JSON payloads
    timers set:  n, (member, due, data)
    timers del:  n, members
    effects set: n, (key, data)
    effects del: n, keys
    tries del:   n, message ids
    dead letters:n, (field/value count, fields...)
    replies:     n, (channel, payload)

  Returns {1, outbox entry id or ''} when committed
          {-1, holder}            the caller no longer holds the lease (fenced)
          {-3, key, version}      an actor's stored version is not the expected one
          {-4, message id}        a message of the batch was processed before (nothing written)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1, redis.call('GET', KEYS[1])} end

local i = 6
local function nextn() local v = tonumber(ARGV[i]); i = i + 1; return v end

-- sections
local nAcks = nextn(); local acksAt = i; i = i + nAcks
local nSeen = nextn(); local seenAt = i; i = i + nSeen
local nActors = nextn(); local actorsAt = i; i = i + nActors * 5

-- preconditions: every actor's version
for a = 0, nActors - 1 do
  local key = KEYS[12 + a]
  local expected = ARGV[actorsAt + a * 5]
  local stored = redis.call('HGET', key, 'v') or '0'
  if stored ~= expected then return {-3, key, stored} end
end

-- preconditions: no message of the batch was processed before
for s = 0, nSeen - 1 do
  if redis.call('ZSCORE', KEYS[3], ARGV[seenAt + s]) then return {-4, ARGV[seenAt + s]} end
end

-- writes
local now = ARGV[3]
for a = 0, nActors - 1 do
  local at = actorsAt + a * 5
  local key = KEYS[12 + a]
  if ARGV[at + 2] == '' then
    redis.call('DEL', key)
    redis.call('HDEL', KEYS[10], ARGV[at + 3])
  else
    redis.call('HSET', key, 'v', ARGV[at + 1], 's', ARGV[at + 2])
    redis.call('HSET', KEYS[10], ARGV[at + 3], ARGV[at + 4])
  end
end

if nSeen > 0 then
  local args = {}
  for s = 0, nSeen - 1 do
    args[#args + 1] = now
    args[#args + 1] = ARGV[seenAt + s]
  end
  redis.call('ZADD', KEYS[3], unpack(args))
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. (tonumber(now) - tonumber(ARGV[4])))
end

local outboxId = ''
local n = nextn()
for _ = 1, n do outboxId = redis.call('XADD', KEYS[4], '*', 'm', ARGV[i]); i = i + 1 end

n = nextn()
for _ = 1, n do redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[5], '*', 'e', ARGV[i]); i = i + 1 end

n = nextn()
for _ = 1, n do
  redis.call('ZADD', KEYS[6], ARGV[i + 1], ARGV[i])
  redis.call('HSET', KEYS[7], ARGV[i], ARGV[i + 2])
  i = i + 3
end

n = nextn()
for _ = 1, n do
  redis.call('ZREM', KEYS[6], ARGV[i])
  redis.call('HDEL', KEYS[7], ARGV[i])
  i = i + 1
end

n = nextn()
for _ = 1, n do redis.call('HSET', KEYS[8], ARGV[i], ARGV[i + 1]); i = i + 2 end

n = nextn()
for _ = 1, n do redis.call('HDEL', KEYS[8], ARGV[i]); i = i + 1 end

n = nextn()
for _ = 1, n do redis.call('HDEL', KEYS[9], ARGV[i]); i = i + 1 end

n = nextn()
for _ = 1, n do
  local nf = tonumber(ARGV[i]); i = i + 1
  local fields = {}
  for f = 0, nf - 1 do fields[#fields + 1] = ARGV[i + f] end
  i = i + nf
  redis.call('XADD', KEYS[11], 'MAXLEN', '~', 100000, '*', unpack(fields))
end

if nAcks > 0 then
  local ids = {}
  for a = 0, nAcks - 1 do ids[#ids + 1] = ARGV[acksAt + a] end
  redis.call('XACK', KEYS[2], ARGV[2], unpack(ids))
end

n = nextn()
for _ = 1, n do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]); i = i + 2 end

return {1, outboxId}

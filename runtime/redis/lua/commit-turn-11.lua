--[[
  Commits one batch of turns of a partition atomically: new actor snapshots (each with a version check),
  processed-message markers, acks, outgoing messages (into the outbox), domain events, timers, effects,
  dead letters, the actor index, and replies. Every precondition is checked before the first write, because
  Lua does not roll back.

  KEYS[1] lease  KEYS[2] mbox  KEYS[3] seen  KEYS[4] outbox  KEYS[5] events  KEYS[6] timers  KEYS[7] timerdata
  KEYS[8] effects  KEYS[9] tries  KEYS[10] index  KEYS[11] dlq  KEYS[12..] one snapshot key per actor updated

  ARGV[1] expected lease value  ARGV[2] group  ARGV[3] now (ms)  ARGV[4] seen horizon (ms)
  ARGV[5] events max length (approximate)
  ARGV[6] the batch as JSON (one argument: far cheaper for the client to send than hundreds), every list optional:
    a   acks: stream ids                      s   seen: message ids
    x   actors, in KEYS order: [expected version, new version, record JSON ('' = delete), index field,
        index value or false when the state did not change]
    o   the outbox entry (JSON of the messages to relay) or absent
    e   domain events (JSON each)             ts  timers to set: [member, due, data]
    td  timers to delete: members             fs  effects to set: [key, data]
    fd  effects to delete: keys               tr  message ids whose try counts go
    dl  dead letters: [field, value, …]       r   replies: [channel, payload]

  Returns {1, outbox entry id or ''} when committed
          {-1, holder}            the caller no longer holds the lease (fenced)
          {-3, key, version}      an actor's stored version is not the expected one
          {-4, message id}        a message of the batch was processed before (nothing written)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1, redis.call('GET', KEYS[1])} end

local d = cjson.decode(ARGV[6])
local function list(t) if type(t) == 'table' then return t end return {} end
local acks, seen, actors = list(d.a), list(d.s), list(d.x)

-- preconditions: every actor's version
for n, a in ipairs(actors) do
  local key = KEYS[11 + n]
  local stored = redis.call('HGET', key, 'v') or '0'
  if stored ~= a[1] then return {-3, key, stored} end
end

-- preconditions: no message of the batch was processed before
for _, mid in ipairs(seen) do
  if redis.call('ZSCORE', KEYS[3], mid) then return {-4, mid} end
end

-- writes
local now = ARGV[3]
for n, a in ipairs(actors) do
  local key = KEYS[11 + n]
  if a[3] == '' then
    redis.call('DEL', key)
    redis.call('HDEL', KEYS[10], a[4])
  else
    redis.call('HSET', key, 'v', a[2], 's', a[3])
    if a[5] then redis.call('HSET', KEYS[10], a[4], a[5]) end
  end
end

if #seen > 0 then
  local args = {}
  for _, mid in ipairs(seen) do
    args[#args + 1] = now
    args[#args + 1] = mid
  end
  redis.call('ZADD', KEYS[3], unpack(args))
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. (tonumber(now) - tonumber(ARGV[4])))
end

local outboxId = ''
if type(d.o) == 'string' then outboxId = redis.call('XADD', KEYS[4], '*', 'm', d.o) end

for _, e in ipairs(list(d.e)) do redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[5], '*', 'e', e) end

for _, t in ipairs(list(d.ts)) do
  redis.call('ZADD', KEYS[6], t[2], t[1])
  redis.call('HSET', KEYS[7], t[1], t[3])
end
for _, member in ipairs(list(d.td)) do
  redis.call('ZREM', KEYS[6], member)
  redis.call('HDEL', KEYS[7], member)
end

for _, f in ipairs(list(d.fs)) do redis.call('HSET', KEYS[8], f[1], f[2]) end
for _, key in ipairs(list(d.fd)) do redis.call('HDEL', KEYS[8], key) end
for _, mid in ipairs(list(d.tr)) do redis.call('HDEL', KEYS[9], mid) end

for _, fields in ipairs(list(d.dl)) do
  redis.call('XADD', KEYS[11], 'MAXLEN', '~', 100000, '*', unpack(fields))
end

if #acks > 0 then redis.call('XACK', KEYS[2], ARGV[2], unpack(acks)) end

for _, r in ipairs(list(d.r)) do redis.call('PUBLISH', r[1], r[2]) end

return {1, outboxId}

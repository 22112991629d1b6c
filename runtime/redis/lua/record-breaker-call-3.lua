--[[
  Records one call through a closed shared circuit breaker in the breaker's window and judges the window: when it
  holds the minimum number of calls and its failure or slow-call rate reaches a threshold, the breaker opens (every
  instance learns it from the notice published on ARGV[13]).
  KEYS[1] state hash   KEYS[2] window hash   KEYS[3] count-window ring (a string, one byte per call)
  ARGV[1] the version the call started in   ARGV[2] outcome bits (1 failed, 2 slow)   ARGV[3] now (ms)
  ARGV[4] window kind ('count' | 'time')   ARGV[5] count: size; time: bucket length (ms)   ARGV[6] time: buckets
  ARGV[7] minimum calls   ARGV[8] failure-rate threshold (%)   ARGV[9] slow-call-rate threshold (%)
  ARGV[10] open wait: initial (ms)   ARGV[11] its multiplier   ARGV[12] its maximum (ms)
  ARGV[13] notice channel   ARGV[14] breaker name
  Returns {version, state, calls, failures, slowCalls}; calls = -1 when the call was not recorded (the breaker is no
  longer closed, or has moved on to a later version since the call started).
]]
local head = redis.call('HMGET', KEYS[1], 'state', 'version', 'trips')
local state = head[1] or 'closed'
local version = tonumber(head[2] or '0')
if state ~= 'closed' or tonumber(ARGV[1]) ~= version then
  return {version, state, -1, -1, -1}
end

local outcome = tonumber(ARGV[2])
local failed = outcome % 2
local slowBit = math.floor(outcome / 2) % 2
local calls, failures, slow = 0, 0, 0

if ARGV[4] == 'count' then
  local size = tonumber(ARGV[5])
  local w = redis.call('HMGET', KEYS[2], 'calls', 'failures', 'slow', 'next')
  calls, failures, slow = tonumber(w[1] or '0'), tonumber(w[2] or '0'), tonumber(w[3] or '0')
  local nextAt = tonumber(w[4] or '0')
  if calls >= size then
    -- The ring is full: the oldest call (where the next one goes) leaves the window.
    local evicted = (string.byte(redis.call('GETRANGE', KEYS[3], nextAt, nextAt)) or 48) - 48
    failures = failures - evicted % 2
    slow = slow - math.floor(evicted / 2) % 2
  else
    calls = calls + 1
  end
  redis.call('SETRANGE', KEYS[3], nextAt, string.char(48 + outcome))
  failures = failures + failed
  slow = slow + slowBit
  redis.call('HSET', KEYS[2], 'calls', calls, 'failures', failures, 'slow', slow, 'next', (nextAt + 1) % size)
else
  -- Bucket i holds the calls of bucket index t_i; buckets older than `buckets` indexes are out of the window.
  local bucketMs, buckets = tonumber(ARGV[5]), tonumber(ARGV[6])
  local index = math.floor(tonumber(ARGV[3]) / bucketMs)
  local slot = index % buckets
  local fields = {}
  for i = 0, buckets - 1 do
    fields[#fields + 1] = 't' .. i
    fields[#fields + 1] = 'c' .. i
    fields[#fields + 1] = 'f' .. i
    fields[#fields + 1] = 's' .. i
  end
  local w = redis.call('HMGET', KEYS[2], unpack(fields))
  local own = {0, 0, 0}
  for i = 0, buckets - 1 do
    local t = tonumber(w[i * 4 + 1] or '-1')
    if t > index - buckets and t <= index then
      local c, f, s = tonumber(w[i * 4 + 2] or '0'), tonumber(w[i * 4 + 3] or '0'), tonumber(w[i * 4 + 4] or '0')
      calls, failures, slow = calls + c, failures + f, slow + s
      if i == slot then own = {c, f, s} end
    end
  end
  redis.call('HSET', KEYS[2], 't' .. slot, index, 'c' .. slot, own[1] + 1, 'f' .. slot, own[2] + failed, 's' .. slot, own[3] + slowBit)
  calls, failures, slow = calls + 1, failures + failed, slow + slowBit
end

if calls >= tonumber(ARGV[7])
  and (failures * 100 >= tonumber(ARGV[8]) * calls or slow * 100 >= tonumber(ARGV[9]) * calls) then
  local trips = tonumber(head[3] or '0') + 1
  local waitMs = math.min(tonumber(ARGV[12]), tonumber(ARGV[10]) * tonumber(ARGV[11]) ^ (trips - 1))
  version = version + 1
  state = 'open'
  redis.call('HSET', KEYS[1], 'state', state, 'version', version, 'openedAt', ARGV[3], 'waitMs', waitMs, 'trips', trips,
    'cause', cjson.encode({kind = 'trip', calls = calls, failures = failures, slowCalls = slow}),
    'admitted', 0, 'succeeded', 0, 'failed', 0, 'slow', 0)
  redis.call('PUBLISH', ARGV[13], ARGV[14] .. ' ' .. version)
end
return {version, state, calls, failures, slow}

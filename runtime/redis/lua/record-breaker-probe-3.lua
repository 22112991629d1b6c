--[[
  Records the outcome of a half-open probe of a shared circuit breaker and decides, as the breaker machine does:
  'first-failure' reopens on a failed or slow probe and closes after `probes` successes; 'evaluate' waits for every
  probe and compares their failure and slow-call rates with the thresholds. Closing empties the window.
  KEYS[1] state hash   KEYS[2] window hash   KEYS[3] count-window ring
  ARGV[1] the version the probe started in   ARGV[2] outcome bits (1 failed, 2 slow; -1 ignored: give the permit back)
  ARGV[3] now (ms)   ARGV[4] mode ('first-failure' | 'evaluate')   ARGV[5] probes permitted
  ARGV[6] failure-rate threshold (%)   ARGV[7] slow-call-rate threshold (%)
  ARGV[8] open wait: initial (ms)   ARGV[9] its multiplier   ARGV[10] its maximum (ms)
  ARGV[11] cause of a first-failure reopen (JSON)   ARGV[12] notice channel   ARGV[13] breaker name
  Returns {version, state}; a probe of an earlier version, or when not half-open, changes nothing.
]]
local head = redis.call('HMGET', KEYS[1], 'state', 'version', 'trips', 'admitted', 'succeeded', 'failed', 'slow')
local state = head[1] or 'closed'
local version = tonumber(head[2] or '0')
if state ~= 'halfOpen' or tonumber(ARGV[1]) ~= version then return {version, state} end

local outcome = tonumber(ARGV[2])
if outcome < 0 then
  redis.call('HSET', KEYS[1], 'admitted', math.max(0, tonumber(head[4] or '0') - 1))
  return {version, state}
end
local isFailed = outcome % 2 == 1
local isSlow = math.floor(outcome / 2) % 2 == 1
local succeeded = tonumber(head[5] or '0') + (isFailed and 0 or 1)
local failed = tonumber(head[6] or '0') + (isFailed and 1 or 0)
local slow = tonumber(head[7] or '0') + (isSlow and 1 or 0)
local probes = tonumber(ARGV[5])

local to, cause = nil, nil
if ARGV[4] == 'evaluate' then
  if succeeded + failed >= probes then
    local answered = succeeded + failed
    if failed * 100 >= tonumber(ARGV[6]) * answered or slow * 100 >= tonumber(ARGV[7]) * answered then to = 'open' else to = 'closed' end
    cause = cjson.encode({kind = 'evaluated', probes = answered, failed = failed, slow = slow})
  end
elseif isFailed or isSlow then
  to, cause = 'open', ARGV[11]
elseif succeeded >= probes then
  to, cause = 'closed', cjson.encode({kind = 'closed', probes = probes})
end

if to == nil then
  redis.call('HSET', KEYS[1], 'succeeded', succeeded, 'failed', failed, 'slow', slow)
  return {version, state}
end
version = version + 1
if to == 'open' then
  local trips = tonumber(head[3] or '0') + 1
  local waitMs = math.min(tonumber(ARGV[10]), tonumber(ARGV[8]) * tonumber(ARGV[9]) ^ (trips - 1))
  redis.call('HSET', KEYS[1], 'state', to, 'version', version, 'openedAt', ARGV[3], 'waitMs', waitMs, 'trips', trips, 'cause', cause,
    'succeeded', succeeded, 'failed', failed, 'slow', slow)
else
  redis.call('HSET', KEYS[1], 'state', to, 'version', version, 'trips', 0, 'cause', cause, 'succeeded', succeeded, 'failed', failed, 'slow', slow)
  redis.call('DEL', KEYS[2], KEYS[3])
end
redis.call('PUBLISH', ARGV[12], ARGV[13] .. ' ' .. version)
return {version, to}

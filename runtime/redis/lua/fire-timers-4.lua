--[[
  Moves a partition's due timers into its mailbox, for the lease holder only. A timer leaves the timer set in
  the same step as its message enters the mailbox, so it fires once; the message id is the timer's arm token,
  so the actor can tell a stale firing from the one it is waiting for.

  KEYS[1] lease  KEYS[2] timers  KEYS[3] timerdata  KEYS[4] mbox
  ARGV[1] expected lease value  ARGV[2] now (ms)  ARGV[3] limit

  Returns {fired, nextDue}  (nextDue = '' when no timer is left)
          {-1}              not the lease holder
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1} end
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do
  local data = redis.call('HGET', KEYS[3], member)
  if data then
    local t = cjson.decode(data)
    if t.p then
      redis.call('XADD', KEYS[4], '*', 'm', t.m, 'a', t.a, 'e', t.e, 't', ARGV[2], 'k', 'timer', 'p', t.p)
    else
      redis.call('XADD', KEYS[4], '*', 'm', t.m, 'a', t.a, 'e', t.e, 't', ARGV[2], 'k', 'timer')
    end
  end
  redis.call('ZREM', KEYS[2], member)
  redis.call('HDEL', KEYS[3], member)
end
local nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
return {#due, nxt[2] or ''}

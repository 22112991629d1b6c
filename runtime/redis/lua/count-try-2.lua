--[[
  Counts one more failed try of a message, for the lease holder only: an owner that lost its lease (paused past it,
  then woken with entries its doorbell had brought) must not count tries of messages the new owner now handles, or
  they would be dead-lettered early.
  KEYS[1] lease   KEYS[2] tries   ARGV[1] expected lease value   ARGV[2] message id
  Returns the message's tries so far, or -1 when the caller does not hold the lease (nothing counted)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
return redis.call('HINCRBY', KEYS[2], ARGV[2], 1)

--[[
  Gives up a lease the caller holds, so another node can take the partition at once.
  KEYS[1] lease   ARGV[1] expected lease value
  Returns 1 released, 0 not held
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0

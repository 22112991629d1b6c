--[[
  Puts a dead letter back into its mailbox and removes it from the dead-letter stream, in one step.
  The replayed message keeps its message id; its delivery count starts again.

  KEYS[1] dlq  KEYS[2] mbox
  ARGV[1] dead-letter entry id

  Returns the new mailbox entry id, or -2 when there is no such dead letter
]]
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then return -2 end
local f = found[1][2]
local keep = {}
for i = 1, #f, 2 do
  local k = f[i]
  if k == 'm' or k == 'a' or k == 'e' or k == 'r' or k == 'k' then
    keep[#keep + 1] = k
    keep[#keep + 1] = f[i + 1]
  end
end
local id = redis.call('XADD', KEYS[2], '*', unpack(keep))
redis.call('XDEL', KEYS[1], ARGV[1])
return id

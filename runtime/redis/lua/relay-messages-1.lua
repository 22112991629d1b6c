--[[
  Appends several messages to one mailbox at once, so a relay that fails half-way can't leave a later message of
  a sender in the mailbox without the earlier ones (a retry re-sends them all; the receiver drops repeats by id).

  KEYS[1] mbox
  ARGV[1..] one message each: its fields as a JSON list [field, value, …]

  Returns the number of messages appended
]]
for i = 1, #ARGV do
  redis.call('XADD', KEYS[1], '*', unpack(cjson.decode(ARGV[i])))
end
return #ARGV

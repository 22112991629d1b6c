--[[
  Reads the next batch of a partition's mailbox, for the lease holder only (a stale owner can't take entries
  into its pending list). Entries still pending in the group come first (retries, and whatever a previous owner
  had read but not committed), claimed to this consumer; then new entries. Entries are returned in stream order.
  An entry whose message id is already in the processed set was applied before: it is acked here and returned
  as a duplicate, so an asker still gets an answer.

  KEYS[1] lease   KEYS[2] mbox   KEYS[3] seen
  ARGV[1] expected lease value ("node|token")   ARGV[2] group   ARGV[3] consumer   ARGV[4] count

  Returns {1, entries, duplicates}, the two lists JSON-encoded (an empty list encodes as {})
    entries    = [ [id, fields, deliveries], ... ]   (deliveries counts this one)
    duplicates = [ [id, fields], ... ]
  Returns {-1, holder} when the caller does not hold the lease (holder may be false).
]]
local holder = redis.call('GET', KEYS[1])
if holder ~= ARGV[1] then return {-1, holder} end

local count = tonumber(ARGV[4])
local entries, dups = {}, {}

local function take(id, fields, deliveries)
  local mid = fields[2]
  if fields[1] == 'm' and mid and redis.call('ZSCORE', KEYS[3], mid) then
    redis.call('XACK', KEYS[2], ARGV[2], id)
    dups[#dups + 1] = {id, fields}
  else
    entries[#entries + 1] = {id, fields, deliveries}
  end
end

local pending = redis.call('XPENDING', KEYS[2], ARGV[2], '-', '+', count)
if #pending > 0 then
  local ids, deliveries = {}, {}
  for i, p in ipairs(pending) do
    ids[i] = p[1]
    deliveries[p[1]] = p[4]
  end
  -- XCLAIM skips (and un-pends) entries trimmed from the stream since they were read.
  local claimed = redis.call('XCLAIM', KEYS[2], ARGV[2], ARGV[3], 0, unpack(ids))
  for _, e in ipairs(claimed) do take(e[1], e[2], deliveries[e[1]] + 1) end
end

local room = count - #pending
if room > 0 then
  local res = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', room, 'STREAMS', KEYS[2], '>')
  if res and res[1] then
    for _, e in ipairs(res[1][2]) do take(e[1], e[2], 1) end
  end
end
-- As JSON: one bulk string decodes far faster in the client than hundreds of nested RESP arrays.
return {1, cjson.encode(entries), cjson.encode(dups)}

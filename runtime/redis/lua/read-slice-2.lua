--[[
  Reads one slice of the event log for a subscriber's consumer group and says, atomically with the read, whether
  entries were trimmed before the group read them and how many: a plain XREADGROUP skips them without a word.
  Both keys carry the slice's hash tag: one Redis Cluster slot.

  The count is entries-added − entries-read − length, valid when the group's last-delivered id is older than the
  slice's first entry (every entry still there is then unread). Redis counts entries-read wrong after such a skip
  (it adds the entries it hands out, not the ones it skipped), so after a gap the script sets it right
  (XGROUP SETID … ENTRIESREAD) for the next gap to be counted right too.

  The read moves the group past the gap, so the gap is recorded (in KEYS[2], same slot) in the same script: a
  subscriber that crashes before handing the notice on still finds it. The subscriber removes a gap (LREM) once
  its handler has had it.

  KEYS[1] the slice (`{service:p}:events`)  KEYS[2] the group's unhandled gaps (a list of JSON)

  ARGV[1] group  ARGV[2] consumer  ARGV[3] count  ARGV[4] '>' (new entries) or '0' (this consumer's pending ones)

  Returns {gaps, first, last, entries}
            gaps    the group's unhandled gaps, oldest first, each JSON {missed, after, before}: entries trimmed
                    unread, `missed` of them (-1 when Redis cannot tell), between the stream ids `after` (the
                    group's last-delivered id then) and `before` (the slice's first entry then; '' if it was empty)
            first   the slice's first entry id now ('' when empty)
            last    the slice's last-generated id
            entries XREADGROUP's [id, fields] list; [id, false] for a pending entry trimmed since its delivery
          {-2}  the group does not exist
]]
local function field(flat, name)
  for i = 1, #flat, 2 do
    if flat[i] == name then return flat[i + 1] end
  end
  return nil
end

-- stream ids compared as numbers, never as strings ("1-10" < "1-9" as strings)
local function lt(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end

local group
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  if field(g, 'name') == ARGV[1] then group = g end
end
if not group then return {-2} end

local stream = redis.call('XINFO', 'STREAM', KEYS[1])
local firstEntry = field(stream, 'first-entry')
local first = (type(firstEntry) == 'table' and firstEntry[1]) or ''
local length = field(stream, 'length')
local added = field(stream, 'entries-added')
local lastGenerated = field(stream, 'last-generated-id')
local last = field(group, 'last-delivered-id')
local entriesRead = field(group, 'entries-read')
if type(entriesRead) ~= 'number' then entriesRead = -1 end

local gap, missed = 0, 0
if ARGV[4] == '>' then
  local behind = (length > 0 and lt(last, first)) or (length == 0 and lt(last, lastGenerated))
  if behind then
    if entriesRead >= 0 then missed = added - entriesRead - length
    elseif last == '0-0' or added == length then missed = added - length -- it has read nothing / nothing was removed
    else missed = -1 end
    if missed < 0 then missed = -1 end
    if missed ~= 0 then gap = 1 end
  end
end

local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], ARGV[4])
local entries = {}
if type(reply) == 'table' and reply[1] then entries = reply[1][2] end

if gap == 1 then
  redis.call('RPUSH', KEYS[2], cjson.encode({missed = missed, after = last, before = first}))
  if #entries > 0 then
    redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], entries[#entries][1], 'ENTRIESREAD', added - length + #entries)
  else
    redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], lastGenerated, 'ENTRIESREAD', added)
  end
end

return {redis.call('LRANGE', KEYS[2], 0, -1), first, lastGenerated, entries}

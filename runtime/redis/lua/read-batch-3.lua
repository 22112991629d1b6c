--[[
  Reads the next batch of a partition's mailbox, for the lease holder only (a stale owner can't take entries
  into its pending list). Entries still pending in the group come first (retries, and whatever a previous owner
  had read but not committed), claimed to this consumer; then new entries. Entries are returned in stream order.
  An entry whose message id is already in the processed set was applied before: it is returned as a duplicate, so
  an asker still gets an answer, and acked — here when it was pending or read through the group, else by the
  commit that follows.

  Entries of blocked actors (waiting for the retry of a failed message) are held: left pending, not returned and
  not counted against the batch, so a blocked actor with many entries cannot crowd every other actor out. New
  entries are read only once every pending entry was looked at, or an actor's later entry would overtake an
  earlier one still pending.

  New entries are read in one of two ways. Without a cursor, through the group (XREADGROUP): they become pending
  here, a write. With a cursor — the group's last delivered id, as the owner knows it from its previous read and
  commit — by XRANGE after it, which writes nothing: under `appendfsync always` Redis then answers without an fsync
  of its own. Such entries are not handed to the group yet: the commit that follows does (moving the group's
  position past them, or delivering them when some stay pending), acks what it applied, duplicates included, and
  checks the group is where this read left it, or writes nothing. A cursor that is not the group's position is
  ignored: the read goes through the group, and says so.

  KEYS[1] lease   KEYS[2] mbox   KEYS[3] seen
  ARGV[1] expected lease value ("node|token")   ARGV[2] group   ARGV[3] consumer   ARGV[4] count
  ARGV[5] cursor: the group's last delivered id, or '' (or absent) to read new entries through the group
  ARGV[6..] addresses of blocked actors

  Returns {1, entries, duplicates, complete, last, fresh, first, pending, byCursor}, the two lists JSON-encoded (an
  empty list encodes as {})
    entries    = [ [id, fields, deliveries], ... ]   (deliveries counts this one; 1 for an entry read by cursor)
    duplicates = [ [id, fields], ... ]               (acked here when pending or read through the group, else by the commit)
    complete   = 1 when every pending entry was looked at (so new entries were read too), else 0
    last       = the newest entry id looked at, held ones included ('' when none)
    fresh      = how many new entries were looked at (held ones and duplicates included)
    first      = the oldest of them ('' when none); with a cursor they run from `first` to `last`, undelivered
    pending    = how many pending entries the read came across (0: the group had none)
    byCursor   = 1 when new entries were read by the cursor, 0 when through the group
  Returns {-1, holder} when the caller does not hold the lease (holder may be false).
]]
local holder = redis.call('GET', KEYS[1])
if holder ~= ARGV[1] then return {-1, holder} end

local count = tonumber(ARGV[4])
local cursor = ARGV[5] or ''
-- A cursor is the owner's word for where the group stands; a group moved since (set back by hand to process entries
-- again, or a Redis that lost its last writes) is read through, and the owner told so, rather than left waiting.
if cursor ~= '' then
  local at
  for _, grp in ipairs(redis.call('XINFO', 'GROUPS', KEYS[2])) do
    local name, delivered
    for i = 1, #grp, 2 do
      if grp[i] == 'name' then name = grp[i + 1] end
      if grp[i] == 'last-delivered-id' then delivered = grp[i + 1] end
    end
    if name == ARGV[2] then at = delivered end
  end
  if at ~= cursor then cursor = '' end
end
local blocked, anyBlocked = {}, false
for i = 6, #ARGV do
  blocked[ARGV[i]] = true
  anyBlocked = true
end
local entries, dups = {}, {}
local last = ''

-- Takes a run of entries ({id, fields} each, in stream order) with one ZMSCORE for their message ids: a ZSCORE per
-- entry was a call per message on the hot path.
local function takeAll(list, deliveriesOf, delivered)
  local mids, at = {}, {}
  for i, e in ipairs(list) do
    local fields = e[2]
    if fields[1] == 'm' and fields[2] then
      mids[#mids + 1] = fields[2]
      at[#mids] = i
    end
  end
  local dup = {}
  if #mids > 0 then
    local scores = redis.call('ZMSCORE', KEYS[3], unpack(mids))
    for j = 1, #mids do
      if scores[j] then dup[at[j]] = true end
    end
  end
  for i, e in ipairs(list) do
    if dup[i] then
      if delivered then redis.call('XACK', KEYS[2], ARGV[2], e[1]) end
      dups[#dups + 1] = {e[1], e[2]}
    else
      entries[#entries + 1] = {e[1], e[2], deliveriesOf(e[1])}
    end
  end
end

local function isBlocked(fields)
  if not anyBlocked then return false end
  for i = 1, #fields, 2 do
    if fields[i] == 'a' then return blocked[fields[i + 1]] == true end
  end
  return false
end

-- Pending entries, in pages; a blocked actor's entries are skipped without being claimed (their delivery count
-- stays as it is). At most 10 pages are looked at per read.
local start, complete, pending = '-', false, 0
for _ = 1, 10 do
  local page = redis.call('XPENDING', KEYS[2], ARGV[2], start, '+', count)
  pending = pending + #page
  local ids, deliveries = {}, {}
  local stopped = false
  for _, p in ipairs(page) do
    if #entries + #ids >= count then
      stopped = true
      break
    end
    local id = p[1]
    start = '(' .. id
    last = id
    local skip = false
    if anyBlocked then
      local row = redis.call('XRANGE', KEYS[2], id, id)
      skip = row[1] ~= nil and isBlocked(row[1][2])
    end
    if not skip then
      ids[#ids + 1] = id
      deliveries[id] = p[4]
    end
  end
  if #ids > 0 then
    -- XCLAIM skips (and un-pends) entries trimmed from the stream since they were read.
    local claimed = redis.call('XCLAIM', KEYS[2], ARGV[2], ARGV[3], 0, unpack(ids))
    takeAll(claimed, function(id) return deliveries[id] + 1 end, true)
  end
  -- Complete only when every entry of the last page was looked at: one the loop stopped before may belong to an actor
  -- whose newer entries would otherwise be read (and applied) ahead of it, once duplicates made room in the batch.
  if #page < count and not stopped then
    complete = true
    break
  end
  if #entries >= count then break end
end

local room = count - #entries
local fresh, first = 0, ''
if complete and room > 0 then
  local rows
  if cursor ~= '' then
    rows = redis.call('XRANGE', KEYS[2], '(' .. cursor, '+', 'COUNT', room)
  else
    local res = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', room, 'STREAMS', KEYS[2], '>')
    rows = res and res[1] and res[1][2] or {}
  end
  local taken = {}
  for _, e in ipairs(rows) do
    last = e[1]
    if fresh == 0 then first = e[1] end
    fresh = fresh + 1
    if not isBlocked(e[2]) then taken[#taken + 1] = e end
  end
  takeAll(taken, function() return 1 end, cursor == '')
end
-- As JSON: one bulk string decodes far faster in the client than hundreds of nested RESP arrays.
return {1, cjson.encode(entries), cjson.encode(dups), complete and 1 or 0, last, fresh, first, pending, cursor ~= '' and 1 or 0}

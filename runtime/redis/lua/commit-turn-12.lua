--[[
  Commits one batch of turns of a partition atomically: new actor snapshots (each with a version check),
  processed-message markers, acks, outgoing messages (into their mailboxes, or into the outbox for the relay), domain
  events, timers, effects,
  dead letters, the actor index, retention of finished actors, and replies. Every precondition — the lease,
  every version, every message not yet processed, and the shape of every argument — is checked before the first
  write, because Lua does not roll back: a script that failed half-way would leave half a turn behind.

  KEYS[1] lease  KEYS[2] mbox  KEYS[3] seen  KEYS[4] outbox  KEYS[5] events  KEYS[6] timers  KEYS[7] timerdata
  KEYS[8] effects  KEYS[9] tries  KEYS[10] index  KEYS[11] dlq  KEYS[12] expiry  KEYS[13..12+n] one record key per
  actor, then one history key per actor that keeps a history (those whose entry has a history head), in their order,
  then the mailboxes the batch's messages go to when the commit delivers them itself (`mk` of them)

  ARGV[1] expected lease value  ARGV[2] group  ARGV[3] now (ms)  ARGV[4] seen horizon (ms)
  ARGV[5] events max length (approximate)  ARGV[6] the batch as JSON (one argument: far cheaper for the client to
  send than hundreds)  ARGV[7] dead letters max length (approximate)  ARGV[8..] large records, each an argument of
  its own (a record inside the batch's JSON is escaped by the client and unescaped here: costly for a large one)
  The batch, every list optional:
    a   acks: stream ids                      s   seen: message ids
    ns  message ids checked like `s` but not marked (the batch's others, when the doorbell brought it unchecked)
    x   actors, in KEYS order: [expected version, new version, record JSON or the number of its ARGV, index field,
        index value or false when the state did not change, expiry time (ms) when finished or false,
        history head or absent, history length kept]: the head is the JSON of the history entry up to its record
        (`{"v":…,"at":…,"k":…,"c":[…],"r":`), which the script completes with the record itself — sent once, stored
        twice. The history list is newest first and expires with a finished actor's record. It is trimmed to its length
        by the push that makes it longer than length + ⌈length/4⌉: a trim in every commit cost Redis a call per history,
        ~2–4 µs; readers hold only the newest `k` (`read-history-1.lua`).
    o   the outbox entry (JSON of the messages to relay) or absent; or, on one Redis, the messages delivered here:
    m   messages, in the order they were sent: [n, field, value, …], appended to the n-th mailbox key
    mk  how many mailbox keys follow the history keys
    e   domain events (JSON each)             ts  timers to set: [member, due (ms), data]
    td  timers to delete: members             fs  effects to set: [key, data]
    fd  effects to delete: keys               tr  message ids whose try counts go
    dl  dead letters: [field, value, …]       r   replies: [channel, payload]
    g   new entries the read took without delivering them (read by cursor: `read-batch-3.lua`), or absent:
        [consumer, count, first id, last id, cursor, all acked] — `cursor` the group's position the read started
        from. When this commit acks every one of them (`all acked` true; their ids are then left out of `a`), the
        group's position just moves to `last`, after checking it is at `cursor` (when the group's count of entries
        read is unknown, they are delivered and acked instead). Else they are delivered (XREADGROUP) before the acks —
        held-back and failed ones stay pending — after checking the group delivers exactly these. Either check
        failing: {-6, …}, with nothing else written.

  Returns {1, outbox entry id or '', dead letters trimmed}  committed
          {-1, holder}            the caller no longer holds the lease (fenced)
          {-3, key, version}      an actor's stored version is not the expected one
          {-4, message id}        a message of the batch was processed before (nothing written)
          {-5, what}              an argument is malformed (nothing written)
          {-6, what}              the group is not where the read took its new entries from (the read's
                                  cursor was not the group's position): nothing written but, when they were to
                                  be delivered, that delivery, which leaves entries pending for the next read —
                                  nothing is lost or applied twice
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1, redis.call('GET', KEYS[1])} end

local ok, d = pcall(cjson.decode, ARGV[6])
if not ok or type(d) ~= 'table' then return {-5, 'the batch is not a JSON object'} end
local function list(t) if type(t) == 'table' then return t end return {} end
local function str(v) return type(v) == 'string' end
local function num(v) return tonumber(v) ~= nil and tonumber(v) == tonumber(v) end
local acks, seen, actors = list(d.a), list(d.s), list(d.x)
-- Lua's unpack stops near 8,000 values: a list goes to Redis in calls of at most 1,000 of them (pairs stay whole).
local function callWith(command, key, items, extra)
  for i = 1, #items, 1000 do
    local last = math.min(i + 999, #items)
    if extra then redis.call(command, key, extra, unpack(items, i, last)) else redis.call(command, key, unpack(items, i, last)) end
  end
end

-- preconditions: the shape of every argument
if not num(ARGV[3]) or not num(ARGV[4]) or not num(ARGV[5]) or (ARGV[7] and not num(ARGV[7])) then
  return {-5, 'now, horizon and lengths must be numbers'}
end
local histories = 0
for _, a in ipairs(actors) do if type(a) == 'table' and a[7] then histories = histories + 1 end end
if d.m ~= nil and type(d.m) ~= 'table' then return {-5, 'the messages must be a list'} end
if d.m ~= nil and d.o ~= nil then return {-5, 'messages go either into the outbox or into their mailboxes, not both'} end
local msgs, mailboxes = list(d.m), d.mk or 0
if type(mailboxes) ~= 'number' or mailboxes < 0 or mailboxes % 1 ~= 0 then return {-5, 'mk must be a count of mailbox keys'} end
if #KEYS ~= 12 + #actors + histories + mailboxes then
  return {-5, 'one record key per actor, then one history key per history, then the mailboxes'}
end
for _, v in ipairs(acks) do if not str(v) then return {-5, 'acks must be stream ids'} end end
for _, v in ipairs(seen) do if not str(v) then return {-5, 'seen must be message ids'} end end
local unmarked = list(d.ns)
for _, v in ipairs(unmarked) do if not str(v) then return {-5, 'ns must be message ids'} end end
for _, a in ipairs(actors) do
  -- a record sent as an argument of its own: from here on, the entry holds the record itself
  if type(a) == 'table' and type(a[3]) == 'number' and a[3] >= 8 and a[3] % 1 == 0 then a[3] = ARGV[a[3]] end
  if type(a) ~= 'table' or not str(a[1]) or not str(a[2]) or not str(a[3]) or a[3] == '' or not str(a[4]) then
    return {-5, 'actor entries must be [version, version, record, field, state|false, expiry|false]'}
  end
  if a[5] and not str(a[5]) then return {-5, 'an index value must be a string'} end
  if a[6] and not num(a[6]) then return {-5, 'an expiry must be a number'} end
  if a[7] and (not str(a[7]) or not num(a[8]) or tonumber(a[8]) < 1 or tonumber(a[8]) % 1 ~= 0) then
    return {-5, 'a history must be a head (string) and a whole length of at least 1'}
  end
end
if d.o ~= nil and not str(d.o) then return {-5, 'the outbox entry must be a string'} end
for _, m in ipairs(msgs) do
  if type(m) ~= 'table' or type(m[1]) ~= 'number' or m[1] < 1 or m[1] > mailboxes or m[1] % 1 ~= 0 or #m < 3 or #m % 2 ~= 1 then
    return {-5, 'a message must be [mailbox number, field, value, ...]'}
  end
  for i = 2, #m do if not str(m[i]) then return {-5, 'message fields must be strings'} end end
end
-- an XADD to a key holding something else would fail after the first writes
local firstMailbox = 12 + #actors + histories
for n = 1, mailboxes do
  local kind = redis.call('TYPE', KEYS[firstMailbox + n]).ok
  if kind ~= 'stream' and kind ~= 'none' then return {-5, 'mailbox ' .. KEYS[firstMailbox + n] .. ' holds a ' .. kind .. ', not a stream'} end
end
for _, v in ipairs(list(d.e)) do if not str(v) then return {-5, 'events must be JSON strings'} end end
for _, t in ipairs(list(d.ts)) do
  if type(t) ~= 'table' or not str(t[1]) or not num(t[2]) or not str(t[3]) then
    return {-5, 'timers must be [member, due (a number), data]'}
  end
end
for _, v in ipairs(list(d.td)) do if not str(v) then return {-5, 'timers to delete must be members'} end end
for _, f in ipairs(list(d.fs)) do
  if type(f) ~= 'table' or not str(f[1]) or not str(f[2]) then return {-5, 'effects must be [key, data]'} end
end
for _, v in ipairs(list(d.fd)) do if not str(v) then return {-5, 'effects to delete must be keys'} end end
for _, v in ipairs(list(d.tr)) do if not str(v) then return {-5, 'tries must be message ids'} end end
for _, fields in ipairs(list(d.dl)) do
  if type(fields) ~= 'table' or #fields == 0 or #fields % 2 ~= 0 then return {-5, 'a dead letter must be field, value pairs'} end
  for _, v in ipairs(fields) do if not str(v) then return {-5, 'dead letter fields must be strings'} end end
end
for _, r in ipairs(list(d.r)) do
  if type(r) ~= 'table' or not str(r[1]) or not str(r[2]) then return {-5, 'replies must be [channel, payload]'} end
end
local g = d.g
local function streamId(v) return str(v) and string.match(v, '^%d+%-%d+$') ~= nil end
if g ~= nil and (type(g) ~= 'table' or not str(g[1]) or type(g[2]) ~= 'number' or g[2] < 1 or g[2] % 1 ~= 0 or not streamId(g[3]) or not streamId(g[4]) or not streamId(g[5]) or type(g[6]) ~= 'boolean') then
  return {-5, 'g must be [consumer, count, first id, last id, cursor, all acked]'}
end

-- preconditions: every actor's version
for n, a in ipairs(actors) do
  local key = KEYS[12 + n]
  local stored = redis.call('HGET', key, 'v') or '0'
  if stored ~= a[1] then return {-3, key, stored} end
end

-- preconditions: no message of the batch was processed before (one ZMSCORE for the batch)
if #seen + #unmarked > 0 then
  local ids = seen
  if #unmarked > 0 then
    ids = {}
    for _, v in ipairs(seen) do ids[#ids + 1] = v end
    for _, v in ipairs(unmarked) do ids[#ids + 1] = v end
  end
  for i = 1, #ids, 1000 do
    local last = math.min(i + 999, #ids)
    local scores = redis.call('ZMSCORE', KEYS[3], unpack(ids, i, last))
    for k = i, last do
      if scores[k - i + 1] then return {-4, ids[k]} end
    end
  end
end

-- The new entries the read took by cursor. When this commit acks every one of them and the group's count of entries
-- read is known, where the group stands is all there is to check (a read), and its position moves past them below:
-- no pending-list round trip, and one short SETID in the AOF instead of an XCLAIM and an XACK per entry. Else they
-- are delivered here — the last precondition, as it is a write of its own (a mismatch leaves them pending, which
-- the next read claims: a state nothing is lost in) — and acked below when the commit acks them all.
local setAt, ackDelivered
if g then
  if g[6] then
    local at, entriesRead
    for _, grp in ipairs(redis.call('XINFO', 'GROUPS', KEYS[2])) do
      local name, delivered, read
      for i = 1, #grp, 2 do
        if grp[i] == 'name' then name = grp[i + 1] end
        if grp[i] == 'last-delivered-id' then delivered = grp[i + 1] end
        if grp[i] == 'entries-read' then read = grp[i + 1] end
      end
      if name == ARGV[2] then at, entriesRead = delivered, read end
    end
    if at ~= g[5] then
      return {-6, 'the group is at ' .. tostring(at) .. ', not at ' .. g[5] .. ' where the read took ' .. g[2] .. ' entries (' .. g[3] .. ' to ' .. g[4] .. ') from'}
    end
    -- the n entries after the cursor were read: the count stays exact, so the group's lag stays known
    if type(entriesRead) == 'number' then setAt = entriesRead + g[2] end
  end
  if not setAt then
    local res = redis.call('XREADGROUP', 'GROUP', ARGV[2], g[1], 'COUNT', g[2], 'STREAMS', KEYS[2], '>')
    local got = res and res[1] and res[1][2] or {}
    if #got ~= g[2] or got[1][1] ~= g[3] or got[#got][1] ~= g[4] then
      return {-6, 'the group delivered ' .. #got .. ' entries (' .. tostring(got[1] and got[1][1]) .. ' to ' ..
        tostring(got[#got] and got[#got][1]) .. '), not the ' .. g[2] .. ' the read took (' .. g[3] .. ' to ' .. g[4] .. ')'}
    end
    if g[6] then
      ackDelivered = {}
      for i, e in ipairs(got) do ackDelivered[i] = e[1] end
    end
  end
end

-- writes
local now = ARGV[3]
local h = 12 + #actors
-- Writes to one key go in one call each (the index, the expiry set, timers, effects, tries): a call from Lua costs
-- ~1–2 µs before the command does anything (docs/benchmarks.md).
local indexed, expiring = {}, {}
for n, a in ipairs(actors) do
  local key = KEYS[12 + n]
  redis.call('HSET', key, 'v', a[2], 's', a[3])
  if a[5] then
    indexed[#indexed + 1] = a[4]
    indexed[#indexed + 1] = a[5]
  end
  if a[6] then
    expiring[#expiring + 1] = a[6]
    expiring[#expiring + 1] = a[4]
  end
  if a[7] then
    h = h + 1
    -- trimmed in bulk, once longer than its length by more than a quarter: most pushes then cost one call
    local keep = tonumber(a[8])
    if redis.call('LPUSH', KEYS[h], a[7] .. a[3] .. '}') > keep + math.ceil(keep / 4) then redis.call('LTRIM', KEYS[h], 0, keep - 1) end
    -- an integer, written out: Lua would print a large or fractional number in a form PEXPIREAT refuses
    if a[6] then redis.call('PEXPIREAT', KEYS[h], string.format('%.0f', math.ceil(tonumber(a[6])))) end
  end
end
callWith('HSET', KEYS[10], indexed)
callWith('ZADD', KEYS[12], expiring)

if #seen > 0 then
  local args = {}
  for _, mid in ipairs(seen) do
    args[#args + 1] = now
    args[#args + 1] = mid
  end
  callWith('ZADD', KEYS[3], args)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. (tonumber(now) - tonumber(ARGV[4])))
end

local outboxId = ''
if str(d.o) then outboxId = redis.call('XADD', KEYS[4], '*', 'm', d.o) end
-- Delivered in the commit: no outbox entry to relay and delete afterwards (three writes become one).
for _, m in ipairs(msgs) do redis.call('XADD', KEYS[firstMailbox + m[1]], '*', unpack(m, 2)) end

for _, e in ipairs(list(d.e)) do redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[5], '*', 'e', e) end

local due, data = {}, {}
for _, t in ipairs(list(d.ts)) do
  due[#due + 1] = t[2]
  due[#due + 1] = t[1]
  data[#data + 1] = t[1]
  data[#data + 1] = t[3]
end
callWith('ZADD', KEYS[6], due)
callWith('HSET', KEYS[7], data)
callWith('ZREM', KEYS[6], list(d.td))
callWith('HDEL', KEYS[7], list(d.td))

local effectFields = {}
for _, f in ipairs(list(d.fs)) do
  effectFields[#effectFields + 1] = f[1]
  effectFields[#effectFields + 1] = f[2]
end
callWith('HSET', KEYS[8], effectFields)
callWith('HDEL', KEYS[8], list(d.fd))
callWith('HDEL', KEYS[9], list(d.tr))

-- Dead letters are capped (approximately); how many the cap removed is reported, never silent.
local trimmed = 0
local dls = list(d.dl)
if #dls > 0 then
  local before = redis.call('XLEN', KEYS[11])
  for _, fields in ipairs(dls) do
    redis.call('XADD', KEYS[11], 'MAXLEN', '~', ARGV[7] or 100000, '*', unpack(fields))
  end
  trimmed = before + #dls - redis.call('XLEN', KEYS[11])
end

if setAt then redis.call('XGROUP', 'SETID', KEYS[2], ARGV[2], g[4], 'ENTRIESREAD', setAt) end
if ackDelivered then callWith('XACK', KEYS[2], ackDelivered, ARGV[2]) end
callWith('XACK', KEYS[2], acks, ARGV[2])

for _, r in ipairs(list(d.r)) do redis.call('PUBLISH', r[1], r[2]) end

return {1, outboxId, trimmed}

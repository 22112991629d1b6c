--[[
  Reads an actor's history list (time travel: `runtime/node/version-history.ts`) in one atomic step, so that a commit
  pushing or trimming it meanwhile cannot tear the answer. The list holds up to a quarter more entries than its type
  keeps (the commit trims it in bulk); only the newest `k` are held, `k` read from the newest entry's head
  (`{"v":…,"at":…,"k":…,`; an entry written before `k` existed has none: then every entry is held).

  KEYS[1] the history list
  ARGV[1] 'page': ARGV[2] offset, ARGV[3] limit
          'at':   ARGV[2] version
  Returns for 'page' {held, entries from offset (at most limit, none past the held ones), newest entry or false,
                      oldest held entry or false}
          for 'at'   {held, the entry of that version or false}: false when not held, or when the list's entry at its
                     distance from the newest is another version (a list written by something else)
]]
local len = redis.call('LLEN', KEYS[1])
if len == 0 then
  if ARGV[1] == 'page' then return {0, {}, false, false} end
  return {0, false}
end
local first = redis.call('LINDEX', KEYS[1], 0)
-- `at` is any JSON number (a clock may give fractions of a millisecond)
local k = tonumber(string.match(first, '^{"v":%d+,"at":[-%d.eE+]+,"k":(%d+),'))
local held = len
if k and k < len then held = k end
if ARGV[1] == 'page' then
  local offset, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
  local rows = {}
  if offset < held and limit > 0 then rows = redis.call('LRANGE', KEYS[1], offset, math.min(offset + limit, held) - 1) end
  return {held, rows, first, redis.call('LINDEX', KEYS[1], held - 1)}
end
local newest = tonumber(string.match(first, '^{"v":(%d+),'))
local version = tonumber(ARGV[2])
if not newest or not version or version > newest or newest - version >= held then return {held, false} end
local entry = redis.call('LINDEX', KEYS[1], newest - version)
if not entry or tonumber(string.match(entry, '^{"v":(%d+),')) ~= version then return {held, false} end
return {held, entry}

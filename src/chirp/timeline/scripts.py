"""The Lua scripts Redis runs for timelines, each one atomic and one round trip.

A "list" here is a sorted set of post ids (see ``cache.member``) with a floor key beside it
(below the floor the list may be missing posts) and a marker key set while it is rebuilt:
every user's home timeline is one, and so is each large account's list of recent posts.
"""

from __future__ import annotations

# Trims a list to ``cap`` members. Trimming raises the floor: below it the set no longer
# holds every post, so reads there go to the database.
_TRIM_FUNCTION = """
local function trim(list, floor, cap)
  local extra = redis.call('ZCARD', list) - cap
  if extra > 0 then
    redis.call('ZREMRANGEBYRANK', list, 0, extra - 1)
    local lowest = redis.call('ZRANGE', list, 0, 0)[1]
    if lowest and lowest > (redis.call('GET', floor) or '') then
      redis.call('SET', floor, lowest)
    end
  end
end
"""

# KEYS: (list, floor, building marker) for each list. ARGV[1] cap, ARGV[2] a floor the added
# ids imply (all zeros for none), ARGV[3..] ids. Adds only to a list that exists or is being
# built: a missing one is rebuilt on read, and a half-filled one must not look complete. One
# call serves many lists, so fan-out costs one command per batch of timelines, not per user.
ADD = (
    _TRIM_FUNCTION
    + """
local cap = tonumber(ARGV[1])
local implied = ARGV[2]
local has_floor = string.match(implied, '^0*$') == nil
-- score/member pairs in chunks small enough for unpack() (Lua's C stack holds 8000 values)
local chunks, chunk = {}, {}
for i = 3, #ARGV do
  chunk[#chunk + 1] = 0
  chunk[#chunk + 1] = ARGV[i]
  if #chunk == 1000 or i == #ARGV then
    chunks[#chunks + 1] = chunk
    chunk = {}
  end
end
local added = 0
for u = 1, #KEYS, 3 do
  local list, floor = KEYS[u], KEYS[u + 1]
  if redis.call('EXISTS', list) == 1 or redis.call('EXISTS', KEYS[u + 2]) == 1 then
    for _, c in ipairs(chunks) do redis.call('ZADD', list, unpack(c)) end
    if has_floor and implied > (redis.call('GET', floor) or '') then
      redis.call('SET', floor, implied)
    end
    trim(list, floor, cap)
    added = added + 1
  end
end
return added
"""
)

# Same keys and arguments as ADD for one list, plus the ttl last: stores a rebuilt list,
# merged with whatever was added while it was read from the database. The all-zeros member
# keeps an empty list existing.
FINISH = (
    _TRIM_FUNCTION
    + """
redis.call('ZADD', KEYS[1], 0, string.rep('0', string.len(ARGV[2])))
for i = 3, #ARGV - 1 do
  redis.call('ZADD', KEYS[1], 0, ARGV[i])
end
if ARGV[2] > (redis.call('GET', KEYS[2]) or '') then
  redis.call('SET', KEYS[2], ARGV[2])
end
redis.call('DEL', KEYS[3])
redis.call('EXPIRE', KEYS[1], ARGV[#ARGV])
redis.call('EXPIRE', KEYS[2], ARGV[#ARGV])
trim(KEYS[1], KEYS[2], tonumber(ARGV[1]))
return 1
"""
)

# One home page. KEYS: the timeline, its floor, the reader's followed large accounts
# ("generation:id,id,..."). ARGV: upper bound, lower bound (ZRANGEBYLEX syntax), limit,
# ascending ('1' or '0'), ttl, post key prefix, the large accounts' generation, then the key
# prefixes of their post lists and of those lists' floors.
#
# Returns {0} when the timeline is missing, {2} when the followed large accounts are unknown
# or from another generation, {3, author ids...} when those authors' lists are missing, and
# otherwise {1, floor, n, n ids, n cached posts}: the timeline and the followed large
# accounts' posts merged newest first (oldest first when ascending), without duplicates, and
# the posts' cached data. The floor is the highest of all the lists read: ids below it are
# left out, there the page may be missing posts and the caller continues from the database.
PAGE = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0}
end
local followed = redis.call('GET', KEYS[3])
local generation = ARGV[7] .. ':'
if not followed or string.sub(followed, 1, #generation) ~= generation then
  return {2}
end
local limit = tonumber(ARGV[3])
local ascending = ARGV[4] == '1'
local function range(list)
  if ascending then
    return redis.call('ZRANGEBYLEX', list, ARGV[2], ARGV[1], 'LIMIT', 0, limit)
  end
  return redis.call('ZREVRANGEBYLEX', list, ARGV[1], ARGV[2], 'LIMIT', 0, limit)
end
local floor = redis.call('GET', KEYS[2]) or ''
local ids = range(KEYS[1])
local merged = false
local missing = {}
for author in string.gmatch(string.sub(followed, #generation + 1), '%d+') do
  local list = ARGV[8] .. author
  if redis.call('EXISTS', list) == 0 then
    missing[#missing + 1] = author
  else
    local lowest = redis.call('GET', ARGV[9] .. author) or ''
    if lowest > floor then floor = lowest end
    for _, id in ipairs(range(list)) do ids[#ids + 1] = id end
    merged = true
  end
end
if #missing > 0 then
  return {3, unpack(missing)}
end
for _, key in ipairs(KEYS) do redis.call('EXPIRE', key, ARGV[5]) end
if merged then
  if ascending then
    table.sort(ids)
  else
    table.sort(ids, function(a, b) return a > b end)
  end
end
local out = {1, floor, 0}
local keys, last = {}, nil
for _, id in ipairs(ids) do
  if #keys == limit then break end
  if id ~= last and id >= floor then
    out[#out + 1] = id
    keys[#keys + 1] = ARGV[6] .. string.match(id, '^0*(%d+)$')
  end
  last = id
end
out[3] = #keys
if #keys > 0 then
  local posts = redis.call('MGET', unpack(keys))
  for k = 1, #keys do out[#out + 1] = posts[k] end
end
return out
"""

# KEYS: the reader's followed large accounts, and the marker a reader set before reading
# them from the database. ARGV: the marker's value, the value to store, the ttl. Stores only
# if the marker is still there: a follow or unfollow in between deleted both, and what was
# read may predate it.
SET_IF_MARKED = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
redis.call('DEL', KEYS[2])
return 1
"""

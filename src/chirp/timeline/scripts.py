"""The Lua scripts Redis runs for timelines, each one atomic and one round trip.

A "list" here is a sorted set of post ids (see ``cache.member``) with two keys beside it:
every user's home timeline is one, and so is each large account's list of recent posts.

- The floor: below it the list may be missing posts. Only a finished rebuild creates it, so
  it also says the list is complete: a list whose floor is missing (never finished, or
  evicted) counts as absent and is rebuilt, whatever crashed or failed on the way.
- The rebuild marker, a sorted set that exists while rebuilds are in progress: each
  rebuild's token (score 1) and the ids fan-out delivered meanwhile (score 0). Keeping
  both in one key means the buffered ids cannot be lost while a token survives: a rebuild
  whose token is gone (expired, Redis restarted, cancelled) may have missed posts, and its
  result is not stored.
"""

from __future__ import annotations

# Trims a complete list to ``cap`` members. Trimming raises the floor: below it the set no
# longer holds every post, so reads there go to the database. KEEPTTL: the floor lives
# exactly as long as its list.
_TRIM_FUNCTION = """
local function trim(list, floor, cap)
  local extra = redis.call('ZCARD', list) - cap
  if extra > 0 then
    redis.call('ZREMRANGEBYRANK', list, 0, extra - 1)
    local lowest = redis.call('ZRANGE', list, 0, 0)[1]
    if lowest and lowest > (redis.call('GET', floor) or '') then
      redis.call('SET', floor, lowest, 'KEEPTTL')
    end
  end
end
"""

# Adds score-0 members to a sorted set in chunks small enough for unpack() (Lua's C stack
# holds 8000 values).
_ZADD_FUNCTION = """
local function zadd_all(key, members, first)
  local chunk = {}
  for i = first, #members do
    chunk[#chunk + 1] = 0
    chunk[#chunk + 1] = members[i]
    if #chunk == 1000 or i == #members then
      redis.call('ZADD', key, unpack(chunk))
      chunk = {}
    end
  end
end
"""

# KEYS: (list, floor, rebuild marker) for each list. ARGV[1] cap, ARGV[2] a floor the added
# ids imply (all zeros for none), ARGV[3..] ids. Adds to each complete list; for a list
# being rebuilt, keeps the ids in its marker for the rebuild to merge. A list neither
# complete nor being rebuilt is left alone: it is rebuilt on read. One call serves many
# lists, so fan-out costs one command per batch of timelines, not per user.
ADD = (
    _TRIM_FUNCTION
    + _ZADD_FUNCTION
    + """
local cap = tonumber(ARGV[1])
local implied = ARGV[2]
local has_floor = string.match(implied, '^0*$') == nil
local added = 0
for u = 1, #KEYS, 3 do
  local list, floor, marker = KEYS[u], KEYS[u + 1], KEYS[u + 2]
  if redis.call('EXISTS', list, floor) == 2 then
    zadd_all(list, ARGV, 3)
    local shared = list .. ':o'
    if redis.call('EXISTS', shared) == 1 then
      -- A post arriving after a repost of it (fan-out jobs may run out of order, or its
      -- author was just followed): the post shows as itself, the repost goes (ADD_REPOST).
      for i = 3, #ARGV do
        local repost = redis.call('HGET', shared, ARGV[i])
        if repost and redis.call('ZREM', list, repost) == 1 then
          redis.call('SADD', list .. ':d', ARGV[i])
          redis.call('EXPIRE', list .. ':d', redis.call('TTL', list))
        end
      end
    end
    if has_floor and implied > redis.call('GET', floor) then
      redis.call('SET', floor, implied, 'KEEPTTL')
    end
    trim(list, floor, cap)
    added = added + 1
  elseif redis.call('EXISTS', marker) == 1 then
    if has_floor then
      -- Ids complete only down to a floor (a newly followed account's newest posts): the
      -- rebuilds under way may have read the database before this follow, so they cannot
      -- store their result; the next read rebuilds after it.
      redis.call('DEL', marker)
    else
      zadd_all(marker, ARGV, 3)
      added = added + 1
    end
  end
end
return added
"""
)

# The same for one repost. KEYS as ADD; ARGV[1] cap, ARGV[2] ttl, ARGV[3] the repost's id,
# ARGV[4] the id of the post it shares. Each complete timeline keeps one repost per shared
# post across its whole cached window, in a hash beside it (list .. ':o': shared id ->
# repost id): a repost of a post the window holds as itself is skipped (the reader saw it
# already), and a newer repost of a post already reposted there replaces the older one (it
# moves up to the newer repost's place). A timeline being rebuilt keeps the id in its
# marker as ADD does; the rebuild applies the same rule (``timeline.reposts.keep_one_repost``).
ADD_REPOST = (
    _TRIM_FUNCTION
    + """
local cap = tonumber(ARGV[1])
local id, original = ARGV[3], ARGV[4]
local added = 0
for u = 1, #KEYS, 3 do
  local list, floor, marker = KEYS[u], KEYS[u + 1], KEYS[u + 2]
  if redis.call('EXISTS', list, floor) == 2 then
    local shared = list .. ':o'
    local earlier = redis.call('HGET', shared, original)
    if not redis.call('ZSCORE', list, original) and not (earlier and earlier >= id) then
      if earlier and redis.call('ZREM', list, earlier) == 1 then
        -- Undoing this repost must bring the earlier one back: see REMOVE.
        redis.call('SADD', list .. ':d', id)
        redis.call('EXPIRE', list .. ':d', ARGV[2])
      end
      redis.call('HSET', shared, original, id)
      redis.call('EXPIRE', shared, ARGV[2])
      redis.call('ZADD', list, 0, id)
      trim(list, floor, cap)
      -- Entries whose reposts were trimmed away are dropped now and then.
      if redis.call('HLEN', shared) > 2 * cap then
        local all = redis.call('HGETALL', shared)
        for i = 1, #all, 2 do
          if not redis.call('ZSCORE', list, all[i + 1]) then redis.call('HDEL', shared, all[i]) end
        end
        for _, moved in ipairs(redis.call('SMEMBERS', list .. ':d')) do
          if not redis.call('ZSCORE', list, moved) then redis.call('SREM', list .. ':d', moved) end
        end
      end
      added = added + 1
    end
  elseif redis.call('EXISTS', marker) == 1 then
    redis.call('ZADD', marker, 0, id)
    added = added + 1
  end
end
return added
"""
)

# KEYS: (list, floor) for each home timeline. ARGV: ids to remove (deleted posts, undone
# reposts, an unfollowed account's posts). A removed repost that had replaced an earlier
# repost of the same post (ADD_REPOST) takes the floor with it: the timeline counts as
# incomplete and its next read rebuilds it from the database, earlier repost included.
REMOVE = """
for u = 1, #KEYS, 2 do
  local list, floor = KEYS[u], KEYS[u + 1]
  redis.call('ZREM', list, unpack(ARGV))
  local moved = list .. ':d'
  if redis.call('EXISTS', moved) == 1 then
    for _, id in ipairs(ARGV) do
      if redis.call('SREM', moved, id) == 1 then redis.call('DEL', floor) end
    end
  end
end
return 1
"""

# KEYS: rebuild marker. ARGV: token, ttl. Starts a rebuild: from now on fan-out for this
# list is kept in the marker.
START = """
redis.call('ZADD', KEYS[1], 1, ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS: list, floor, rebuild marker. ARGV: cap, floor, token, ttl, ids. Stores a rebuilt
# list, merged with what fan-out delivered while it was read from the database, and makes
# it complete, all at once; but only if this rebuild's token is still in the marker (or
# another rebuild already completed the list), since otherwise posts delivered meanwhile
# may be lost. Returns 1 when stored, 0 when not (the next read rebuilds it again). The
# all-zeros member keeps an empty list existing.
FINISH = (
    _TRIM_FUNCTION
    + _ZADD_FUNCTION
    + """
local list, floor, marker = KEYS[1], KEYS[2], KEYS[3]
if redis.call('EXISTS', list, floor) < 2 and not redis.call('ZSCORE', marker, ARGV[3]) then
  return 0
end
local delivered = redis.call('ZRANGEBYSCORE', marker, 0, 0)
redis.call('DEL', marker)
redis.call('ZADD', list, 0, string.rep('0', string.len(ARGV[2])))
zadd_all(list, ARGV, 5)
zadd_all(list, delivered, 1)
if ARGV[2] > (redis.call('GET', floor) or '') then
  redis.call('SET', floor, ARGV[2])
end
redis.call('EXPIRE', list, ARGV[4])
redis.call('EXPIRE', floor, ARGV[4])
trim(list, floor, tonumber(ARGV[1]))
return 1
"""
)

# One home page. KEYS: the timeline, its floor, the reader's followed large accounts
# ("generation:id,id,..."). ARGV: upper bound, lower bound (ZRANGEBYLEX syntax), limit,
# ascending ('1' or '0'), ttl, post key prefix, the large accounts' generation, then the key
# prefixes of their post lists and of those lists' floors.
#
# Returns {0} when the timeline is missing or incomplete, {2} when the followed large
# accounts are unknown or from another generation, {3, author ids...} when those authors'
# lists are missing or incomplete, and otherwise {1, floor, n, n ids, n cached posts, m,
# m ids, m cached posts}: the timeline and the followed large accounts' posts merged newest
# first (oldest first when ascending), without duplicates, and the posts' cached data; then
# the posts that the page's reposts share, as far as the cache holds them (their ids are
# stored as strings: Lua's numbers are doubles, exact only up to 2^53). The floor is the highest of
# all the lists read: ids below it are left out, there the page may be missing posts and
# the caller continues from the database.
PAGE = """
local floor = redis.call('GET', KEYS[2])
if not floor or redis.call('EXISTS', KEYS[1]) == 0 then
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
local ids = range(KEYS[1])
local merged = false
local missing = {}
for author in string.gmatch(string.sub(followed, #generation + 1), '%d+') do
  local list = ARGV[8] .. author
  local lowest = redis.call('GET', ARGV[9] .. author)
  if not lowest or redis.call('EXISTS', list) == 0 then
    missing[#missing + 1] = author
  else
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
local shared = {}
if #keys > 0 then
  local posts = redis.call('MGET', unpack(keys))
  local wanted = {}
  for k = 1, #keys do
    local value = posts[k]
    out[#out + 1] = value
    -- A repost (its text is empty) names its original as a string: read that one too.
    if value and string.find(value, '^%[%d+,%s?"",') then
      local original = cjson.decode(value)[11]
      if type(original) == 'string' and not wanted[original] then
        wanted[original] = true
        shared[#shared + 1] = original
      end
    end
  end
end
out[#out + 1] = #shared
if #shared > 0 then
  local keys2 = {}
  for k, id in ipairs(shared) do
    out[#out + 1] = id
    keys2[k] = ARGV[6] .. id
  end
  local originals = redis.call('MGET', unpack(keys2))
  for k = 1, #shared do out[#out + 1] = originals[k] end
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

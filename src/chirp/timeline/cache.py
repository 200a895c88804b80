"""Materialised home timelines: one Redis sorted set of post ids per user.

Members are post ids zero-padded to 19 digits, all with score 0, so Redis orders them
lexicographically, which for equal-width digits is numeric order. A score equal to the id
would be rounded to a double (53-bit mantissa) and make ``max_id`` bounds inexact for 64-bit
ids; lexicographic ranges are exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Self

from redis.asyncio import Redis

from chirp.config import Settings
from chirp.pagination import Cursor
from chirp.timeline.post_cache import PostCache

WIDTH = 19  # digits in the largest signed 64-bit id
ZERO = "0" * WIDTH
# Timelines one fan-out script call writes: large enough to amortise the call, small enough
# that Redis is never blocked for long (a few milliseconds).
USERS_PER_CALL = 500

# Trims a timeline to ``cap`` members. Trimming raises the floor: below it the set no longer
# holds every post, so reads there go to the database.
_TRIM_FUNCTION = """
local function trim(timeline, floor, cap)
  local extra = redis.call('ZCARD', timeline) - cap
  if extra > 0 then
    redis.call('ZREMRANGEBYRANK', timeline, 0, extra - 1)
    local lowest = redis.call('ZRANGE', timeline, 0, 0)[1]
    if lowest and lowest > (redis.call('GET', floor) or '') then
      redis.call('SET', floor, lowest)
    end
  end
end
"""

# KEYS: (timeline, floor, building marker) for each user. ARGV[1] cap, ARGV[2] a floor the
# added ids imply (all zeros for none), ARGV[3..] ids. Adds only to a timeline that exists or
# is being built: a missing one is rebuilt on read, and a half-filled one must not look
# complete. One call serves many users, so fan-out costs one command per batch, not per user.
_ADD = (
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
  local timeline, floor = KEYS[u], KEYS[u + 1]
  if redis.call('EXISTS', timeline) == 1 or redis.call('EXISTS', KEYS[u + 2]) == 1 then
    for _, c in ipairs(chunks) do redis.call('ZADD', timeline, unpack(c)) end
    if has_floor and implied > (redis.call('GET', floor) or '') then
      redis.call('SET', floor, implied)
    end
    trim(timeline, floor, cap)
    added = added + 1
  end
end
return added
"""
)

# Same keys and arguments, plus the ttl last: stores a rebuilt timeline, merged with whatever
# fan-out delivered while it was read from the database. The all-zeros member keeps an empty
# timeline existing.
_FINISH = (
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

# KEYS: timeline, floor. ARGV: upper bound, lower bound (ZRANGEBYLEX syntax), limit,
# ascending ('1' or '0'), ttl, post key prefix, then extra members (ids merged at read time,
# already inside the bounds and in page order). Keeps a read timeline alive for another ttl
# seconds and returns {exists, floor, n, n ids, n cached posts}: ids, merge and post data in
# one round trip. Ids below the floor are skipped: there the timeline may be missing posts,
# and the caller continues from the database.
_PAGE = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, ''}
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
local floor = redis.call('GET', KEYS[2]) or ''
local limit = tonumber(ARGV[3])
local ascending = ARGV[4] == '1'
local ids
if ascending then
  ids = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[2], ARGV[1], 'LIMIT', 0, limit)
else
  ids = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, limit)
end
local merged, i, j = {}, 1, 7
while #merged < limit do
  local a, b = ids[i], ARGV[j]
  if a and a < floor then
    i = i + 1
  elseif b and b < floor then
    j = j + 1
  elseif a == nil and b == nil then
    break
  else
    local take = b
    if b == nil or (a ~= nil and ((ascending and a <= b) or (not ascending and a >= b))) then
      take = a
    end
    if take == a then i = i + 1 end
    if take == b then j = j + 1 end
    merged[#merged + 1] = take
  end
end
local out = {1, floor, #merged}
local keys = {}
for k = 1, #merged do
  out[#out + 1] = merged[k]
  keys[k] = ARGV[6] .. (string.match(merged[k], '^0*(%d+)$'))
end
if #keys > 0 then
  local posts = redis.call('MGET', unpack(keys))
  for k = 1, #keys do out[#out + 1] = posts[k] end
end
return out
"""


def member(post_id: int) -> str:
    """Return the sorted-set member for a post id."""
    return f"{post_id:0{WIDTH}d}"


@dataclass(frozen=True)
class CachedPage:
    """Ids from a materialised timeline, its floor, and the posts' cached data."""

    # Below ``floor`` the timeline may be incomplete. ``posts`` are raw values, as
    # ``PostCache.decode`` reads them (None where a post is not cached).

    ids: list[int]
    floor: int
    posts: list[bytes | str | None]


class TimelineCache:
    """Reads and writes home timelines in Redis."""

    def __init__(
        self,
        redis: Redis,
        *,
        cap: int,
        ttl: int = 30 * 86400,
        post_ttl: int = 86400,
        prefix: str = "chirp:",
    ) -> None:
        self.redis = redis
        # The posts the timelines point to, so pages are hydrated from Redis too.
        self.posts = PostCache(redis, ttl=post_ttl, prefix=prefix)
        self.cap = cap
        # Timelines live as long as their owner reads them; fan-out skips users inactive for
        # longer, so an expired timeline is rebuilt from the database instead of being stale.
        self.ttl = ttl
        self.prefix = prefix
        self._add = redis.register_script(_ADD)
        self._finish = redis.register_script(_FINISH)
        self._page = redis.register_script(_PAGE)

    @classmethod
    def from_settings(cls, redis: Redis, settings: Settings, *, prefix: str = "chirp:") -> Self:
        """A cache sized and timed by the settings (expiring an hour before fan-out stops)."""
        ttl = max(settings.active_days * 86400 - 3600, 3600)
        return cls(
            redis,
            cap=settings.timeline_cache_size,
            ttl=ttl,
            post_ttl=settings.post_cache_ttl,
            prefix=prefix,
        )

    def _keys(self, user_id: int) -> list[str]:
        p = self.prefix
        return [f"{p}tl:{user_id}", f"{p}tlf:{user_id}", f"{p}tlb:{user_id}"]

    async def add(
        self, post_ids: Sequence[int], user_ids: Iterable[int], *, implied_floor: int = 0
    ) -> int:
        """Add posts to each user's timeline that exists; return how many timelines took them.

        Users go ``USERS_PER_CALL`` to a script call, all calls in one pipelined round trip.
        ``implied_floor``: the added ids are complete only down to this id (e.g. an author's
        newest ``cap`` posts), so the timeline must not claim to hold anything older.
        """
        if not post_ids:
            return 0
        args: list[str | int] = [self.cap, member(implied_floor), *map(member, post_ids)]
        pipe = self.redis.pipeline(transaction=False)
        keys: list[str] = []
        for user_id in user_ids:
            keys.extend(self._keys(user_id))
            if len(keys) >= 3 * USERS_PER_CALL:
                await self._add(keys=keys, args=args, client=pipe)
                keys = []
        if keys:
            await self._add(keys=keys, args=args, client=pipe)
        if not len(pipe):
            return 0
        return sum(int(n) for n in await pipe.execute())

    async def remove(self, post_ids: Sequence[int], user_ids: Iterable[int]) -> None:
        """Remove posts from each timeline."""
        if not post_ids:
            return
        members = [member(i) for i in post_ids]
        pipe = self.redis.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.zrem(self._keys(user_id)[0], *members)
        await pipe.execute()

    async def page(
        self, user_id: int, cursor: Cursor, *, limit: int, extra: Sequence[int] = ()
    ) -> CachedPage | None:
        """Return up to ``limit`` ids inside the cursor's bounds, or None if not materialised.

        ``extra``: ids from elsewhere (posts merged at read time) inside the bounds, in page
        order; they are merged in, above the floor only. The posts' cached data comes along.
        """
        upper = f"({member(cursor.max_id)}" if cursor.max_id is not None else "+"
        lower_id = cursor.min_id if cursor.min_id is not None else cursor.since_id
        lower = f"({member(max(lower_id or 0, 0))}"
        ascending = "1" if cursor.min_id is not None else "0"
        keys = self._keys(user_id)[:2]
        args: list[str | int] = [upper, lower, limit, ascending, self.ttl, self.posts.key("")]
        args += map(member, extra)
        result: list[Any] = await self._page(keys=keys, args=args)
        if int(result[0]) == 0:
            return None
        count = int(result[2])
        return CachedPage(
            ids=[int(i) for i in result[3 : 3 + count]],
            floor=int(result[1] or 0),
            posts=list(result[3 + count :]),
        )

    async def start_rebuild(self, user_id: int, *, ttl: int = 60) -> None:
        """Mark a timeline as being built, so fan-out during the rebuild is not lost."""
        await self.redis.set(self._keys(user_id)[2], "1", ex=ttl)

    async def finish_rebuild(self, user_id: int, post_ids: Sequence[int], *, floor: int) -> None:
        """Store a rebuilt timeline, merged with any fan-out that arrived meanwhile."""
        args: list[str | int] = [self.cap, member(floor), *map(member, post_ids), self.ttl]
        await self._finish(keys=self._keys(user_id), args=args)

    async def lowest(self, user_id: int) -> int:
        """Return the smallest post id held in a timeline (0 when empty or missing)."""
        first = await self.redis.zrange(self._keys(user_id)[0], 0, 1)
        return min((int(str(i)) for i in first if str(i) != ZERO), default=0)

    async def exists(self, user_id: int) -> bool:
        """Whether the user's timeline is materialised."""
        return bool(await self.redis.exists(self._keys(user_id)[0]))

    async def drop(self, user_id: int) -> None:
        """Forget a user's materialised timeline (it is rebuilt on the next read)."""
        await self.redis.delete(*self._keys(user_id))

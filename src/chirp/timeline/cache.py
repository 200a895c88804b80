"""Materialised home timelines in Redis, and the recent posts of large accounts.

Each user's home timeline is a sorted set of post ids; so is each large account's list of
recent posts, which readers following it merge in at read time instead of receiving them by
fan-out. Members are post ids zero-padded to 19 digits, all with score 0, so Redis orders
them lexicographically, which for equal-width digits is numeric order. A score equal to the
id would be rounded to a double (53-bit mantissa) and make ``max_id`` bounds inexact for
64-bit ids; lexicographic ranges are exact.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from redis.asyncio import Redis

from chirp.config import Settings
from chirp.pagination import Cursor
from chirp.timeline import scripts
from chirp.timeline.post_cache import PostCache

WIDTH = 19  # digits in the largest signed 64-bit id
ZERO = "0" * WIDTH
# How long a rebuild may take: past this its marker lapses and its result is not stored.
REBUILD_SECONDS = 60
# Timelines one fan-out script call writes: large enough to amortise the call, small enough
# that Redis is never blocked for long (a few milliseconds).
USERS_PER_CALL = 500


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
    # The posts the page's reposts share, by id, as far as the cache holds them (raw values).
    shared: dict[int, bytes | str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Missing:
    """What Redis lacks to answer a page; each is filled from the database, then read again."""

    timeline: bool = False
    followed_large: bool = False
    author_lists: tuple[int, ...] = ()


class TimelineCache:
    """Reads and writes home timelines and large accounts' post lists in Redis."""

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
        self._add = redis.register_script(scripts.ADD)
        self._add_repost = redis.register_script(scripts.ADD_REPOST)
        self._remove = redis.register_script(scripts.REMOVE)
        self._start_script = redis.register_script(scripts.START)
        self._finish = redis.register_script(scripts.FINISH)
        self._page = redis.register_script(scripts.PAGE)
        self._set_if_marked = redis.register_script(scripts.SET_IF_MARKED)

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
        """A home timeline: its set, floor and rebuild marker (see ``scripts``)."""
        p = self.prefix
        return [f"{p}tl:{user_id}", f"{p}tlf:{user_id}", f"{p}tlr:{user_id}"]

    def _author_keys(self, author_id: int) -> list[str]:
        """A large account's recent posts: the set, floor and rebuild marker."""
        p = self.prefix
        return [f"{p}ap:{author_id}", f"{p}apf:{author_id}", f"{p}apr:{author_id}"]

    def _followed_large_keys(self, user_id: int) -> list[str]:
        """The large accounts a user follows, and the marker of a read in progress."""
        p = self.prefix
        return [f"{p}tlc:{user_id}", f"{p}tlcb:{user_id}"]

    async def add(
        self, post_ids: Sequence[int], user_ids: Iterable[int], *, implied_floor: int = 0
    ) -> int:
        """Add posts to each user's complete timeline, or to its rebuild under way; return how
        many took them.

        Users go ``USERS_PER_CALL`` to a script call, all calls in one pipelined round trip.
        ``implied_floor``: the added ids are complete only down to this id (e.g. an author's
        newest ``cap`` posts), so the timeline must not claim to hold anything older.
        """
        return await self._add_to((self._keys(u) for u in user_ids), post_ids, implied_floor)

    async def add_repost(self, post_id: int, original_id: int, user_ids: Iterable[int]) -> int:
        """Add a repost to each user's timeline unless it holds the post it shares (see
        ``scripts.ADD_REPOST``); return how many took it."""
        args: list[str | int] = [self.cap, self.ttl, member(post_id), member(original_id)]
        pipe = self.redis.pipeline(transaction=False)
        keys: list[str] = []
        for user_id in user_ids:
            keys.extend(self._keys(user_id))
            if len(keys) >= 3 * USERS_PER_CALL:
                await self._add_repost(keys=keys, args=args, client=pipe)
                keys = []
        if keys:
            await self._add_repost(keys=keys, args=args, client=pipe)
        if not len(pipe):
            return 0
        return sum(int(n) for n in await pipe.execute())

    async def add_own(self, post_id: int, author_id: int, reblog_of_id: int | None) -> int:
        """Add a new post, or repost (``scripts.ADD_REPOST``), to its author's own timeline."""
        if reblog_of_id is not None:
            return await self.add_repost(post_id, reblog_of_id, [author_id])
        return await self.add([post_id], [author_id])

    async def add_reposts(self, reposts: Sequence[tuple[int, int]], user_id: int) -> None:
        """Add (repost id, shared post id) pairs to one timeline in order (one round trip)."""
        pipe = self.redis.pipeline(transaction=False)
        for post_id, original_id in reposts:
            args: list[str | int] = [self.cap, self.ttl, member(post_id), member(original_id)]
            await self._add_repost(keys=self._keys(user_id), args=args, client=pipe)
        if len(pipe):
            await pipe.execute()

    async def remember_reposts(
        self, user_id: int, shared: dict[int, int], moved: Iterable[int]
    ) -> None:
        """Record a rebuilt timeline's reposts (shared post id -> repost id) and those that
        replaced an earlier one, as ``scripts.ADD_REPOST`` keeps them."""
        key = self._keys(user_id)[0]
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(f"{key}:o", f"{key}:d")
        if shared:
            pipe.hset(f"{key}:o", mapping={member(o): member(r) for o, r in shared.items()})
            pipe.expire(f"{key}:o", self.ttl)
        replaced = [member(i) for i in moved]
        if replaced:
            pipe.sadd(f"{key}:d", *replaced)
            pipe.expire(f"{key}:d", self.ttl)
        await pipe.execute()

    async def add_author_posts(self, post_ids: Sequence[int], author_id: int) -> int:
        """Add posts to a large account's list, if complete or being rebuilt (else rebuilt
        on read)."""
        return await self._add_to([self._author_keys(author_id)], post_ids, 0)

    async def _add_to(
        self, lists: Iterable[list[str]], post_ids: Sequence[int], implied_floor: int
    ) -> int:
        if not post_ids:
            return 0
        args: list[str | int] = [self.cap, member(implied_floor), *map(member, post_ids)]
        pipe = self.redis.pipeline(transaction=False)
        keys: list[str] = []
        for triple in lists:
            keys.extend(triple)
            if len(keys) >= 3 * USERS_PER_CALL:
                await self._add(keys=keys, args=args, client=pipe)
                keys = []
        if keys:
            await self._add(keys=keys, args=args, client=pipe)
        if not len(pipe):
            return 0
        return sum(int(n) for n in await pipe.execute())

    async def remove(self, post_ids: Sequence[int], user_ids: Iterable[int]) -> None:
        """Remove posts from each timeline (see ``scripts.REMOVE``)."""
        if not post_ids:
            return
        members = [member(i) for i in post_ids]
        pipe = self.redis.pipeline(transaction=False)
        keys: list[str] = []
        for user_id in user_ids:
            keys.extend(self._keys(user_id)[:2])
            if len(keys) >= 2 * USERS_PER_CALL:
                await self._remove(keys=keys, args=members, client=pipe)
                keys = []
        if keys:
            await self._remove(keys=keys, args=members, client=pipe)
        if len(pipe):
            await pipe.execute()

    async def remove_author_posts(self, post_ids: Sequence[int], author_id: int) -> None:
        """Remove posts from a large account's list."""
        await self._remove_from([self._author_keys(author_id)[0]], post_ids)

    async def _remove_from(self, lists: Iterable[str], post_ids: Sequence[int]) -> None:
        if not post_ids:
            return
        members = [member(i) for i in post_ids]
        pipe = self.redis.pipeline(transaction=False)
        for key in lists:
            pipe.zrem(key, *members)
        await pipe.execute()

    async def page(
        self, user_id: int, cursor: Cursor, *, limit: int, generation: str
    ) -> CachedPage | Missing:
        """Up to ``limit`` ids inside the cursor's bounds with their cached posts, or what
        is missing to answer.

        The posts of the large accounts the user follows, as recorded for ``generation`` of
        the list of large accounts, are merged in; the floor is the highest of every list read.
        """
        upper = f"({member(cursor.max_id)}" if cursor.max_id is not None else "+"
        lower_id = cursor.min_id if cursor.min_id is not None else cursor.since_id
        lower = f"({member(max(lower_id or 0, 0))}"
        ascending = "1" if cursor.min_id is not None else "0"
        keys = [*self._keys(user_id)[:2], self._followed_large_keys(user_id)[0]]
        p = self.prefix
        args: list[str | int] = [upper, lower, limit, ascending, self.ttl, self.posts.key("")]
        args += [generation, f"{p}ap:", f"{p}apf:"]
        result: list[Any] = await self._page(keys=keys, args=args)
        status = int(result[0])
        if status == 0:
            return Missing(timeline=True)
        if status == 2:
            return Missing(followed_large=True)
        if status == 3:
            return Missing(author_lists=tuple(int(i) for i in result[1:]))
        count = int(result[2])
        end = 3 + 2 * count
        shared = int(result[end])
        shared_ids = [int(i) for i in result[end + 1 : end + 1 + shared]]
        return CachedPage(
            ids=[int(i) for i in result[3 : 3 + count]],
            floor=int(result[1] or 0),
            posts=list(result[3 + count : end]),
            shared=dict(zip(shared_ids, result[end + 1 + shared :], strict=True)),
        )

    async def start_rebuild(self, user_id: int) -> str:
        """Mark a timeline as being built, so fan-out meanwhile is kept; return the token."""
        return await self._start(self._keys(user_id))

    async def finish_rebuild(
        self, user_id: int, post_ids: Sequence[int], *, floor: int, token: str
    ) -> bool:
        """Store a rebuilt timeline, merged with any fan-out that arrived meanwhile.

        Returns False, storing nothing, when the rebuild started with ``token`` may have
        missed posts (its marker expired or was lost); the timeline stays absent.
        """
        return await self._store(self._keys(user_id), post_ids, floor, token)

    async def start_author_rebuild(self, author_id: int) -> str:
        """Mark a large account's list as being built, so posts added meanwhile are kept."""
        return await self._start(self._author_keys(author_id))

    async def finish_author_rebuild(
        self, author_id: int, post_ids: Sequence[int], *, floor: int, token: str
    ) -> bool:
        """Store a large account's rebuilt list of recent posts (as ``finish_rebuild``)."""
        return await self._store(self._author_keys(author_id), post_ids, floor, token)

    async def _start(self, keys: list[str]) -> str:
        token = secrets.token_hex(8)
        await self._start_script(keys=[keys[2]], args=[token, REBUILD_SECONDS])
        return token

    async def _store(
        self, keys: list[str], post_ids: Sequence[int], floor: int, token: str
    ) -> bool:
        args: list[str | int] = [self.cap, member(floor), token, self.ttl, *map(member, post_ids)]
        return bool(await self._finish(keys=keys, args=args))

    async def start_followed_large(self, user_id: int) -> str:
        """Mark that the user's followed large accounts are being read; return the mark."""
        mark = secrets.token_hex(8)
        await self.redis.set(self._followed_large_keys(user_id)[1], mark, ex=60)
        return mark

    async def finish_followed_large(
        self, user_id: int, *, mark: str, generation: str, author_ids: Iterable[int]
    ) -> bool:
        """Store them, unless a follow change since ``mark`` made what was read stale."""
        value = f"{generation}:{','.join(map(str, sorted(author_ids)))}"
        keys = self._followed_large_keys(user_id)
        return bool(await self._set_if_marked(keys=keys, args=[mark, value, self.ttl]))

    async def forget_followed_large(self, user_id: int) -> None:
        """Drop the user's followed large accounts (they follow or unfollow someone)."""
        await self.redis.delete(*self._followed_large_keys(user_id))

    async def floor(self, user_id: int) -> int | None:
        """A timeline's floor (0: it holds every post), or None when it is incomplete."""
        floor = await self.redis.get(self._keys(user_id)[1])
        return None if floor is None else int(floor)

    async def cancel_rebuild(self, user_id: int) -> None:
        """Keep any rebuild under way from storing what it read (it may be out of date)."""
        await self.redis.delete(self._keys(user_id)[2])

    async def lowest(self, user_id: int) -> int:
        """Return the smallest post id held in a timeline (0 when empty or missing)."""
        first = await self.redis.zrange(self._keys(user_id)[0], 0, 1)
        return min((int(str(i)) for i in first if str(i) != ZERO), default=0)

    async def forget_user(self, user_id: int) -> None:
        """Drop everything kept for one account (a deleted account's timeline and lists)."""
        keys = [*self._keys(user_id), *self._author_keys(user_id)]
        await self.redis.delete(*keys, *self._followed_large_keys(user_id))

"""The home timeline read path: Redis when enabled for the user, the database otherwise."""

from __future__ import annotations

import hashlib
import logging

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.config import Settings
from chirp.pagination import Cursor
from chirp.posts import service as posts_service
from chirp.posts.models import Post, PostView
from chirp.redis_client import Breaker
from chirp.timeline import celebrities
from chirp.timeline import service as timeline_service
from chirp.timeline.cache import TimelineCache
from chirp.timeline.post_cache import CachedPost, PostCache
from chirp.users.models import User

log = logging.getLogger("chirp.timeline")

# A page read from the cache: its ids, the posts the cache held, and those it knows deleted.
_Found = tuple[list[int], dict[int, CachedPost], set[int]]


def in_redis_rollout(user_id: int, percent: int) -> bool:
    """Whether this user's timeline is served from Redis (stable for a given percentage)."""
    if percent >= 100:
        return True
    if percent <= 0:
        return False
    bucket = int.from_bytes(hashlib.blake2b(str(user_id).encode(), digest_size=4).digest(), "big")
    return bucket % 100 < percent


async def sql_home_ids(session: AsyncSession, *, user_id: int, cursor: Cursor) -> list[int]:
    """Ids of one home-timeline page straight from the database."""
    return await timeline_service.author_post_ids(session, "home", user_id=user_id, cursor=cursor)


class HomeTimeline:
    """Reads home timelines; one per app, sharing its Redis connection."""

    def __init__(self, settings: Settings, cache: TimelineCache | None) -> None:
        self.settings = settings
        self.cache = cache
        self.breaker = Breaker()
        self.celebrities = celebrities.CelebrityCache(settings.fanout_max_followers)

    def uses_redis(self, user_id: int) -> bool:
        """Whether this user's reads go through Redis right now."""
        return (
            self.cache is not None
            and self.breaker.closed
            and in_redis_rollout(user_id, self.settings.redis_timeline_percent)
        )

    async def page(self, session: AsyncSession, *, user_id: int, cursor: Cursor) -> list[PostView]:
        """Return one page of the home timeline, newest first."""
        if self.uses_redis(user_id):
            try:
                found = await self._from_cache(session, user_id=user_id, cursor=cursor)
                self.breaker.reset()
            except RedisError as exc:
                # Redis is a cache: answer from the database and stop asking it for a while.
                log.warning("timeline cache unavailable, reading from the database: %s", exc)
                self.breaker.trip()
                found = None
            if found is not None:
                return await self._hydrate(session, user_id=user_id, found=found)
        ids = await sql_home_ids(session, user_id=user_id, cursor=cursor)
        return await self._hydrate_from_db(session, user_id=user_id, ids=ids)

    async def _hydrate_from_db(
        self, session: AsyncSession, *, user_id: int, ids: list[int]
    ) -> list[PostView]:
        # Deleted posts and unfollowed authors leave at once, before background clean-up.
        posts = await timeline_service.visible_home_posts(session, user_id=user_id, ids=ids)
        return [posts[i] for i in ids if i in posts]

    async def _hydrate(
        self, session: AsyncSession, *, user_id: int, found: _Found
    ) -> list[PostView]:
        """Posts the cache returned, the rest and the authors from SQL."""
        assert self.cache is not None
        ids, cached, deleted = found
        missing = [i for i in ids if i not in cached and i not in deleted]
        rows = await timeline_service.visible_home_posts(session, user_id=user_id, ids=missing)
        # The same rule as the database path: the author is the reader or someone they follow.
        authors = await timeline_service.visible_authors(
            session, user_id=user_id, author_ids={c.author_id for c in cached.values()}
        )
        shown: dict[int, PostView] = dict(rows)
        for post_id, data in cached.items():
            if data.author_id in authors:
                shown[post_id] = data.with_author(authors[data.author_id])
        if rows:
            try:
                await self.cache.posts.put_many(rows.values())
            except RedisError as exc:
                log.warning("could not cache posts: %s", exc)
        return [shown[i] for i in ids if i in shown]

    async def delete_post(self, session: AsyncSession, *, post: Post, actor: User) -> None:
        """Delete a post (its author only), commit, and hide it from cached reads at once.

        The cache is told only after the commit, so a failed delete never hides a post; if
        Redis is down the purge job repeats the tombstone when it is back.
        """
        await posts_service.delete_post(session, post=post, actor=actor)
        await session.commit()
        await self.forget_posts([post.id])

    async def forget_posts(self, post_ids: list[int]) -> None:
        """Hide deleted posts from cached reads at once."""
        if self.cache is None:
            return
        try:
            await self.cache.posts.forget(post_ids)
        except RedisError as exc:
            log.warning("could not mark posts deleted in the cache: %s", exc)

    async def _from_cache(
        self, session: AsyncSession, *, user_id: int, cursor: Cursor
    ) -> _Found | None:
        """The page's ids and cached posts, or None when the database must answer."""
        assert self.cache is not None
        ascending = cursor.min_id is not None
        # Read first, so the timeline, the merge and the posts' data are one Redis call. The
        # script drops whichever of these fall below the timeline's floor.
        extra = await self.celebrities.recent_post_ids(session, user_id=user_id, cursor=cursor)
        if ascending:
            extra.reverse()  # page order
        cached = await self.cache.page(user_id, cursor, limit=cursor.limit, extra=extra)
        if cached is None:
            await self.rebuild(session, user_id=user_id)
            cached = await self.cache.page(user_id, cursor, limit=cursor.limit, extra=extra)
            if cached is None:
                return None
        floor = cached.floor
        lower = cursor.min_id if ascending else cursor.since_id
        if ascending and floor and (lower or 0) < floor:
            return None  # the range starts below what the cache holds: the database answers
        posts, deleted = PostCache.decode(cached.ids, cached.posts)
        ids = cached.ids
        if len(ids) < cursor.limit and floor and (lower or 0) < floor:
            # Past the cached part: continue from the database, so the timeline never ends early.
            below = Cursor(
                max_id=min(floor, cursor.max_id) if cursor.max_id else floor,
                since_id=cursor.since_id,
                limit=cursor.limit - len(ids),
            )
            ids = ids + await sql_home_ids(session, user_id=user_id, cursor=below)
        return (ids[::-1] if ascending else ids), posts, deleted

    async def rebuild(self, session: AsyncSession, *, user_id: int) -> None:
        """Fill a user's Redis timeline from the database."""
        assert self.cache is not None
        cap = self.settings.timeline_cache_size
        await self.cache.start_rebuild(user_id)
        ids = await sql_home_ids(session, user_id=user_id, cursor=Cursor(limit=cap))
        floor = ids[-1] if len(ids) >= cap else 0
        await self.cache.finish_rebuild(user_id, ids, floor=floor)

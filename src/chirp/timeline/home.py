"""The home timeline read path: Redis when enabled for the user, the database otherwise."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from chirp import visibility as post_visibility
from chirp.config import Settings
from chirp.follows import service as follows_service
from chirp.pagination import Cursor
from chirp.posts import feed
from chirp.posts import service as posts_service
from chirp.posts.models import Post, PostView
from chirp.posts.state import State
from chirp.redis_client import Breaker
from chirp.timeline import fanout
from chirp.timeline import reposts as timeline_reposts
from chirp.timeline import service as timeline_service
from chirp.timeline.cache import CachedPage, TimelineCache
from chirp.timeline.celebrities import CelebrityCache, is_celebrity
from chirp.timeline.post_cache import CachedPost, PostCache
from chirp.timeline.recovery import Recovery
from chirp.users.models import User

log = logging.getLogger("chirp.timeline")


@dataclass(frozen=True, slots=True)
class _Found:
    """A page read from the cache."""

    ids: list[int]
    # The posts the cache held, and those it knows deleted.
    posts: dict[int, CachedPost]
    deleted: set[int]
    # The originals of the page's reposts that the page script looked up (``asked``), and
    # those of them it held.
    shared: dict[int, CachedPost]
    asked: set[int]


# Rounds of filling what Redis lacks for a page (timeline, followed large accounts, their
# lists) before the database answers instead.
_FILLS = 4


# Reads of the cache for one page: more are needed only while filtered-out posts (deleted,
# unfollowed, not yet cleaned up) leave it short; after these the database answers the rest.
_REFILLS = 3


def _join(shown: list[PostView], more: list[PostView], *, ascending: bool) -> list[PostView]:
    """Add a further read to a page, newest first (``min_id`` pages read upwards)."""
    return more + shown if ascending else shown + more


def _after(asked: Cursor, ids: list[int], *, want: int) -> Cursor | None:
    """The cursor past ``ids`` for the ``want`` posts a page still lacks; None if complete.

    ``ids`` are what the read made with ``asked`` returned before filtering: fewer than it
    asked for means the timeline ends there.
    """
    if want <= 0 or not ids or len(ids) < asked.limit:
        return None
    if asked.min_id is not None:
        return Cursor(max_id=asked.max_id, min_id=max(ids), limit=want)
    return Cursor(max_id=min(ids), since_id=asked.since_id, limit=want)


def in_redis_rollout(user_id: int, percent: int) -> bool:
    """Whether this user's timeline is served from Redis (stable for a given percentage)."""
    if percent >= 100:
        return True
    if percent <= 0:
        return False
    bucket = int.from_bytes(hashlib.blake2b(str(user_id).encode(), digest_size=4).digest(), "big")
    return bucket % 100 < percent


def _shared(
    original: CachedPost | Post | None,
    live: dict[int, timeline_service.HomeRow],
    states: dict[int, State],
) -> PostView | None:
    """A repost's original as the page shows it, if it exists and the reader may see it.

    A followers-only original only when the reader follows its author; the feed looks again
    at any original left out here.
    """
    row = live.get(original.id) if original is not None else None
    if original is None or row is None:
        return None
    if original.visibility == post_visibility.PRIVATE and not row.followed:
        return None
    if isinstance(original, Post):
        return original
    return original.with_author(row.author, state=states[original.id])


class HomeTimeline:
    """Reads home timelines; one per app, sharing its Redis connection."""

    def __init__(self, settings: Settings, cache: TimelineCache | None) -> None:
        self.settings = settings
        self.cache = cache
        self.breaker = Breaker()
        self.recovery = Recovery()
        self.celebrities = CelebrityCache(settings.fanout_max_followers)

    def uses_redis(self, user_id: int) -> bool:
        """Whether this user's reads go through Redis right now."""
        return (
            self.cache is not None
            and self.breaker.closed
            and in_redis_rollout(user_id, self.settings.redis_timeline_percent)
        )

    async def page(self, session: AsyncSession, *, user_id: int, cursor: Cursor) -> list[PostView]:
        """Return one page of the home timeline, newest first."""
        ascending = cursor.min_id is not None
        shown: list[PostView] = []
        rest: Cursor | None = cursor
        hiding = timeline_reposts.HidingReblogs(user_id)
        for _ in range(_REFILLS):
            if rest is None or not self.uses_redis(user_id):
                break
            found = await self._cache_read(session, user_id=user_id, cursor=rest)
            if found is None:
                break
            views = await self._hydrate(session, user_id=user_id, found=found, hiding=hiding)
            shown = await hiding.tidy(session, _join(shown, views, ascending=ascending))
            # Cached ids whose posts were deleted or whose authors were unfollowed are
            # filtered out before their clean-up jobs run, and so are reposts shown already
            # (see ``timeline.reposts``): read on past them, so a page is short only where it ends.
            rest = _after(rest, found.ids, want=cursor.limit - len(shown))
        for _ in range(_REFILLS):
            if rest is None:
                break
            ids = await timeline_service.home_post_ids(session, user_id=user_id, cursor=rest)
            views = await self._hydrate_from_db(session, user_id=user_id, ids=ids)
            shown = await hiding.tidy(session, _join(shown, views, ascending=ascending))
            rest = _after(rest, ids, want=cursor.limit - len(shown))
        return shown

    async def _cache_read(
        self, session: AsyncSession, *, user_id: int, cursor: Cursor
    ) -> _Found | None:
        """A page from Redis, or None when the database must answer (Redis failed or lacks it)."""
        assert self.cache is not None
        try:
            found = None
            if await self.recovery.caught_up(session, self.cache.redis):
                found = await self._from_cache(session, user_id=user_id, cursor=cursor)
            self.breaker.reset()
        except RedisError as exc:
            # Redis is a cache: answer from the database and stop asking it for a while.
            log.warning("timeline cache unavailable, reading from the database: %s", exc)
            self._failed()
            found = None
        return found

    def _failed(self) -> None:
        """Redis failed: stop asking it for a while, then catch up before reading it."""
        self.breaker.trip()
        self.recovery.missed_writes()

    async def _hydrate_from_db(
        self, session: AsyncSession, *, user_id: int, ids: list[int]
    ) -> list[PostView]:
        # Deleted posts and unfollowed authors leave at once, before background clean-up.
        posts = await timeline_service.visible_home_posts(session, user_id=user_id, ids=ids)
        return [posts[i] for i in ids if i in posts]

    async def _hydrate(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        found: _Found,
        hiding: timeline_reposts.HidingReblogs,
    ) -> list[PostView]:
        """Posts the cache returned with what changes from SQL, in one query for the page:
        authors, whom the reader follows, whose reposts they hide, counts and own state."""
        assert self.cache is not None
        ids, cached = found.ids, found.posts
        missing = [i for i in ids if i not in cached and i not in found.deleted]
        rows = await timeline_service.visible_home_posts(session, user_id=user_id, ids=missing)
        originals = await self._originals(session, found, rows.values())
        live = await timeline_service.home_rows(
            session, user_id=user_id, post_ids=[*cached, *originals]
        )
        states = {post_id: row.state for post_id, row in live.items()}
        reacted = [post_id for post_id, row in live.items() if row.reacted]
        states = await feed.with_reactions(session, states, reacted, viewer_id=user_id)
        followed = {row.author.id for row in live.values() if row.followed}
        hiding.learn(followed, {row.author.id for row in live.values() if row.hides_reblogs})
        shown: dict[int, PostView] = dict(rows)
        for post_id, data in cached.items():
            row = live.get(post_id)
            # The same rules as the database path: gone if deleted since it was cached; the
            # author is the reader or someone they follow; Mastodon's home rule for replies
            # (large accounts' posts, merged at read time, and replies whose account was
            # unfollowed since are filtered here).
            if row is None or not row.followed or data.visibility == post_visibility.DIRECT:
                continue
            replied_to = data.in_reply_to_account_id
            answered = {replied_to} if row.answers_followed and replied_to is not None else set()
            if not timeline_service.shows_reply(
                user_id=user_id,
                author_id=data.author_id,
                replied_to=replied_to,
                followed=answered,
            ):
                continue
            shared = _shared(originals.get(data.reblog_of_id or 0), live, states)
            shown[post_id] = data.with_author(row.author, shared=shared, state=states[post_id])
        await self._cache_posts(rows.values())
        return [shown[i] for i in ids if i in shown]

    async def _originals(
        self, session: AsyncSession, found: _Found, read: Iterable[Post]
    ) -> dict[int, CachedPost | Post]:
        """The posts that a page's reposts share (those not on the page themselves): as the
        page script read them, the rest from the database, and cached for the next read.

        ``read``: the page's posts that the cache lacked, read from the database. Their
        originals are cached too, so that a page's second read needs no database but its
        one query (the first read of a timeline finds few posts cached).

        Entries cached by an earlier release name the original as a number, which the page
        script cannot read exactly: those are asked of Redis here.
        """
        assert self.cache is not None
        posts: Iterable[CachedPost | Post] = itertools.chain(found.posts.values(), read)
        shares = {p.reblog_of_id for p in posts if p.reblog_of_id is not None}
        wanted = shares - set(found.ids)
        if not wanted:
            return {}
        out: dict[int, CachedPost | Post] = {
            i: found.shared[i] for i in wanted if i in found.shared
        }
        unasked = sorted(wanted - found.asked)
        try:
            hits, _ = await self.cache.posts.get_many(unasked)
        except RedisError as exc:
            log.warning("could not read cached posts: %s", exc)
            return out  # the feed reads the rest from the database
        out.update(hits)
        rows = await feed.posts_by_id(session, [i for i in wanted if i not in out])
        out.update(rows)
        await self._cache_posts(rows.values())
        return out

    async def _cache_posts(self, posts: Collection[Post]) -> None:
        """Cache posts read from the database; the next read does it if Redis fails now."""
        assert self.cache is not None
        if not posts:
            return
        try:
            await self.cache.posts.put_many(posts)
        except RedisError as exc:
            log.warning("could not cache posts: %s", exc)

    async def delete_post(self, session: AsyncSession, *, post: Post, actor: User) -> None:
        """Delete a post (its author only), commit, and hide it from cached reads at once.

        The cache is told only after the commit, so a failed delete never hides a post; if
        Redis is down the purge job repeats the tombstone when it is back.
        """
        reposts = await posts_service.delete_post(session, post=post, actor=actor)
        await session.commit()
        # Its reposts went with it: hidden at once too (their purge jobs follow).
        await self.forget_posts([post.id, *reposts])

    async def follow(
        self,
        session: AsyncSession,
        *,
        follower: User,
        followee: User,
        reblogs: bool | None = None,
        notify: bool | None = None,
    ) -> bool:
        """Follow, commit, and bring the followee's recent posts into the follower's cached
        timeline at once; return False if they already followed (options still change).

        The job of the follow does the same moments later (and again if this fails); doing
        it within the request puts the posts on the follower's very next read.
        """
        changed = await follows_service.follow(
            session, follower=follower, followee=followee, reblogs=reblogs, notify=notify
        )
        await session.commit()
        if changed:
            await self._after_commit(fanout.merge_followee_posts, session, follower, followee)
        return changed

    async def unfollow(self, session: AsyncSession, *, follower: User, followee: User) -> bool:
        """Unfollow, commit, and take the account's posts out of the cached timeline at once.

        Reads filter them out anyway; removing them too keeps the next pages full.
        """
        changed = await follows_service.unfollow(session, follower=follower, followee=followee)
        await session.commit()
        if changed:
            await self._after_commit(fanout.purge_followee_posts, session, follower, followee)
        return changed

    async def _after_commit(
        self,
        change: Callable[..., Awaitable[None]],
        session: AsyncSession,
        follower: User,
        followee: User,
    ) -> None:
        if self.cache is None or not self.breaker.closed:
            return
        try:
            await change(session, self.cache, follower_id=follower.id, followee_id=followee.id)
        except RedisError as exc:
            # Reads go to the database meanwhile; the (un)follow's job repeats this.
            log.warning("could not update a cached timeline after a follow or unfollow: %s", exc)
            self._failed()

    async def refresh_posts(self, post_ids: list[int]) -> None:
        """Drop posts' cached data after a change (their quote policy): read again on use."""
        if self.cache is None:
            return
        try:
            await self.cache.posts.refresh(post_ids)
        except RedisError as exc:
            log.warning("could not refresh cached posts: %s", exc)

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
        cached = await self._cached_page(session, user_id=user_id, cursor=cursor)
        if cached is None:
            return None
        ascending = cursor.min_id is not None
        floor = cached.floor
        lower = cursor.min_id if ascending else cursor.since_id
        if ascending and floor and (lower or 0) < floor:
            return None  # the range starts below what the cache holds: the database answers
        posts, deleted = PostCache.decode(cached.ids, cached.posts)
        shared, _ = PostCache.decode(list(cached.shared), list(cached.shared.values()))
        ids = cached.ids
        if len(ids) < cursor.limit and floor and (lower or 0) < floor:
            # Past the cached part: continue from the database, so the timeline never ends early.
            below = Cursor(
                max_id=min(floor, cursor.max_id) if cursor.max_id else floor,
                since_id=cursor.since_id,
                limit=cursor.limit - len(ids),
            )
            ids = ids + await timeline_service.home_post_ids(session, user_id=user_id, cursor=below)
        ids = ids[::-1] if ascending else ids
        return _Found(ids, posts, deleted, shared, set(cached.shared))

    async def _cached_page(
        self, session: AsyncSession, *, user_id: int, cursor: Cursor
    ) -> CachedPage | None:
        """One Redis call for a warm page; each thing it lacks is filled from the database."""
        assert self.cache is not None
        large, generation = await self.celebrities.current(session)
        for _ in range(_FILLS):
            found = await self.cache.page(
                user_id, cursor, limit=cursor.limit, generation=generation
            )
            if isinstance(found, CachedPage):
                return found
            if found.timeline:
                await self.rebuild(session, user_id=user_id)
            elif found.followed_large:
                mark = await self.cache.start_followed_large(user_id)
                followed = await follows_service.following_ids(
                    session, viewer_id=user_id, candidates=large
                )
                await self.cache.finish_followed_large(
                    user_id, mark=mark, generation=generation, author_ids=followed
                )
            for author_id in found.author_lists:
                await self.rebuild_author(session, author_id=author_id)
        return None  # still changing under us: the database answers this once

    async def rebuild(self, session: AsyncSession, *, user_id: int) -> bool:
        """Fill a user's Redis timeline from the database; False if it could not be stored."""
        assert self.cache is not None
        cap = self.settings.timeline_cache_size
        token = await self.cache.start_rebuild(user_id)
        newest = Cursor(limit=cap)
        ids = await timeline_service.home_post_ids(session, user_id=user_id, cursor=newest)
        floor = ids[-1] if len(ids) >= cap else 0
        shares = await timeline_service.reposts_among(session, ids)
        kept, shared, moved = timeline_reposts.keep_one_repost(ids, shares)
        stored = await self.cache.finish_rebuild(user_id, kept, floor=floor, token=token)
        if stored:
            await self.cache.remember_reposts(user_id, shared, moved)
        return stored

    async def rebuild_author(self, session: AsyncSession, *, author_id: int) -> bool:
        """Fill a large account's list of recent posts from the database (as ``rebuild``)."""
        assert self.cache is not None
        cap = self.settings.timeline_cache_size
        token = await self.cache.start_author_rebuild(author_id)
        ids = await posts_service.recent_ids(session, author_id=author_id, limit=cap)
        floor = ids[-1] if len(ids) >= cap else 0
        return await self.cache.finish_author_rebuild(author_id, ids, floor=floor, token=token)

    async def published(self, post: Post) -> None:
        """Put a just-committed post where its author's next read finds it.

        The fan-out job does the same (and more) moments later; doing it now means the
        author, and every follower of a large account, see the post on their very next read.
        """
        if post.visibility == post_visibility.DIRECT:
            return  # in no home timeline: its participants read it in their conversations
        if self.cache is None or not self.breaker.closed:
            return
        writes = [
            self.cache.posts.put_many([post]),
            self.cache.add_own(post.id, post.author_id, post.reblog_of_id),
        ]
        if is_celebrity(post.author.followers_count, self.settings.fanout_max_followers):
            writes.append(self.cache.add_author_posts([post.id], post.author_id))
        try:
            await asyncio.gather(*writes)  # independent: side by side, one round trip's wait
        except RedisError as exc:
            log.warning("could not cache a new post, its fan-out job will: %s", exc)
            self._failed()

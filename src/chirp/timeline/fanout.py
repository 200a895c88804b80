"""The timeline write path: jobs that keep materialised home timelines in step."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chirp import visibility as post_visibility
from chirp.follows import service as follows_service
from chirp.jobs import kinds
from chirp.jobs.worker import Handler, JobContext
from chirp.posts import service as posts_service
from chirp.streaming import events
from chirp.timeline import service as timeline_service
from chirp.timeline.cache import TimelineCache
from chirp.timeline.celebrities import is_celebrity


async def _follower_batches(
    session: AsyncSession, ctx: JobContext, author_id: int, *, reblogs: bool = False
) -> AsyncIterator[list[int]]:
    # Every follower, active or not: the Redis scripts write only to timelines that exist,
    # and a timeline exists only while its owner reads it (it expires an hour before
    # CHIRP_ACTIVE_DAYS of not reading), so Redis skips the inactive. Filtering on
    # users.last_active_at in SQL as well read a users row per follower, most of a fan-out's
    # database time, to save an EXISTS in Redis.
    size = ctx.settings.fanout_batch_size
    after = 0
    while True:
        batch = await follows_service.follower_batch(
            session, followee_id=author_id, after_id=after, limit=size, reblogs=reblogs
        )
        if batch:
            yield [follower_id for _, follower_id in batch]
            after = batch[-1][0]
        if len(batch) < size:
            return


async def _for_followers(
    session: AsyncSession,
    ctx: JobContext,
    author_id: int,
    write: Callable[[list[int]], Awaitable[object]],
    *,
    reblogs: bool = False,
) -> None:
    """Apply ``write`` to each batch of active followers.

    The next batch is read from the database while the last one is written to Redis, so the
    two servers work at the same time instead of taking turns.
    """
    pending: asyncio.Task[object] | None = None
    try:
        async for follower_ids in _follower_batches(session, ctx, author_id, reblogs=reblogs):
            if pending is not None:
                await pending
            pending = asyncio.ensure_future(write(follower_ids))
        if pending is not None:
            await pending
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            await asyncio.wait([pending])


async def fanout_post(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Insert a new post into its author's and active followers' timelines (idempotent)."""
    cache = ctx.timeline_cache
    if cache is None and ctx.events is None:
        return
    async with ctx.session_factory() as session:
        post = await posts_service.get_post(session, int(payload["post_id"]))
        if post is None:
            return  # deleted before it was fanned out
        # Before the fan-out: open streams show it at once, whatever the follower count (a
        # direct message reaches its participants' `direct` streams only).
        await events.publish(ctx.events, events.post_created(post))
        if cache is None or post.visibility == post_visibility.DIRECT:
            return  # a direct message is in no home timeline, its author's neither
        # Followers are about to read it; the author's own timeline too, in case the request
        # could not write it. Side by side: independent writes, one round trip's wait.
        await asyncio.gather(
            cache.posts.put_many([post]),
            cache.add_own(post.id, post.author_id, post.reblog_of_id),
        )
        if is_celebrity(post.author.followers_count, ctx.settings.fanout_max_followers):
            # Merged into its followers' pages at read time instead.
            await cache.add_author_posts([post.id], post.author_id)
            return
        original = post.reblog_of_id
        if original is not None:
            # A repost: only to followers who see the author's reposts, one per shared post.
            await _for_followers(
                session,
                ctx,
                post.author_id,
                lambda ids: cache.add_repost(post.id, original, ids),
                reblogs=True,
            )
            return
        replied_to = post.in_reply_to_account_id
        if replied_to is None or replied_to == post.author_id:
            # Not a reply, or a thread: every follower's home shows it.
            await _for_followers(
                session, ctx, post.author_id, lambda ids: cache.add([post.id], ids)
            )
            return
        # Mastodon's home rule: a reply to another account reaches only the followers who are
        # that account or follow it too. Batch by batch, one after the other: each batch's
        # filter reads the same session the next batch would.
        async for follower_ids in _follower_batches(session, ctx, post.author_id):
            among = await follows_service.followers_among(
                session, followee_id=replied_to, candidates=follower_ids
            )
            among.update(i for i in follower_ids if i == replied_to)
            await cache.add([post.id], sorted(among))


async def purge_post(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Remove a deleted post from timelines (reads already filter it out)."""
    await events.publish(ctx.events, events.post_deleted(payload))
    cache = ctx.timeline_cache
    if cache is None:
        return
    post_id, author_id = int(payload["post_id"]), int(payload["author_id"])
    await cache.posts.forget([post_id])  # in case the request could not (Redis was down)
    await cache.remove([post_id], [author_id])
    await cache.remove_author_posts([post_id], author_id)
    async with ctx.session_factory() as session:
        await _for_followers(session, ctx, author_id, lambda ids: cache.remove([post_id], ids))


async def merge_followee_posts(
    session: AsyncSession, cache: TimelineCache, *, follower_id: int, followee_id: int
) -> None:
    """Bring a followed account's recent posts, and the replies to it by the accounts the
    follower follows already, into the follower's timeline (idempotent)."""
    await cache.forget_followed_large(follower_id)  # looked up again on their next read
    if not await follows_service.is_following(
        session, follower_id=follower_id, followee_id=followee_id
    ):
        return  # unfollowed again since
    floor = await cache.floor(follower_id)
    if floor is None:
        # No complete timeline: the next read builds one from the database, after this
        # follow. A rebuild under way may have read before it, so it stores nothing.
        await cache.cancel_rebuild(follower_id)
        return
    # Only the posts the home rule lets in: replies to accounts the follower does not follow
    # stay out (reads filter them anyway; leaving them out keeps pages full).
    ids = await timeline_service.followee_post_ids(
        session, user_id=follower_id, author_id=followee_id, limit=cache.cap
    )
    implied = ids[-1] if len(ids) >= cache.cap else 0
    # The rule now lets in the replies to this account by those the follower follows
    # already, as far down as the timeline holds posts. They need no floor of their own: a
    # complete list is never empty (it holds the all-zeros member until a trim drops it), so
    # a full window of them overfills it, and the trim sets the floor among them.
    replies = await timeline_service.followed_reply_ids(
        session, user_id=follower_id, account_id=followee_id, low=floor, limit=cache.cap
    )
    shares = await timeline_service.reposts_among(session, ids)
    posts = [*(i for i in ids if i not in shares), *replies]
    await cache.add(posts, [follower_id], implied_floor=implied)
    hidden = await follows_service.hiding_reblogs(
        session, follower_id=follower_id, candidates=[followee_id]
    )
    if shares and not hidden:
        # After the posts, oldest first: as fan-out would have delivered them (ADD_REPOST).
        await cache.add_reposts(sorted(shares.items()), follower_id)


async def purge_followee_posts(
    session: AsyncSession, cache: TimelineCache, *, follower_id: int, followee_id: int
) -> None:
    """Remove an unfollowed account's posts, and the replies to it by the accounts the
    former follower still follows, from their timeline (idempotent)."""
    await cache.forget_followed_large(follower_id)
    if await follows_service.is_following(
        session, follower_id=follower_id, followee_id=followee_id
    ):
        return  # followed again since
    lowest = await cache.lowest(follower_id)
    ids = await posts_service.recent_ids(
        session, author_id=followee_id, limit=cache.cap, since=lowest
    )
    # The home rule no longer lets those replies in (reads filter them; removing them keeps
    # the next pages full).
    replies = await timeline_service.followed_reply_ids(
        session, user_id=follower_id, account_id=followee_id, low=lowest, limit=cache.cap
    )
    await cache.remove([*ids, *replies], [follower_id])


async def merge_followee(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Bring a newly followed account's recent posts into the follower's timeline."""
    follower_id, followee_id = int(payload["follower_id"]), int(payload["followee_id"])
    await events.publish(
        ctx.events, events.follow_changed(follower_id=follower_id, followee_id=followee_id)
    )
    if ctx.timeline_cache is None:
        return
    async with ctx.session_factory() as session:
        await merge_followee_posts(
            session,
            ctx.timeline_cache,
            follower_id=follower_id,
            followee_id=followee_id,
        )


async def purge_followee(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Remove an unfollowed account's posts from the former follower's timeline."""
    follower_id, followee_id = int(payload["follower_id"]), int(payload["followee_id"])
    await events.publish(
        ctx.events, events.follow_changed(follower_id=follower_id, followee_id=followee_id)
    )
    if ctx.timeline_cache is None:
        return
    async with ctx.session_factory() as session:
        await purge_followee_posts(
            session,
            ctx.timeline_cache,
            follower_id=follower_id,
            followee_id=followee_id,
        )


HANDLERS: dict[str, Handler] = {
    kinds.POST_CREATED: fanout_post,
    kinds.POST_DELETED: purge_post,
    kinds.FOLLOWED: merge_followee,
    kinds.UNFOLLOWED: purge_followee,
}

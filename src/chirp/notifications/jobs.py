"""Background jobs that create notifications: idempotent, so a retry or a crash adds none twice.

Each job reads the act again (it may have been taken back, or its post deleted, since it was
queued) and inserts with ``ON CONFLICT DO NOTHING`` against ``uq_notifications_act``: one act
is one notification however often its job runs, and like, unlike, like again is one too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp import visibility as post_visibility
from chirp.db import insert_ignoring_duplicates, utcnow
from chirp.follows import service as follows_service
from chirp.follows.models import Follow
from chirp.ids import new_id
from chirp.jobs import kinds
from chirp.jobs.worker import Handler, JobContext
from chirp.likes.models import Favourite
from chirp.notifications import grouping, types
from chirp.notifications.models import Notification
from chirp.posts.mentions import mentioned_ids
from chirp.posts.models import Post
from chirp.reactions.models import Reaction
from chirp.streaming import events

log = logging.getLogger("chirp.notifications")

_NOTIFICATIONS = cast(Table, Notification.__table__)


@dataclass(frozen=True)
class Act:
    """Something ``from_account_id`` did that ``user_id`` is told about."""

    user_id: int
    type: str
    from_account_id: int
    post_id: int | None
    acted_at: datetime
    emoji: str = ""


@dataclass(frozen=True)
class Created:
    """A notification just committed."""

    id: int
    user_id: int
    type: str


async def notify_post(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Notify whom a new post mentions, answers or quotes, or the author of what it reposts."""
    async with ctx.session_factory() as session:
        post = await session.get(Post, int(payload["post_id"]))
        if post is None:
            return  # deleted before its job ran: nobody is told of it
        acts = await _post_acts(session, post)
        created = await _insert(session, acts)
        await session.commit()
    for item in created:
        await _created(ctx, item)


async def notify_act(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Notify of a follow, like or reaction, if it still stands."""
    act_type = str(payload["type"])
    user_id, from_id = int(payload["user_id"]), int(payload["from_account_id"])
    post_id = int(payload["post_id"]) if payload.get("post_id") is not None else None
    emoji = str(payload.get("emoji") or "")
    async with ctx.session_factory() as session:
        acted_at = await _still_stands(
            session, act_type, user_id=user_id, from_id=from_id, post_id=post_id, emoji=emoji
        )
        if acted_at is None:
            return  # taken back (or its post deleted) before the job ran
        act = Act(user_id, act_type, from_id, post_id, acted_at, emoji)
        created = await _insert(session, [act])
        await session.commit()
    for item in created:
        await _created(ctx, item)


async def _created(ctx: JobContext, created: Created) -> None:
    """A notification row has just been committed: the one place that learns of each."""
    log.debug("notification %s (%s) for user %s", created.id, created.type, created.user_id)
    # Live: the recipient's open streams (any web process) show it, and the badge moves.
    await events.publish_notification(
        ctx.events, user_id=created.user_id, notification_id=created.id
    )


async def _still_stands(
    session: AsyncSession,
    act_type: str,
    *,
    user_id: int,
    from_id: int,
    post_id: int | None,
    emoji: str,
) -> datetime | None:
    """When the act was done, if it still stands (None: undone, or its post is gone)."""
    if act_type == types.FOLLOW:
        stmt: Any = select(Follow.created_at).where(
            Follow.follower_id == from_id, Follow.followee_id == user_id
        )
    elif act_type == types.FAVOURITE:
        stmt = select(Favourite.created_at).where(
            Favourite.user_id == from_id, Favourite.post_id == post_id
        )
    elif act_type == types.REACTION:
        stmt = select(Reaction.created_at).where(
            Reaction.user_id == from_id, Reaction.post_id == post_id, Reaction.emoji == emoji
        )
    else:
        raise ValueError(f"not an act Chirp notifies of: {act_type!r}")
    found: datetime | None = (await session.execute(stmt.limit(1))).scalar_one_or_none()
    return found


async def _post_acts(session: AsyncSession, post: Post) -> list[Act]:
    """Whom a post concerns, other than its author, among those who may see it."""
    author = post.author_id
    if post.reblog_of_id is not None:
        original = await session.get(Post, post.reblog_of_id)
        if original is None or original.author_id == author:
            return []
        return [Act(original.author_id, types.REBLOG, author, original.id, post.created_at)]
    mentioned = [uid for uid in mentioned_ids(post.mentions) if uid != author]
    told = dict.fromkeys(mentioned)
    if post.in_reply_to_account_id not in (None, author):
        told[int(post.in_reply_to_account_id)] = None
    quoted_author = None
    if post.quote_of_id is not None:
        quoted = await session.get(Post, post.quote_of_id)
        if quoted is not None and quoted.author_id != author:
            quoted_author = quoted.author_id
    everyone = [*told, *([quoted_author] if quoted_author is not None else [])]
    seeing = await _who_may_see(session, post, everyone, mentioned=set(mentioned))
    acts = [
        Act(uid, types.MENTION, author, post.id, post.created_at) for uid in told if uid in seeing
    ]
    if quoted_author is not None and quoted_author in seeing:
        acts.append(Act(quoted_author, types.QUOTE, author, post.id, post.created_at))
    return acts


async def _who_may_see(
    session: AsyncSession, post: Post, candidates: list[int], *, mentioned: set[int]
) -> set[int]:
    """Which of ``candidates`` may see ``post``: nobody is told of a post they cannot open."""
    if post.visibility in (post_visibility.PUBLIC, post_visibility.UNLISTED):
        return set(candidates)
    if post.visibility == post_visibility.PRIVATE:
        return await follows_service.followers_among(
            session, followee_id=post.author_id, candidates=candidates
        )
    # A direct message: its participants are the accounts it mentions.
    return {uid for uid in candidates if uid in mentioned}


async def _insert(session: AsyncSession, acts: list[Act]) -> list[Created]:
    """Insert a notification per act, skipping acts already notified; return those inserted."""
    created = []
    for act in acts:
        notification_id = new_id()
        key = await grouping.group_key(
            session,
            notification_id=notification_id,
            user_id=act.user_id,
            type_=act.type,
            post_id=act.post_id,
            acted_at=act.acted_at,
        )
        values = {
            "id": notification_id,
            "user_id": act.user_id,
            "type": act.type,
            "from_account_id": act.from_account_id,
            "post_id": act.post_id,
            "target_id": act.post_id or 0,
            "emoji": act.emoji,
            "group_key": key,
            "created_at": utcnow(),
        }
        stmt = insert_ignoring_duplicates(session, _NOTIFICATIONS, values)
        inserted = (await session.execute(stmt.returning(_NOTIFICATIONS.c.id))).first()
        if inserted is not None:
            created.append(Created(notification_id, act.user_id, act.type))
    return created


HANDLERS: dict[str, Handler] = {
    kinds.NOTIFY_POST: notify_post,
    kinds.NOTIFY_ACT: notify_act,
}

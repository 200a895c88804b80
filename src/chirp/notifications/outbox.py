"""Notifications in the transaction of the act: jobs that tell (never for self), and take-backs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Insert, delete
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.jobs import kinds, queue
from chirp.notifications.models import Notification
from chirp.posts.mentions import mentioned_ids


async def act(
    session: AsyncSession,
    *,
    type: str,
    user_id: int,
    from_account_id: int,
    post_id: int | None = None,
    emoji: str = "",
) -> None:
    """Queue telling ``user_id`` of an act (a follow, a like, a reaction) by another account."""
    if user_id == from_account_id:
        return
    payload = {
        "type": type,
        "user_id": user_id,
        "from_account_id": from_account_id,
        "post_id": post_id,
        "emoji": emoji,
    }
    await queue.enqueue(session, kinds.NOTIFY_ACT, payload)


async def withdraw(
    session: AsyncSession,
    *,
    type: str,
    user_id: int,
    from_account_id: int,
    post_id: int | None = None,
    emoji: str = "",
) -> None:
    """Remove the notification of an act taken back (an unlike, an unfollow), as Mastodon does.

    A job for the act not yet run finds the act gone and tells nobody.
    """
    await session.execute(
        delete(Notification).where(
            Notification.user_id == user_id,
            Notification.type == type,
            Notification.from_account_id == from_account_id,
            Notification.target_id == (post_id or 0),
            Notification.emoji == emoji,
        )
    )


def post_notifies(values: Mapping[str, Any], *, quoted_author_id: int | None = None) -> bool:
    """Whether a new post (its column ``values``) mentions, answers or quotes someone else."""
    author = values["author_id"]
    if any(user_id != author for user_id in mentioned_ids(values["mentions"])):
        return True
    if values["in_reply_to_account_id"] not in (None, author):
        return True
    return quoted_author_id is not None and quoted_author_id != author


def post_job(post_id: int) -> Insert:
    """The job row that notifies whom a new post (or repost) concerns, for a larger statement."""
    return queue.job_insert(kinds.NOTIFY_POST, {"post_id": post_id})


async def post(session: AsyncSession, *, post_id: int) -> None:
    """Queue the notifications of a new post or repost (callers check there is someone)."""
    await session.execute(post_job(post_id))

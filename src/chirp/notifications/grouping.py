"""Group keys as Mastodon 4.3 gives them: which notifications are shown as one."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import utcnow
from chirp.ids import id_at
from chirp.notifications import types
from chirp.notifications.models import Notification

# A group spans at most this many hours from its first notification (Mastodon's
# MAXIMUM_GROUP_SPAN_HOURS); after that the same kind of act starts a new group.
MAX_SPAN_HOURS = 12


def ungrouped(notification_id: int) -> str:
    """The key of a notification shown on its own."""
    return f"ungrouped-{notification_id}"


def _prefix(type_: str, post_id: int | None) -> str | None:
    """What a group shares: likes or reposts of one post; follows. None: never grouped."""
    if type_ in (types.FAVOURITE, types.REBLOG):
        return f"{type_}-{post_id}"
    if type_ == types.FOLLOW:
        return type_
    return None


def latest_group_query(user_id: int, prefix: str) -> Select[str]:
    """The key of the user's newest notification of a group prefix made in the last
    MAX_SPAN_HOURS (reads only that window of their notifications)."""
    recent = id_at(utcnow() - timedelta(hours=MAX_SPAN_HOURS))
    return (
        select(Notification.group_key)
        .where(
            Notification.user_id == user_id,
            Notification.id >= recent,
            Notification.group_key.like(f"{prefix}-%"),
        )
        .order_by(Notification.id.desc())
        .limit(1)
    )


async def group_key(
    session: AsyncSession,
    *,
    notification_id: int,
    user_id: int,
    type_: str,
    post_id: int | None,
    acted_at: datetime,
) -> str:
    """The key of a new notification: ``<prefix>-<hour>`` for grouped types, else ungrouped.

    The hour is that of the act, or the hour of the latest group of the same prefix when that
    group began less than MAX_SPAN_HOURS earlier. Mastodon keeps the latest hour in Redis for
    MAX_SPAN_HOURS; here it is read back from the newest such notification of that window.
    """
    prefix = _prefix(type_, post_id)
    if prefix is None:
        return ungrouped(notification_id)
    hour = int(acted_at.timestamp()) // 3600
    previous = (await session.execute(latest_group_query(user_id, prefix))).scalar_one_or_none()
    if previous is not None:
        previous_hour = int(previous.rsplit("-", 1)[1])
        if hour < previous_hour + MAX_SPAN_HOURS:
            hour = previous_hour
    return f"{prefix}-{hour}"

"""Read, dismiss and count a user's notifications; the web pages and the API share these."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.errors import NotFound
from chirp.markers import service as markers_service
from chirp.notifications import types
from chirp.notifications.models import Notification
from chirp.pagination import Cursor, fetch_page
from chirp.posts import feed, seen
from chirp.posts.feed import Feed
from chirp.posts.models import Post, PostView
from chirp.users.models import User

# Mastodon's unread_count: 100 by default, at most 1,000.
UNREAD_DEFAULT = 100
UNREAD_MAX = 1000
# The navigation badge counts this many at most ("99+").
BADGE_CAP = 100


@dataclass(frozen=True)
class Filter:
    """Which notifications to list: by type (None: all) and from whom (None: anyone)."""

    types: Sequence[str] | None = None
    exclude_types: Sequence[str] = ()
    account_id: int | None = None

    def chosen_types(self) -> list[str] | None:
        """The types asked for, Mastodon's way: unknown names dropped; None when all are."""
        if self.types is None and not self.exclude_types:
            return None
        wanted = types.KNOWN if self.types is None else self.types
        return [
            t for t in dict.fromkeys(wanted) if t in types.KNOWN and t not in self.exclude_types
        ]


ALL = Filter()
MENTIONS = Filter(types=(types.MENTION,))


@dataclass
class Shown:
    """What showing notifications needs besides them: accounts and posts, loaded in bulk."""

    accounts: dict[int, User]
    feed: Feed
    # The posts notifications are about, by id, as the feed shows them.
    posts: dict[int, PostView]


@dataclass
class Listing:
    """Notifications, newest first, with what showing them needs."""

    notifications: list[Notification]
    shown: Shown


def visible_to(user_id: int) -> Any:
    """Notifications whose post ``user_id`` may still see (or that have none).

    Needs ``Post`` outer-joined on the notification's post. A follower told of a
    followers-only post who has since unfollowed is no longer shown it, as everywhere.
    """
    return or_(Notification.post_id.is_(None), seen.visible_to(user_id))


def browse_query(user_id: int, chosen: Filter = ALL) -> Select[Notification]:
    """A user's notifications that ``chosen`` selects and they may see (callers page by id)."""
    stmt = (
        select(Notification)
        .outerjoin(Post, Post.id == Notification.post_id)
        .where(Notification.user_id == user_id, visible_to(user_id))
    )
    wanted = chosen.chosen_types()
    if wanted is not None:
        stmt = stmt.where(Notification.type.in_(wanted))
    if chosen.account_id is not None:
        stmt = stmt.where(Notification.from_account_id == chosen.account_id)
    return stmt


async def page(
    session: AsyncSession, *, user: User, cursor: Cursor, chosen: Filter = ALL
) -> Listing:
    """One page of a user's notifications, newest first, ready to show."""
    found = await fetch_page(session, browse_query(user.id, chosen), Notification.id, cursor)
    return await hydrate(session, found, viewer=user)


async def get(session: AsyncSession, *, user: User, notification_id: int) -> Listing:
    """One of the user's notifications, ready to show; NotFound if not theirs or hidden."""
    stmt = browse_query(user.id).where(Notification.id == notification_id)
    found = (await session.execute(stmt)).scalars().first()
    if found is None:
        raise NotFound("Record not found")
    return await hydrate(session, [found], viewer=user)


async def hydrate(
    session: AsyncSession, notifications: Sequence[Notification], *, viewer: User
) -> Listing:
    """``notifications`` with their accounts and posts."""
    shown = await load_shown(
        session,
        account_ids={n.from_account_id for n in notifications},
        post_ids={n.post_id for n in notifications if n.post_id is not None},
        viewer=viewer,
    )
    return Listing(notifications=list(notifications), shown=shown)


async def load_shown(
    session: AsyncSession, *, account_ids: Collection[int], post_ids: Collection[int], viewer: User
) -> Shown:
    """Accounts and posts by id, as ``viewer`` sees them: one query per kind, whatever their
    number (the posts through the feed loader, with the viewer's likes and reposts)."""
    accounts = await accounts_by_id(session, account_ids)
    posts = sorted((await feed.posts_by_id(session, post_ids)).values(), key=lambda p: -p.id)
    loaded = await feed.load(session, posts, viewer=viewer)
    return Shown(accounts=accounts, feed=loaded, posts={p.id: p for p in loaded.posts})


async def accounts_by_id(session: AsyncSession, ids: Collection[int]) -> dict[int, User]:
    """Accounts by id."""
    if not ids:
        return {}
    rows = await session.execute(select(User).where(User.id.in_(set(ids))))
    return {user.id: user for user in rows.scalars()}


async def dismiss(session: AsyncSession, *, user_id: int, notification_id: int) -> None:
    """Delete one of the user's notifications; NotFound if they have none with that id."""
    result = await session.execute(
        delete(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("Record not found")


async def clear(session: AsyncSession, *, user_id: int) -> int:
    """Delete all of the user's notifications; return how many there were."""
    result = await session.execute(delete(Notification).where(Notification.user_id == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def unread_query(user_id: int, chosen: Filter, *, limit: int) -> Select[Any]:
    """How many notifications newer than the user's marker ``chosen`` selects, up to ``limit``."""
    last_read = func.coalesce(
        markers_service.last_read_query(user_id, markers_service.NOTIFICATIONS), 0
    )
    # Reads at most ``limit`` index entries of the user's newest notifications.
    newer = (
        browse_query(user_id, chosen)
        .with_only_columns(Notification.id)
        .where(Notification.id > last_read)
        .limit(limit)
        .subquery()
    )
    return select(func.count()).select_from(newer)


async def unread_count(
    session: AsyncSession, *, user_id: int, chosen: Filter = ALL, limit: int = UNREAD_DEFAULT
) -> int:
    """Unread notifications (newer than the notifications marker), counted up to ``limit``."""
    stmt = unread_query(user_id, chosen, limit=limit)
    return int((await session.execute(stmt)).scalar_one())


def badge(count: int) -> str:
    """The navigation's unread badge: nothing, the count, or "99+"."""
    if count <= 0:
        return ""
    return "99+" if count >= BADGE_CAP else str(count)


async def mark_read(session: AsyncSession, *, user_id: int, up_to: int) -> None:
    """Move the user's notifications marker forward to ``up_to`` (never back)."""
    await markers_service.move(
        session,
        user_id=user_id,
        positions={markers_service.NOTIFICATIONS: up_to},
        forward_only=True,
    )


async def newest_id(session: AsyncSession, *, user_id: int) -> int | None:
    """The id of the user's newest notification, if any."""
    stmt = (
        select(Notification.id)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()

"""Follow, unfollow, relationships and follower lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, delete, exists, false, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.errors import ValidationFailed
from chirp.follows.models import Follow
from chirp.jobs import kinds, queue
from chirp.notifications import outbox as notifications_outbox
from chirp.notifications import types as notification_types
from chirp.pagination import Cursor, fetch_rows
from chirp.users import service as users_service
from chirp.users.models import User


@dataclass(frozen=True)
class Relationship:
    """How the viewer and another account are related."""

    id: int
    following: bool
    followed_by: bool
    # The follow's options (false when not following), as Mastodon reports them.
    showing_reblogs: bool = False
    notifying: bool = False


async def follow(
    session: AsyncSession,
    *,
    follower: User,
    followee: User,
    reblogs: bool | None = None,
    notify: bool | None = None,
) -> bool:
    """Make ``follower`` follow ``followee``; return False if they already did.

    ``reblogs`` and ``notify`` set the follow's options (None: keep them, or the defaults
    for a new follow); following again with other values changes them, as on Mastodon.
    """
    if follower.id == followee.id:
        raise ValidationFailed("You can't follow yourself")
    options = {
        name: value
        for name, value in (("show_reblogs", reblogs), ("notify", notify))
        if value is not None
    }
    if await is_following(session, follower_id=follower.id, followee_id=followee.id):
        await _set_options(session, follower=follower, followee=followee, options=options)
        return False
    try:
        async with session.begin_nested():
            session.add(Follow(follower_id=follower.id, followee_id=followee.id, **options))
            await session.flush()
    except IntegrityError:
        # A concurrent request made the same follow first; these options still apply.
        await _set_options(session, follower=follower, followee=followee, options=options)
        return False
    await _bump_counts(session, follower=follower, followee=followee, delta=1)
    await queue.enqueue(session, kinds.FOLLOWED, _pair(follower, followee))
    await notifications_outbox.act(
        session,
        type=notification_types.FOLLOW,
        user_id=followee.id,
        from_account_id=follower.id,
    )
    return True


async def unfollow(session: AsyncSession, *, follower: User, followee: User) -> bool:
    """Make ``follower`` stop following ``followee``; return False if they did not."""
    result = await session.execute(
        delete(Follow).where(Follow.follower_id == follower.id, Follow.followee_id == followee.id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await _bump_counts(session, follower=follower, followee=followee, delta=-1)
    await queue.enqueue(session, kinds.UNFOLLOWED, _pair(follower, followee))
    await notifications_outbox.withdraw(
        session,
        type=notification_types.FOLLOW,
        user_id=followee.id,
        from_account_id=follower.id,
    )
    return True


async def _set_options(
    session: AsyncSession, *, follower: User, followee: User, options: dict[str, bool]
) -> None:
    if not options:
        return
    await session.execute(
        update(Follow)
        .where(Follow.follower_id == follower.id, Follow.followee_id == followee.id)
        .values(**options)
    )


def _pair(follower: User, followee: User) -> dict[str, int]:
    return {"follower_id": follower.id, "followee_id": followee.id}


async def _bump_counts(
    session: AsyncSession, *, follower: User, followee: User, delta: int
) -> None:
    await users_service.move_counter(session, follower, User.following_count, delta)
    await users_service.move_counter(session, followee, User.followers_count, delta)


async def is_following(session: AsyncSession, *, follower_id: int, followee_id: int) -> bool:
    """Whether one user follows another."""
    stmt = select(Follow.id).where(
        Follow.follower_id == follower_id, Follow.followee_id == followee_id
    )
    return (await session.execute(stmt)).first() is not None


def follower_batch_query(
    *, followee_id: int, after_id: int, limit: int, reblogs: bool
) -> Select[int, int]:
    """(follow id, follower id) of a user's followers after a follow id, in follow id order.

    ``reblogs``: only followers who see the user's reposts.
    """
    # Served by the (followee_id, id, follower_id) index alone: no row of users is read.
    stmt = (
        select(Follow.id, Follow.follower_id)
        .where(Follow.followee_id == followee_id, Follow.id > after_id)
        .order_by(Follow.id)
        .limit(limit)
    )
    if reblogs:
        # Reads the follows rows too (the option is not in the index): reposts only.
        stmt = stmt.where(Follow.show_reblogs == true())
    return stmt


async def follower_batch(
    session: AsyncSession, *, followee_id: int, after_id: int, limit: int, reblogs: bool = False
) -> list[tuple[int, int]]:
    """Return a batch of (follow id, follower id), for walking all of a user's followers."""
    stmt = follower_batch_query(
        followee_id=followee_id, after_id=after_id, limit=limit, reblogs=reblogs
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def following_ids(
    session: AsyncSession, *, viewer_id: int, candidates: Sequence[int]
) -> set[int]:
    """Return which of ``candidates`` the viewer follows."""
    if not candidates:
        return set()
    stmt = select(Follow.followee_id).where(
        Follow.follower_id == viewer_id, Follow.followee_id.in_(set(candidates))
    )
    return set((await session.execute(stmt)).scalars())


async def followers_among(
    session: AsyncSession, *, followee_id: int, candidates: Sequence[int]
) -> set[int]:
    """Return which of ``candidates`` follow ``followee_id``."""
    if not candidates:
        return set()
    stmt = select(Follow.follower_id).where(
        Follow.followee_id == followee_id, Follow.follower_id.in_(set(candidates))
    )
    return set((await session.execute(stmt)).scalars())


async def hiding_reblogs(
    session: AsyncSession, *, follower_id: int, candidates: Sequence[int]
) -> set[int]:
    """Which of ``candidates`` the follower follows with their reposts hidden."""
    if not candidates:
        return set()
    stmt = select(Follow.followee_id).where(
        Follow.follower_id == follower_id,
        Follow.followee_id.in_(set(candidates)),
        Follow.show_reblogs == false(),
    )
    return set((await session.execute(stmt)).scalars())


async def relationships(
    session: AsyncSession, *, viewer_id: int, ids: Sequence[int]
) -> list[Relationship]:
    """Return the viewer's relationship with each account in ``ids``, in order."""
    if not ids:
        return []
    following_stmt = select(Follow.followee_id, Follow.show_reblogs, Follow.notify).where(
        Follow.follower_id == viewer_id, Follow.followee_id.in_(set(ids))
    )
    following = {row[0]: (row[1], row[2]) for row in await session.execute(following_stmt)}
    followed_by_stmt = select(Follow.follower_id).where(
        Follow.followee_id == viewer_id, Follow.follower_id.in_(set(ids))
    )
    followed_by = set((await session.execute(followed_by_stmt)).scalars())
    return [
        Relationship(
            id=i,
            following=i in following,
            followed_by=i in followed_by,
            showing_reblogs=following.get(i, (False, False))[0],
            notifying=following.get(i, (False, False))[1],
        )
        for i in ids
    ]


def suggestions_query(viewer_id: int) -> Select[User]:
    """Accounts with the most followers that the viewer does not follow, the viewer excluded."""
    followed = exists().where(Follow.follower_id == viewer_id, Follow.followee_id == User.id)
    # Read in follower-count order from its index; each candidate is checked against the
    # viewer's follows by the (follower, followee) unique index, so the cost is bounded by
    # the page plus the popular accounts the viewer already follows, not by the users table.
    return select(User).where(User.id != viewer_id, ~followed).order_by(User.followers_count.desc())


async def suggestions(session: AsyncSession, *, viewer_id: int, limit: int) -> list[User]:
    """Return up to ``limit`` popular accounts the viewer might follow."""
    rows = await session.execute(suggestions_query(viewer_id).limit(limit))
    return list(rows.scalars())


def followers_query(user_id: int) -> Select[int, User]:
    """(follow id, follower) of a user's followers (callers paginate by follow id)."""
    return (
        select(Follow.id, User)
        .join(User, User.id == Follow.follower_id)
        .where(Follow.followee_id == user_id)
    )


def following_query(user_id: int) -> Select[int, User]:
    """(follow id, followee) of the accounts a user follows (callers paginate by follow id)."""
    return (
        select(Follow.id, User)
        .join(User, User.id == Follow.followee_id)
        .where(Follow.follower_id == user_id)
    )


async def followers_page(
    session: AsyncSession, *, user_id: int, cursor: Cursor
) -> list[tuple[int, User]]:
    """Return (follow id, follower) pairs for ``user_id``, newest follow first."""
    return await _pairs(session, followers_query(user_id), cursor)


async def following_page(
    session: AsyncSession, *, user_id: int, cursor: Cursor
) -> list[tuple[int, User]]:
    """Return (follow id, followee) pairs for ``user_id``, newest follow first."""
    return await _pairs(session, following_query(user_id), cursor)


async def _pairs(
    session: AsyncSession, stmt: Select[int, User], cursor: Cursor
) -> list[tuple[int, User]]:
    rows = await fetch_rows(session, stmt, Follow.id, cursor)
    return [(row[0], row[1]) for row in rows]

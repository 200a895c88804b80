"""Like and unlike posts; the posts a user liked and the people who liked a post."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Select, Table, delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningDelete, ReturningInsert

from chirp.db import insert_ignoring_duplicates, on_postgresql, show_written, utcnow
from chirp.errors import NotFound
from chirp.ids import new_id
from chirp.likes.models import Favourite
from chirp.notifications import outbox as notifications_outbox
from chirp.notifications import types as notification_types
from chirp.pagination import Cursor, fetch_rows
from chirp.posts import seen
from chirp.posts.models import Post
from chirp.users.models import User

# Core tables, not mapped classes: the ORM would try to match the rows RETURNING gives to
# loaded objects, which a statement with a WITH defeats.
_FAVOURITES = cast(Table, Favourite.__table__)
_POSTS = cast(Table, Post.__table__)


async def like(session: AsyncSession, *, user: User, post: Post) -> bool:
    """Make ``user`` like ``post`` (an original, not a repost); False if they already did."""
    added = insert_ignoring_duplicates(
        session,
        _FAVOURITES,
        {"id": new_id(), "user_id": user.id, "post_id": post.id, "created_at": utcnow()},
    ).returning(_FAVOURITES.c.post_id)
    if not await _count(session, post, added, 1):
        return False
    await notifications_outbox.act(
        session,
        type=notification_types.FAVOURITE,
        user_id=post.author_id,
        from_account_id=user.id,
        post_id=post.id,
    )
    return True


async def unlike(session: AsyncSession, *, user: User, post: Post) -> bool:
    """Take back ``user``'s like of ``post``; False if there was none."""
    removed = (
        delete(_FAVOURITES)
        .where(_FAVOURITES.c.user_id == user.id, _FAVOURITES.c.post_id == post.id)
        .returning(_FAVOURITES.c.post_id)
    )
    if not await _count(session, post, removed, -1):
        return False
    await notifications_outbox.withdraw(
        session,
        type=notification_types.FAVOURITE,
        user_id=post.author_id,
        from_account_id=user.id,
        post_id=post.id,
    )
    return True


async def _count(
    session: AsyncSession,
    post: Post,
    change: ReturningInsert[int] | ReturningDelete[int],
    delta: int,
) -> bool:
    """Run ``change`` and, only if it wrote a row, move the post's count by ``delta``."""
    # The count moves in SQL, in the same transaction, and only when the row really came or
    # went: a like sent twice, or two at once, counts once (the unique index decides).
    counted = (
        update(_POSTS)
        .where(_POSTS.c.id == post.id)
        .values(favourites_count=_POSTS.c.favourites_count + delta)
        .returning(_POSTS.c.favourites_count)
    )
    try:
        if on_postgresql(session):
            # One statement, one round trip: the UPDATE sees whether the change wrote a row.
            written = change.cte("written")
            stmt = counted.where(exists(select(written.c.post_id))).add_cte(written)
            count = (await session.execute(stmt)).scalar_one_or_none()
        elif (await session.execute(change)).first() is None:
            return False
        else:
            count = (await session.execute(counted)).scalar_one_or_none()
    except IntegrityError as exc:
        # The post was deleted after it was read: liking it is liking nothing.
        raise NotFound() from exc
    if count is None:
        return False
    show_written(post, favourites_count=count)
    return True


async def like_id(session: AsyncSession, *, user_id: int, post_id: int) -> int | None:
    """The id of a user's like of a post, or None if they do not like it."""
    stmt = select(Favourite.id).where(Favourite.user_id == user_id, Favourite.post_id == post_id)
    return (await session.execute(stmt)).scalar_one_or_none()


def liked_query(user_id: int) -> Select[int, Post]:
    """(like id, post) of the posts a user liked that they may still see (paged by like id)."""
    # A followers-only post liked before its author was unfollowed is no longer theirs to see.
    return (
        select(Favourite.id, Post)
        .join(Post, Post.id == Favourite.post_id)
        .where(Favourite.user_id == user_id, seen.visible_to(user_id))
    )


async def liked_page(
    session: AsyncSession, *, user_id: int, cursor: Cursor
) -> list[tuple[int, Post]]:
    """(like id, post) of the posts a user liked, most recently liked first."""
    rows = await fetch_rows(session, liked_query(user_id), Favourite.id, cursor)
    return [(row[0], row[1]) for row in rows]


def likers_query(post_id: int) -> Select[int, User]:
    """(like id, account) of the people who liked a post (paged by like id)."""
    return (
        select(Favourite.id, User)
        .join(User, User.id == Favourite.user_id)
        .where(Favourite.post_id == post_id)
    )


async def likers_page(
    session: AsyncSession, *, post_id: int, cursor: Cursor
) -> list[tuple[int, User]]:
    """(like id, account) of the people who liked a post, most recent like first."""
    rows = await fetch_rows(session, likers_query(post_id), Favourite.id, cursor)
    return [(row[0], row[1]) for row in rows]

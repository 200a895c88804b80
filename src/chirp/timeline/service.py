"""Timeline reads: the home timeline of a user and the public timeline."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import CompoundSelect, Select, literal, or_, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows.models import Follow
from chirp.pagination import Cursor, apply_cursor, fetch_page
from chirp.posts.models import Post
from chirp.users.models import User


def home_authors(user_id: int) -> CompoundSelect[int]:
    """Return a statement for ``user_id`` and everyone they follow."""
    return union_all(
        select(Follow.followee_id).where(Follow.follower_id == user_id),
        select(literal(user_id)),
    )


def home_ids_lateral(user_id: int, cursor: Cursor) -> Select[int]:
    """Return home-page post ids as one small index range per followed account (PostgreSQL).

    A plain ``author_id IN (...)`` lets the planner walk every post backwards until it finds
    enough from the followed accounts; per-author ranges with a LIMIT bound the work by the
    number of accounts followed, however sparse their posts are.
    """
    authors = home_authors(user_id).subquery("authors")
    per_author = apply_cursor(
        select(Post.id).where(Post.author_id == authors.c.followee_id), Post.id, cursor
    ).lateral("per_author")
    ordered = per_author.c.id.asc() if cursor.min_id is not None else per_author.c.id.desc()
    return (
        select(per_author.c.id)
        .select_from(authors)
        .join(per_author, true())
        .order_by(ordered)
        .limit(cursor.limit)
    )


async def visible_home_posts(
    session: AsyncSession, *, user_id: int, ids: Sequence[int]
) -> dict[int, Post]:
    """Load posts by id that still belong in the user's home (own or followed), keyed by id."""
    if not ids:
        return {}
    followed = (
        select(Follow.id)
        .where(Follow.follower_id == user_id, Follow.followee_id == Post.author_id)
        .exists()
    )
    stmt = select(Post).where(Post.id.in_(ids), or_(Post.author_id == user_id, followed))
    return {p.id: p for p in (await session.execute(stmt)).scalars()}


async def visible_authors(
    session: AsyncSession, *, user_id: int, author_ids: Collection[int]
) -> dict[int, User]:
    """Load those of ``author_ids`` whose posts belong in the user's home (self or followed)."""
    if not author_ids:
        return {}
    followed = (
        select(Follow.id)
        .where(Follow.follower_id == user_id, Follow.followee_id == User.id)
        .exists()
    )
    stmt = select(User).where(User.id.in_(set(author_ids)), or_(User.id == user_id, followed))
    return {u.id: u for u in (await session.execute(stmt)).scalars()}


def public_query() -> Select[Post]:
    """Return a statement for every post on the instance."""
    return select(Post)


async def public(session: AsyncSession, *, cursor: Cursor) -> list[Post]:
    """Return one page of the public timeline, newest first."""
    return await fetch_page(session, public_query(), Post.id, cursor)

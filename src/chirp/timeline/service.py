"""Timeline reads: the home timeline of a user and the public timeline."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import CompoundSelect, Select, literal, or_, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import in_list
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
    """Return home-page post ids as one small index range per followed account (PostgreSQL)."""
    return author_post_ids_lateral(home_authors(user_id), cursor)


def author_post_ids_lateral(
    authors: Select[int] | CompoundSelect[int], cursor: Cursor, *, floor: int = 0
) -> Select[int]:
    """Return one page of post ids by ``authors``, one index range per author (PostgreSQL).

    A plain ``author_id IN (...)`` lets the planner walk every post backwards until it finds
    enough from the followed accounts; per-author ranges with a LIMIT bound the work by the
    number of accounts followed, however sparse their posts are.
    """
    subquery = authors.subquery("authors")
    per_author_stmt = select(Post.id).where(Post.author_id == subquery.c[0])
    if floor:
        per_author_stmt = per_author_stmt.where(Post.id >= floor)
    per_author = apply_cursor(per_author_stmt, Post.id, cursor).lateral("per_author")
    ordered = per_author.c.id.asc() if cursor.min_id is not None else per_author.c.id.desc()
    return (
        select(per_author.c.id)
        .select_from(subquery)
        .join(per_author, true())
        .order_by(ordered)
        .limit(cursor.limit)
    )


def author_post_ids_plain(
    authors: Select[int] | CompoundSelect[int], cursor: Cursor, *, floor: int = 0
) -> Select[int]:
    """The same page as ``author_post_ids_lateral``, for databases without LATERAL."""
    stmt = select(Post.id).where(Post.author_id.in_(authors))
    if floor:
        stmt = stmt.where(Post.id >= floor)
    return apply_cursor(stmt, Post.id, cursor)


async def author_post_ids(
    session: AsyncSession,
    authors: Select[int] | CompoundSelect[int],
    cursor: Cursor,
    *,
    floor: int = 0,
) -> list[int]:
    """Run one page of post ids by ``authors``, newest first, whichever the database."""
    if session.get_bind().dialect.name == "postgresql":
        stmt = author_post_ids_lateral(authors, cursor, floor=floor)
    else:
        stmt = author_post_ids_plain(authors, cursor, floor=floor)
    ids = list((await session.execute(stmt)).scalars())
    return ids[::-1] if cursor.min_id is not None else ids


async def visible_home_posts(
    session: AsyncSession, *, user_id: int, ids: Sequence[int]
) -> dict[int, Post]:
    """Load posts by id that still belong in the user's home (own or followed), keyed by id."""
    if not ids:
        return {}
    stmt = visible_home_posts_query(user_id, ids)
    return {p.id: p for p in (await session.execute(stmt)).scalars()}


def visible_home_posts_query(user_id: int, ids: Collection[int]) -> Select[Post]:
    """Posts by id whose author is the user or someone the user follows."""
    followed = (
        select(Follow.id)
        .where(Follow.follower_id == user_id, Follow.followee_id == Post.author_id)
        .exists()
    )
    return select(Post).where(Post.id.in_(in_list(ids)), or_(Post.author_id == user_id, followed))


async def visible_authors(
    session: AsyncSession, *, user_id: int, author_ids: Collection[int]
) -> dict[int, User]:
    """Load those of ``author_ids`` whose posts belong in the user's home (self or followed)."""
    if not author_ids:
        return {}
    stmt = visible_authors_query(user_id, author_ids)
    return {u.id: u for u in (await session.execute(stmt)).scalars()}


def visible_authors_query(user_id: int, author_ids: Collection[int]) -> Select[User]:
    """Users by id who are the user or someone the user follows."""
    followed = (
        select(Follow.id)
        .where(Follow.follower_id == user_id, Follow.followee_id == User.id)
        .exists()
    )
    return select(User).where(User.id.in_(in_list(author_ids)), or_(User.id == user_id, followed))


def public_query() -> Select[Post]:
    """Return a statement for every post on the instance."""
    return select(Post)


async def public(session: AsyncSession, *, cursor: Cursor) -> list[Post]:
    """Return one page of the public timeline, newest first."""
    return await fetch_page(session, public_query(), Post.id, cursor)

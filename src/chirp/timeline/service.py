"""Timeline reads: the home timeline of a user and the public timeline."""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    bindparam,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import id_in, in_list
from chirp.follows.models import Follow
from chirp.pagination import Cursor, CursorShape, bind_cursor, cursor_params, fetch_page
from chirp.posts.models import Post
from chirp.users.models import User

# Whose posts a page holds: the reader and everyone they follow ("home"), or the accounts in
# ``among`` that the reader follows ("followed_among").
Authors = Literal["home", "followed_among"]


def _authors(kind: Authors, *, array: bool) -> Select[int] | CompoundSelect[int]:
    user = bindparam("user_id", type_=BigInteger)
    followed = select(Follow.followee_id).where(Follow.follower_id == user)
    if kind == "home":
        return union_all(followed, select(user))
    return followed.where(id_in(Follow.followee_id, "among", array=array))


@functools.cache
def post_ids_statement(authors: Authors, shape: CursorShape, *, lateral: bool) -> Select[int]:
    """One page of post ids by ``authors``, newest first (oldest first after ``min_id``).

    Built once per shape, with every value a bind parameter: constructing these statements
    cost more than running them. The lateral form (PostgreSQL, whose id lists are array
    parameters) reads one index range per author with a LIMIT, so the work is bounded by the
    number of authors however sparse their posts are; a plain ``author_id IN (...)`` lets
    the planner walk every post backwards until it finds enough from the followed accounts.
    """
    limit = bindparam("limit", type_=Integer)
    if not lateral:
        stmt = select(Post.id).where(Post.author_id.in_(_authors(authors, array=False)))
        return bind_cursor(stmt, Post.id, shape)
    subquery = _authors(authors, array=True).subquery("authors")
    per_author_stmt = select(Post.id).where(Post.author_id == subquery.c[0])
    per_author = bind_cursor(per_author_stmt, Post.id, shape).lateral("per_author")
    ordered = per_author.c.id.asc() if shape.min_id else per_author.c.id.desc()
    return (
        select(per_author.c.id)
        .select_from(subquery)
        .join(per_author, true())
        .order_by(ordered)
        .limit(limit)
    )


def post_ids_params(*, user_id: int, cursor: Cursor, among: Collection[int] = ()) -> dict[str, Any]:
    """Bind values for ``post_ids_statement``."""
    params: dict[str, Any] = {"user_id": user_id, **cursor_params(cursor)}
    if among:
        params["among"] = in_list(among)
    return params


def post_ids_query(
    authors: Authors,
    *,
    user_id: int,
    cursor: Cursor,
    among: Collection[int] = (),
    lateral: bool = True,
) -> Select[int]:
    """``post_ids_statement`` with its values bound (to show or EXPLAIN it)."""
    stmt = post_ids_statement(authors, CursorShape.of(cursor), lateral=lateral)
    return stmt.params(post_ids_params(user_id=user_id, cursor=cursor, among=among))


async def author_post_ids(
    session: AsyncSession,
    authors: Authors,
    *,
    user_id: int,
    cursor: Cursor,
    among: Collection[int] = (),
) -> list[int]:
    """Run one page of post ids by ``authors``, newest first, whichever the database."""
    stmt = post_ids_statement(authors, CursorShape.of(cursor), lateral=_arrays(session))
    params = post_ids_params(user_id=user_id, cursor=cursor, among=among)
    ids = list((await session.execute(stmt, params)).scalars())
    return ids[::-1] if cursor.min_id is not None else ids


def _self_or_followed(author: Any) -> ColumnElement[bool]:
    """``author`` is the user (``user_id``) or someone the user follows."""
    user = bindparam("user_id", type_=BigInteger)
    followed = select(Follow.id).where(Follow.follower_id == user, Follow.followee_id == author)
    return or_(author == user, followed.exists())


def _arrays(session: AsyncSession) -> bool:
    """Whether this database takes id lists as one array parameter (see ``id_in``)."""
    return session.get_bind().dialect.name == "postgresql"


@functools.cache
def visible_home_posts_statement(*, array: bool) -> Select[Post]:
    """Posts by id (``ids``) whose author is the user (``user_id``) or someone they follow."""
    return select(Post).where(id_in(Post.id, "ids", array=array), _self_or_followed(Post.author_id))


async def visible_home_posts(
    session: AsyncSession, *, user_id: int, ids: Collection[int]
) -> dict[int, Post]:
    """Load posts by id that still belong in the user's home (own or followed), keyed by id."""
    if not ids:
        return {}
    params = {"user_id": user_id, "ids": in_list(ids)}
    rows = await session.execute(visible_home_posts_statement(array=_arrays(session)), params)
    return {p.id: p for p in rows.scalars()}


@functools.cache
def visible_authors_statement(*, array: bool) -> Select[User]:
    """Users by id (``ids``) who are the user (``user_id``) or someone the user follows."""
    return select(User).where(id_in(User.id, "ids", array=array), _self_or_followed(User.id))


async def visible_authors(
    session: AsyncSession, *, user_id: int, author_ids: Collection[int]
) -> dict[int, User]:
    """Load those of ``author_ids`` whose posts belong in the user's home (self or followed)."""
    if not author_ids:
        return {}
    params = {"user_id": user_id, "ids": in_list(author_ids)}
    rows = await session.execute(visible_authors_statement(array=_arrays(session)), params)
    return {u.id: u for u in rows.scalars()}


def public_query() -> Select[Post]:
    """Return a statement for every post on the instance."""
    return select(Post)


async def public(session: AsyncSession, *, cursor: Cursor) -> list[Post]:
    """Return one page of the public timeline, newest first."""
    return await fetch_page(session, public_query(), Post.id, cursor)

"""Timeline reads: the home timeline of a user and the public timeline."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    false,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chirp.db import id_in, in_list, read_outside_transaction, takes_arrays
from chirp.follows.models import Follow
from chirp.pagination import Cursor, CursorShape, bind_cursor, cursor_params, fetch_page
from chirp.posts import state as post_state
from chirp.posts.models import Post
from chirp.posts.state import State
from chirp.users.models import User
from chirp.users.profile import Author


def _home_authors() -> CompoundSelect[int]:
    """The user (``user_id``) and everyone they follow."""
    user = bindparam("user_id", type_=BigInteger)
    followed = select(Follow.followee_id).where(Follow.follower_id == user)
    return union_all(followed, select(user))


def reply_shown(post: Any, user: Any, followed: Any) -> ColumnElement[bool]:
    """Mastodon's home rule for replies, for a post by the user or someone they follow.

    A post that answers nobody, or its own author (a thread), shows; so does the user's own
    reply; a reply to another account only if the user is that account or follows it.
    ``followed`` is a selectable of the accounts the user follows.
    """
    return or_(
        post.in_reply_to_account_id.is_(None),
        post.in_reply_to_account_id == post.author_id,
        post.author_id == user,
        post.in_reply_to_account_id == user,
        post.in_reply_to_account_id.in_(followed),
    )


def not_direct(post: Any = Post) -> ColumnElement[bool]:
    """Not a direct message: those are in no home timeline (their participants read them in
    their conversations). A literal, so plans stay generic; the row is read anyway."""
    shown: ColumnElement[bool] = post.visibility != literal_column("'direct'")
    return shown


def _followed_ids() -> Select[int]:
    """The accounts the user (``user_id``) follows."""
    user = bindparam("user_id", type_=BigInteger)
    return select(Follow.followee_id).where(Follow.follower_id == user)


def shows_reply(
    *, user_id: int, author_id: int, replied_to: int | None, followed: Collection[int]
) -> bool:
    """``reply_shown`` in Python, for posts read from the cache (``followed``: who the user
    follows, among the accounts in question)."""
    return (
        replied_to is None
        or replied_to in (author_id, user_id)
        or author_id == user_id
        or replied_to in followed
    )


@functools.cache
def post_ids_statement(shape: CursorShape, *, lateral: bool) -> Select[int]:
    """One page of home post ids, newest first (oldest first after ``min_id``).

    Built once per shape, with every value a bind parameter: constructing these statements
    cost more than running them. The lateral form (PostgreSQL) reads one index range per
    author with a LIMIT, so the work is bounded by the number of authors however sparse
    their posts are; a plain ``author_id IN (...)`` lets the planner walk every post
    backwards until it finds enough from the followed accounts.
    """
    limit = bindparam("limit", type_=Integer)
    user = bindparam("user_id", type_=BigInteger)
    if not lateral:
        stmt = select(Post.id).where(
            Post.author_id.in_(_home_authors()),
            reply_shown(Post, user, _followed_ids()),
            not_direct(),
        )
        return bind_cursor(stmt, Post.id, shape)
    subquery = _home_authors().subquery("authors")
    per_author_stmt = select(Post.id).where(
        Post.author_id == subquery.c[0], reply_shown(Post, user, _followed_ids()), not_direct()
    )
    per_author = bind_cursor(per_author_stmt, Post.id, shape).lateral("per_author")
    ordered = per_author.c.id.asc() if shape.min_id else per_author.c.id.desc()
    return (
        select(per_author.c.id)
        .select_from(subquery)
        .join(per_author, true())
        .order_by(ordered)
        .limit(limit)
    )


def post_ids_query(*, user_id: int, cursor: Cursor, lateral: bool = True) -> Select[int]:
    """``post_ids_statement`` with its values bound (to show or EXPLAIN it)."""
    stmt = post_ids_statement(CursorShape.of(cursor), lateral=lateral)
    return stmt.params(user_id=user_id, **cursor_params(cursor))


async def home_post_ids(session: AsyncSession, *, user_id: int, cursor: Cursor) -> list[int]:
    """One page of home post ids, newest first, whichever the database."""
    stmt = post_ids_statement(CursorShape.of(cursor), lateral=takes_arrays(session))
    params = {"user_id": user_id, **cursor_params(cursor)}
    ids = list((await session.execute(stmt, params)).scalars())
    return ids[::-1] if cursor.min_id is not None else ids


@functools.cache
def followee_posts_statement() -> Select[int]:
    """Ids of an author's (``author_id``) newest ``limit`` posts that belong in the user's
    (``user_id``) home, newest first."""
    user = bindparam("user_id", type_=BigInteger)
    return (
        select(Post.id)
        .where(
            Post.author_id == bindparam("author_id", type_=BigInteger),
            reply_shown(Post, user, _followed_ids()),
            not_direct(),
        )
        .order_by(Post.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


async def followee_post_ids(
    session: AsyncSession, *, user_id: int, author_id: int, limit: int
) -> list[int]:
    """Ids of an author's newest ``limit`` posts that belong in the user's home, newest first."""
    params = {"user_id": user_id, "author_id": author_id, "limit": limit}
    return list((await session.execute(followee_posts_statement(), params)).scalars())


@functools.cache
def followed_replies_statement(*, lateral: bool) -> Select[int]:
    """Ids of the replies to an account (``account_id``) by the others the user (``user_id``)
    follows, from ``low`` up, newest ``limit`` first.

    The home rule shows them while the user follows that account: a follow merges them into
    the user's cached timeline, an unfollow takes them out. Bounded below by that timeline's
    floor or lowest post, the read is one index range per followed account over the window
    the cache holds (as the home page's lateral form, on PostgreSQL).
    """
    account = bindparam("account_id", type_=BigInteger)
    shown = (
        Post.in_reply_to_account_id == account,
        Post.id >= bindparam("low", type_=BigInteger),
        not_direct(),
    )
    followed = _followed_ids().where(Follow.followee_id != account)
    limit = bindparam("limit", type_=Integer)
    if not lateral:
        stmt = select(Post.id).where(Post.author_id.in_(followed), *shown)
        return stmt.order_by(Post.id.desc()).limit(limit)
    authors = followed.subquery("authors")
    per_author = (
        select(Post.id)
        .where(Post.author_id == authors.c[0], *shown)
        .order_by(Post.id.desc())
        .limit(limit)
        .lateral("per_author")
    )
    return (
        select(per_author.c.id)
        .select_from(authors)
        .join(per_author, true())
        .order_by(per_author.c.id.desc())
        .limit(limit)
    )


async def followed_reply_ids(
    session: AsyncSession, *, user_id: int, account_id: int, low: int, limit: int
) -> list[int]:
    """Ids of the replies to an account by the others the user follows, from ``low`` up,
    newest ``limit`` first."""
    stmt = followed_replies_statement(lateral=takes_arrays(session))
    params = {"user_id": user_id, "account_id": account_id, "low": low, "limit": limit}
    return list((await session.execute(stmt, params)).scalars())


async def reposts_among(session: AsyncSession, ids: Collection[int]) -> dict[int, int]:
    """Which of ``ids`` are reposts, and of what: repost id -> shared post id."""
    if not ids:
        return {}
    stmt = select(Post.id, Post.reblog_of_id).where(
        Post.id.in_(list(ids)), Post.reblog_of_id.is_not(None)
    )
    return {row[0]: row[1] for row in await session.execute(stmt) if row[1] is not None}


def _self_or_followed(author: Any) -> ColumnElement[bool]:
    """``author`` is the user (``user_id``) or someone the user follows."""
    user = bindparam("user_id", type_=BigInteger)
    followed = select(Follow.id).where(Follow.follower_id == user, Follow.followee_id == author)
    return or_(author == user, followed.exists())


@functools.cache
def visible_home_posts_statement(*, array: bool) -> Select[Post]:
    """Posts by id (``ids``) that belong in the user's (``user_id``) home: by the user or
    someone they follow, replies as Mastodon's home rule allows, no direct messages."""
    user = bindparam("user_id", type_=BigInteger)
    return select(Post).where(
        id_in(Post.id, "ids", array=array),
        _self_or_followed(Post.author_id),
        reply_shown(Post, user, _followed_ids()),
        not_direct(),
    )


async def visible_home_posts(
    session: AsyncSession, *, user_id: int, ids: Collection[int]
) -> dict[int, Post]:
    """Load posts by id that still belong in the user's home (own or followed), keyed by id."""
    if not ids:
        return {}
    params = {"user_id": user_id, "ids": in_list(ids)}
    rows = await session.execute(visible_home_posts_statement(array=takes_arrays(session)), params)
    return {p.id: p for p in rows.scalars()}


# The columns an ``Author`` is read from, in its fields' order.
AUTHOR_COLUMNS = tuple(getattr(User, field.name) for field in dataclasses.fields(Author))


@functools.cache
def home_rows_statement(*, array: bool) -> Select[*tuple[Any, ...]]:
    """What a home page needs of posts by id (``ids``) besides what the cache holds: their
    authors, whether each author is the user (``user_id``, also ``viewer_id``) or someone the
    user follows, whether the user shows the author's reposts, whether the user follows the
    account each post answers, and each post's state (``posts.state.select_with_state``)."""
    user = bindparam("user_id", type_=BigInteger)
    follow = and_(Follow.follower_id == user, Follow.followee_id == Post.author_id)
    answer = aliased(Follow, name="answered")
    # Only the unique (follower_id, followee_id) index answers this from the index alone: the
    # planner then never walks all the followers of a popular account that a post answers.
    answered = select(answer.follower_id).where(
        answer.follower_id == user, answer.followee_id == Post.in_reply_to_account_id
    )
    stmt = post_state.select_with_state(
        Post.id,
        *AUTHOR_COLUMNS,
        or_(Post.author_id == user, Follow.id.is_not(None)).label("followed"),
        Follow.show_reblogs,
        # Most posts answer nobody: for those the probe is not run at all.
        case(
            (Post.in_reply_to_account_id.is_(None), false()), else_=post_state.probe(answered)
        ).label("answers_followed"),
        viewer=True,
    )
    return (
        stmt.join(User, User.id == Post.author_id)
        .outerjoin(Follow, follow)
        .where(id_in(Post.id, "ids", array=array))
    )


@dataclasses.dataclass(frozen=True, slots=True)
class HomeRow:
    """What the database says of a post on a user's home page."""

    author: Author
    # The author is the user or someone the user follows: the post belongs in the home.
    followed: bool
    # The user follows the author with their reposts hidden (``reblogs=false``).
    hides_reblogs: bool
    # The user follows the account the post answers.
    answers_followed: bool
    state: State
    # The post has reactions (read separately, as few posts have any).
    reacted: bool


_AUTHOR_END = 1 + len(AUTHOR_COLUMNS)


async def home_rows(
    session: AsyncSession, *, user_id: int, post_ids: Collection[int]
) -> dict[int, HomeRow]:
    """``home_rows_statement`` for posts by id, keyed by id; deleted posts are left out."""
    if not post_ids:
        return {}
    params = {"user_id": user_id, "viewer_id": user_id, "ids": in_list(post_ids)}
    stmt = home_rows_statement(array=takes_arrays(session))
    out: dict[int, HomeRow] = {}
    authors: dict[int, Author] = {}
    for row in await read_outside_transaction(session, stmt, params):
        followed, show_reblogs, answers_followed = row[_AUTHOR_END : _AUTHOR_END + 3]
        state, reacted = post_state.read(row[_AUTHOR_END + 3 :], viewer=True)
        author = authors.get(row[1])
        if author is None:
            author = authors[row[1]] = Author(*row[1:_AUTHOR_END])
        out[row[0]] = HomeRow(
            author=author,
            followed=bool(followed),
            hides_reblogs=show_reblogs is not None and not show_reblogs,
            answers_followed=bool(answers_followed),
            state=state,
            reacted=reacted,
        )
    return out


def not_reply_to_others() -> ColumnElement[bool]:
    """A post that answers nobody, or its own author (a thread)."""
    return or_(Post.in_reply_to_account_id.is_(None), Post.in_reply_to_account_id == Post.author_id)


def public_query() -> Select[Post]:
    """Return a statement for every public post on the instance (not unlisted or private).

    Reposts are left out, as Mastodon leaves them out of its public timelines.
    """
    # A literal, not a bind parameter: only then can PostgreSQL's prepared (generic) plans,
    # and SQLite, prove the partial index ix_posts_public_id covers the query.
    # As Mastodon's: replies to other accounts are left out (a thread's own posts stay).
    return select(Post).where(
        Post.visibility == literal_column("'public'"),
        Post.reblog_of_id.is_(None),
        not_reply_to_others(),
    )


async def public(session: AsyncSession, *, cursor: Cursor) -> list[Post]:
    """Return one page of the public timeline, newest first."""
    return await fetch_page(session, public_query(), Post.id, cursor)

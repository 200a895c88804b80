"""A post's counts and what the reader did to it, and the columns they are read from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, bindparam, select
from sqlalchemy.orm import aliased

from chirp.likes.models import Favourite
from chirp.posts.models import Post
from chirp.reactions.models import ReactionCount


@dataclass(frozen=True, slots=True)
class ReactionShown:
    """One emoji on a post: how many reacted with it, and whether the reader did."""

    name: str
    count: int
    me: bool


@dataclass(frozen=True, slots=True)
class State:
    """A post's counts and what the reader did to it."""

    replies: int = 0
    reblogs: int = 0
    favourites: int = 0
    quotes: int = 0
    favourited: bool = False
    reblogged: bool = False
    reactions: tuple[ReactionShown, ...] = ()


NO_STATE = State()


def probe(stmt: Select[*tuple[Any, ...]]) -> ColumnElement[bool]:
    """Whether ``stmt`` finds a row, asked once per outer row through its index.

    Not an EXISTS: PostgreSQL may plan that as a hash of every row the key could match (all
    of a reader's likes, on every page); a subquery with a LIMIT is always probed per row.
    """
    return stmt.limit(1).scalar_subquery().is_not(None)


def select_with_state(*head: Any, viewer: bool) -> Select[*tuple[Any, ...]]:
    """``select(*head)`` from posts followed by each post's state: its counts, whether it has
    any reactions, and for a reader (``viewer_id``) whether they liked and reposted it
    (read with ``read``)."""
    # Whether any emoji counts exist: most posts have none, so most pages skip that query.
    reacted = select(ReactionCount.post_id).where(
        ReactionCount.post_id == Post.id, ReactionCount.count > 0
    )
    columns: list[Any] = [
        Post.replies_count,
        Post.reblogs_count,
        Post.favourites_count,
        Post.quotes_count,
        probe(reacted).label("reacted"),
    ]
    if viewer:
        reader = bindparam("viewer_id", type_=BigInteger)
        liked = select(Favourite.id).where(
            Favourite.user_id == reader, Favourite.post_id == Post.id
        )
        repost = aliased(Post, name="own_repost")
        reposted = select(repost.id).where(
            repost.author_id == reader, repost.reblog_of_id == Post.id
        )
        columns += [probe(liked).label("liked"), probe(reposted).label("reposted")]
    return select(*head, *columns).select_from(Post)


def read(values: Sequence[Any], *, viewer: bool) -> tuple[State, bool]:
    """The state in ``select_with_state``'s values (reactions not yet read), and whether
    the post has any."""
    liked, reposted = (bool(values[5]), bool(values[6])) if viewer else (False, False)
    state = State(
        replies=values[0],
        reblogs=values[1],
        favourites=values[2],
        quotes=values[3],
        favourited=liked,
        reblogged=reposted,
    )
    return state, bool(values[4])

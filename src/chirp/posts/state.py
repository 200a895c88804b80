"""A post's counts and what the reader did to it, and the columns they are read from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, bindparam, exists

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


def columns(*, viewer: bool) -> list[Any]:
    """A post's counts, whether it has any reactions, and for a reader (``viewer_id``)
    whether they liked and reposted it: read with ``read``."""
    # Whether any emoji counts exist: most posts have none, so most pages skip that query.
    reacted = exists().where(ReactionCount.post_id == Post.id, ReactionCount.count > 0)
    out: list[Any] = [
        Post.replies_count,
        Post.reblogs_count,
        Post.favourites_count,
        Post.quotes_count,
        reacted.label("reacted"),
    ]
    if viewer:
        reader = bindparam("viewer_id", type_=BigInteger)
        liked = exists().where(Favourite.post_id == Post.id, Favourite.user_id == reader)
        reposts = Post.__table__.alias("reposts")
        reposted = exists().where(reposts.c.reblog_of_id == Post.id, reposts.c.author_id == reader)
        out += [liked.label("liked"), reposted.label("reposted")]
    return out


def width(*, viewer: bool) -> int:
    """How many values ``columns`` gives."""
    return 7 if viewer else 5


def read(values: Sequence[Any], *, viewer: bool) -> tuple[State, bool]:
    """The state in ``columns``' values (reactions not yet read), and whether it has any."""
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

"""What showing a list of posts needs besides the posts, loaded in bulk (no query per post).

A list holds posts and reposts. Showing them also needs the shared originals, the posts
quoted, the accounts answered, every post's counts and the reader's own likes, reposts and
reactions. Each of those is one query for the whole list, whatever its length.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Select, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp import visibility as post_visibility
from chirp.db import id_in, in_list, read_outside_transaction, takes_arrays
from chirp.follows import service as follows_service
from chirp.likes.models import Favourite
from chirp.posts.models import Post, PostView
from chirp.reactions.models import Reaction, ReactionCount
from chirp.timeline.service import AUTHOR_COLUMNS
from chirp.users.models import User
from chirp.users.profile import Author, Profile


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


@dataclass
class Feed:
    """Posts to show to ``viewer`` (None: logged out), with all that showing them needs."""

    posts: list[PostView]
    viewer: User | None = None
    # Shared and quoted posts the viewer may see, by id.
    originals: dict[int, PostView] = field(default_factory=dict)
    # Quoted posts the viewer may not see (followers-only), by id: shown as such, not as gone.
    hidden: set[int] = field(default_factory=set)
    states: dict[int, State] = field(default_factory=dict)
    # The accounts that posts answer, by id.
    replied_to: dict[int, Profile] = field(default_factory=dict)
    # Authors of followers-only-quotable posts whom the viewer follows (or is).
    followed: set[int] = field(default_factory=set)

    def shown(self, post: PostView) -> PostView:
        """The post a list item shows: the original for a repost."""
        if post.reblog_of_id is None:
            return post
        return self.originals[post.reblog_of_id]

    def state(self, post: PostView) -> State:
        """Counts and the viewer's own actions on a post (of the original, for a repost)."""
        return self.states.get(self.shown(post).id, NO_STATE)

    def quoted(self, post: PostView) -> PostView | None:
        """The post that ``post`` quotes, if the viewer may see it and it still exists."""
        return self.originals.get(post.quote_of_id) if post.quote_of_id else None

    def quote_state(self, post: PostView) -> str | None:
        """Mastodon's quote state: ``accepted``, ``deleted``, ``unauthorized``; None if no quote."""
        if post.quote_of_id is None:
            return None
        if post.quote_of_id in self.originals:
            return "accepted"
        return "unauthorized" if post.quote_of_id in self.hidden else "deleted"

    def may_quote(self, post: PostView) -> bool | None:
        """Whether the viewer may quote ``post`` (None: logged out, so unknown)."""
        if self.viewer is None:
            return None
        if post.author_id == self.viewer.id:
            return True
        if post.visibility == post_visibility.PRIVATE:
            return False  # as Mastodon: only its author may quote a followers-only post
        policy = post.quote_approval_policy
        return policy == "public" or (policy == "followers" and post.author_id in self.followed)

    def reply_to_account(self, post: PostView) -> Profile | None:
        """The account a post answers (None for a post that answers nothing)."""
        account_id = post.in_reply_to_account_id
        return self.replied_to.get(account_id) if account_id is not None else None


async def load(
    session: AsyncSession, posts: Sequence[PostView], *, viewer: User | None, fresh: bool = False
) -> Feed:
    """Everything needed to show ``posts`` to ``viewer``; reposts of posts gone are dropped.

    ``fresh``: the posts were just written, so nobody has liked, answered or shared them yet.
    """
    feed = Feed(posts=list(posts), viewer=viewer)
    await _load_originals(session, feed, [p.reblog_of_id for p in posts])
    # A repost of a quote shows the quote inside: the quoted posts of originals too.
    quoted = [p.quote_of_id for p in posts] + [o.quote_of_id for o in feed.originals.values()]
    await _load_originals(session, feed, quoted)
    feed.posts = [
        p for p in feed.posts if p.reblog_of_id is None or p.reblog_of_id in feed.originals
    ]
    shown = set(feed.originals) if fresh else {feed.shown(p).id for p in feed.posts}
    shown |= set(feed.originals)
    feed.states = await states(session, shown, viewer_id=viewer.id if viewer else None)
    answered = {
        post.in_reply_to_account_id
        for post in [*feed.posts, *feed.originals.values()]
        if post.in_reply_to_account_id is not None
    }
    feed.replied_to = await _authors(session, answered)
    if viewer is not None:
        quotable_by_followers = {
            post.author_id
            for post in [*feed.posts, *feed.originals.values()]
            if post.quote_approval_policy == "followers" and post.author_id != viewer.id
        }
        feed.followed = await follows_service.following_ids(
            session, viewer_id=viewer.id, candidates=list(quotable_by_followers)
        )
    return feed


async def _load_originals(session: AsyncSession, feed: Feed, ids: Collection[int | None]) -> None:
    """Add the posts ``ids`` name that the viewer may see to ``feed.originals``."""
    wanted = {i for i in ids if i is not None and i not in feed.originals} - feed.hidden
    if not wanted:
        return
    array = takes_arrays(session)
    found = await read_outside_transaction(
        session, _posts_statement(array=array), {"ids": in_list(wanted)}
    )
    rows = [row[0] for row in found]
    private_authors = {p.author_id for p in rows if p.visibility == post_visibility.PRIVATE}
    followed: set[int] = set()
    if feed.viewer is not None and private_authors:
        followed = await follows_service.following_ids(
            session, viewer_id=feed.viewer.id, candidates=list(private_authors)
        )
        followed.add(feed.viewer.id)
    for post in rows:
        if post.visibility == post_visibility.PRIVATE and post.author_id not in followed:
            feed.hidden.add(post.id)
        else:
            feed.originals[post.id] = post


# Built once per shape, every value a bind parameter: building a statement (the alias and
# the EXISTS subqueries above all) cost more per page than running it.
@functools.cache
def _posts_statement(*, array: bool) -> Select[Post]:
    """Posts by id (``ids``), with their authors."""
    return select(Post).where(id_in(Post.id, "ids", array=array))


@functools.cache
def _states_statement(*, array: bool, viewer: bool) -> Select[*tuple[Any, ...]]:
    """Posts' counts by id (``ids``) and, for a ``viewer_id``, whether they liked or shared each."""
    columns: list[Any] = [
        Post.id,
        Post.replies_count,
        Post.reblogs_count,
        Post.favourites_count,
        Post.quotes_count,
    ]
    if viewer:
        reader = bindparam("viewer_id", type_=BigInteger)
        liked = exists().where(Favourite.post_id == Post.id, Favourite.user_id == reader)
        reposts = Post.__table__.alias("reposts")
        reposted = exists().where(reposts.c.reblog_of_id == Post.id, reposts.c.author_id == reader)
        columns += [liked.label("liked"), reposted.label("reposted")]
    return select(*columns).where(id_in(Post.id, "ids", array=array))


@functools.cache
def _reactions_statement(*, array: bool, viewer: bool) -> Select[*tuple[Any, ...]]:
    """Emoji counts of posts by id (``ids``), and for a ``viewer_id`` whether they used each."""
    columns: list[Any] = [ReactionCount.post_id, ReactionCount.emoji, ReactionCount.count]
    if viewer:
        mine = exists().where(
            Reaction.post_id == ReactionCount.post_id,
            Reaction.emoji == ReactionCount.emoji,
            Reaction.user_id == bindparam("viewer_id", type_=BigInteger),
        )
        columns.append(mine.label("me"))
    return (
        select(*columns)
        .where(id_in(ReactionCount.post_id, "ids", array=array), ReactionCount.count > 0)
        .order_by(ReactionCount.post_id, ReactionCount.count.desc(), ReactionCount.first_at)
    )


@functools.cache
def _authors_statement(*, array: bool) -> Select[*tuple[Any, ...]]:
    """Accounts by id (``ids``), as the columns of an ``Author``."""
    return select(*AUTHOR_COLUMNS).where(id_in(User.id, "ids", array=array))


async def states(
    session: AsyncSession, post_ids: Collection[int], *, viewer_id: int | None
) -> dict[int, State]:
    """Counts, reactions and the viewer's likes and reposts of posts, by id (two queries)."""
    if not post_ids:
        return {}
    array, viewer = takes_arrays(session), viewer_id is not None
    params: dict[str, Any] = {"ids": in_list(post_ids)}
    if viewer:
        params["viewer_id"] = viewer_id
    rows = await read_outside_transaction(
        session, _states_statement(array=array, viewer=viewer), params
    )
    reactions: dict[int, list[ReactionShown]] = {}
    found = await read_outside_transaction(
        session, _reactions_statement(array=array, viewer=viewer), params
    )
    for row in found:
        reactions.setdefault(row[0], []).append(
            ReactionShown(row[1], row[2], bool(row[3]) if viewer else False)
        )
    out: dict[int, State] = {}
    for row in rows:
        mine = (bool(row[5]), bool(row[6])) if viewer else (False, False)
        out[row[0]] = State(
            replies=row[1],
            reblogs=row[2],
            favourites=row[3],
            quotes=row[4],
            favourited=mine[0],
            reblogged=mine[1],
            reactions=tuple(reactions.get(row[0], ())),
        )
    return out


async def _authors(session: AsyncSession, ids: Collection[int]) -> dict[int, Profile]:
    """Accounts by id, as plain rows."""
    if not ids:
        return {}
    stmt = _authors_statement(array=takes_arrays(session))
    rows = await read_outside_transaction(session, stmt, {"ids": in_list(ids)})
    return {row[0]: Author(*row) for row in rows}

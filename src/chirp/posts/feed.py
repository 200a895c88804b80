"""What showing a list of posts needs besides the posts, loaded in bulk (no query per post).

A list holds posts and reposts. Showing them also needs the shared originals, the posts
quoted, the accounts answered, every post's counts and the reader's own likes, reposts and
reactions. Each of those is one query for the whole list, whatever its length.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp import visibility as post_visibility
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
    rows = list((await session.execute(select(Post).where(Post.id.in_(wanted)))).scalars())
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


async def states(
    session: AsyncSession, post_ids: Collection[int], *, viewer_id: int | None
) -> dict[int, State]:
    """Counts, reactions and the viewer's likes and reposts of posts, by id (two queries)."""
    if not post_ids:
        return {}
    ids = set(post_ids)
    columns: list[Any] = [
        Post.id,
        Post.replies_count,
        Post.reblogs_count,
        Post.favourites_count,
        Post.quotes_count,
    ]
    if viewer_id is not None:
        liked = exists().where(Favourite.post_id == Post.id, Favourite.user_id == viewer_id)
        reposts = Post.__table__.alias("reposts")
        reposted = exists().where(
            reposts.c.reblog_of_id == Post.id, reposts.c.author_id == viewer_id
        )
        columns += [liked.label("liked"), reposted.label("reposted")]
    rows = await session.execute(select(*columns).where(Post.id.in_(ids)))
    reactions = await _reactions(session, ids, viewer_id=viewer_id)
    out: dict[int, State] = {}
    for row in rows:
        mine = (bool(row[5]), bool(row[6])) if viewer_id is not None else (False, False)
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


async def _reactions(
    session: AsyncSession, post_ids: set[int], *, viewer_id: int | None
) -> dict[int, list[ReactionShown]]:
    """Each post's emoji, most used first (then the first used), and whether the viewer used it."""
    columns: list[Any] = [ReactionCount.post_id, ReactionCount.emoji, ReactionCount.count]
    if viewer_id is not None:
        mine = exists().where(
            Reaction.post_id == ReactionCount.post_id,
            Reaction.emoji == ReactionCount.emoji,
            Reaction.user_id == viewer_id,
        )
        columns.append(mine.label("me"))
    stmt = (
        select(*columns)
        .where(ReactionCount.post_id.in_(post_ids), ReactionCount.count > 0)
        .order_by(ReactionCount.post_id, ReactionCount.count.desc(), ReactionCount.first_at)
    )
    out: dict[int, list[ReactionShown]] = {}
    for row in await session.execute(stmt):
        me = bool(row[3]) if viewer_id is not None else False
        out.setdefault(row[0], []).append(ReactionShown(row[1], row[2], me))
    return out


async def _authors(session: AsyncSession, ids: Collection[int]) -> dict[int, Profile]:
    """Accounts by id, as plain rows."""
    if not ids:
        return {}
    rows = await session.execute(select(*AUTHOR_COLUMNS).where(User.id.in_(set(ids))))
    return {row[0]: Author(*row) for row in rows}

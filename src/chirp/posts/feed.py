"""What showing a list of posts needs besides the posts, loaded in bulk (no query per post).

A list holds posts and reposts. Showing them also needs the shared originals, the posts
quoted, the accounts answered, every post's counts and the reader's own likes, reposts and
reactions. Each of those is one query for the whole list, whatever its length.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Select, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp import visibility as post_visibility
from chirp.db import id_in, in_list, read_outside_transaction, takes_arrays
from chirp.follows import service as follows_service
from chirp.media import service as media_service
from chirp.media.service import Attachment
from chirp.posts import mentions
from chirp.posts import state as post_state
from chirp.posts.models import Post, PostView
from chirp.posts.state import NO_STATE, ReactionShown, State
from chirp.reactions.models import Reaction, ReactionCount
from chirp.timeline.post_cache import CachedPostWithAuthor
from chirp.timeline.service import AUTHOR_COLUMNS
from chirp.users.models import User
from chirp.users.profile import Author, Profile


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
    # Images of the posts shown (originals for reposts), in order, by post id.
    media: dict[int, tuple[Attachment, ...]] = field(default_factory=dict)

    def attachments(self, post: PostView) -> tuple[Attachment, ...]:
        """The images a post shows (a repost: its original's)."""
        return self.media.get(self.shown(post).id, ())

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
        if post.visibility == post_visibility.DIRECT:
            return False  # as Mastodon: nobody may quote a direct message, its author neither
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
    for post in posts:
        # The cached home timeline reads states, and reposts' originals, with its page.
        if isinstance(post, CachedPostWithAuthor):
            _take_known(feed, post)
    await _load_originals(session, feed, [p.reblog_of_id for p in posts])
    # A repost of a quote shows the quote inside: the quoted posts of originals too.
    quoted = [p.quote_of_id for p in posts] + [o.quote_of_id for o in feed.originals.values()]
    await _load_originals(session, feed, quoted)
    feed.posts = [
        p for p in feed.posts if p.reblog_of_id is None or p.reblog_of_id in feed.originals
    ]
    shown = set(feed.originals) if fresh else {feed.shown(p).id for p in feed.posts}
    shown |= set(feed.originals)
    unknown = shown - set(feed.states)
    feed.states.update(await states(session, unknown, viewer_id=viewer.id if viewer else None))
    answered = {
        post.in_reply_to_account_id
        for post in [*feed.posts, *feed.originals.values()]
        if post.in_reply_to_account_id is not None
    }
    feed.replied_to = await _authors(session, answered)
    # One query for the images of every post shown (and of the posts they quote).
    feed.media = await media_service.for_posts(
        session, {feed.shown(p).id for p in feed.posts} | set(feed.originals)
    )
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


def _take_known(feed: Feed, post: CachedPostWithAuthor) -> None:
    """Keep what a post read from the cache came with: its state, and a repost's original."""
    if post.state is not None:
        feed.states[post.id] = post.state
    shared = post.shared
    if shared is not None:
        feed.originals[shared.id] = shared
        if isinstance(shared, CachedPostWithAuthor) and shared.state is not None:
            feed.states[shared.id] = shared.state


async def _load_originals(session: AsyncSession, feed: Feed, ids: Collection[int | None]) -> None:
    """Add the posts ``ids`` name that the viewer may see to ``feed.originals``."""
    wanted = {i for i in ids if i is not None and i not in feed.originals} - feed.hidden
    if not wanted:
        return
    rows = list((await posts_by_id(session, wanted)).values())
    private_authors = {p.author_id for p in rows if p.visibility == post_visibility.PRIVATE}
    followed: set[int] = set()
    if feed.viewer is not None and private_authors:
        followed = await follows_service.following_ids(
            session, viewer_id=feed.viewer.id, candidates=list(private_authors)
        )
        followed.add(feed.viewer.id)
    viewer_id = feed.viewer.id if feed.viewer is not None else None
    for post in rows:
        if post.visibility == post_visibility.PRIVATE and post.author_id not in followed:
            feed.hidden.add(post.id)
        elif post.visibility == post_visibility.DIRECT and not post_visibility.direct_shown_to(
            post.author_id, mentions.mentioned_ids(post.mentions), viewer_id
        ):
            # Nothing shares or quotes one (both refused); this keeps it so if a row ever does.
            feed.hidden.add(post.id)
        else:
            feed.originals[post.id] = post


async def posts_by_id(session: AsyncSession, ids: Collection[int]) -> dict[int, Post]:
    """Posts by id, with their authors, whoever may see them."""
    if not ids:
        return {}
    stmt = _posts_statement(array=takes_arrays(session))
    found = await read_outside_transaction(session, stmt, {"ids": in_list(ids)})
    return {row[0].id: row[0] for row in found}


# Built once per shape, every value a bind parameter: building a statement (the alias and
# the EXISTS subqueries above all) cost more per page than running it.
@functools.cache
def _posts_statement(*, array: bool) -> Select[Post]:
    """Posts by id (``ids``), with their authors."""
    return select(Post).where(id_in(Post.id, "ids", array=array))


@functools.cache
def _states_statement(*, array: bool, viewer: bool) -> Select[*tuple[Any, ...]]:
    """Posts' states by id (``ids``), as ``posts.state.select_with_state`` gives them."""
    stmt = post_state.select_with_state(Post.id, viewer=viewer)
    return stmt.where(id_in(Post.id, "ids", array=array))


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


def _params(post_ids: Collection[int], viewer_id: int | None) -> dict[str, Any]:
    """The bind parameters of a read of posts' states: the ids, and the reader if any."""
    params: dict[str, Any] = {"ids": in_list(post_ids)}
    if viewer_id is not None:
        params["viewer_id"] = viewer_id
    return params


async def states(
    session: AsyncSession, post_ids: Collection[int], *, viewer_id: int | None
) -> dict[int, State]:
    """Counts, reactions and the viewer's likes and reposts of posts, by id (one query, and
    one more for the reactions of those that have any)."""
    if not post_ids:
        return {}
    array, viewer = takes_arrays(session), viewer_id is not None
    params = _params(post_ids, viewer_id)
    rows = await read_outside_transaction(
        session, _states_statement(array=array, viewer=viewer), params
    )
    out: dict[int, State] = {}
    reacted: list[int] = []
    for row in rows:
        out[row[0]], has_reactions = post_state.read(row[1:], viewer=viewer)
        if has_reactions:
            reacted.append(row[0])
    return await with_reactions(session, out, reacted, viewer_id=viewer_id)


async def with_reactions(
    session: AsyncSession, states: dict[int, State], post_ids: list[int], *, viewer_id: int | None
) -> dict[int, State]:
    """``states`` with the reactions of ``post_ids`` (those that have any) read in."""
    if not post_ids:
        return states
    found = await _reactions(session, post_ids, viewer_id=viewer_id)
    for post_id, shown in found.items():
        states[post_id] = dataclasses.replace(states[post_id], reactions=tuple(shown))
    return states


async def _reactions(
    session: AsyncSession, post_ids: Collection[int], *, viewer_id: int | None
) -> dict[int, list[ReactionShown]]:
    """Each post's emoji, most used first, with whether the viewer used each."""
    array, viewer = takes_arrays(session), viewer_id is not None
    params = _params(post_ids, viewer_id)
    found = await read_outside_transaction(
        session, _reactions_statement(array=array, viewer=viewer), params
    )
    reactions: dict[int, list[ReactionShown]] = {}
    for row in found:
        reactions.setdefault(row[0], []).append(
            ReactionShown(row[1], row[2], bool(row[3]) if viewer else False)
        )
    return reactions


async def _authors(session: AsyncSession, ids: Collection[int]) -> dict[int, Profile]:
    """Accounts by id, as plain rows."""
    if not ids:
        return {}
    stmt = _authors_statement(array=takes_arrays(session))
    rows = await read_outside_transaction(session, stmt, {"ids": in_list(ids)})
    return {row[0]: Author(*row) for row in rows}

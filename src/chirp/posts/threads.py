"""Conversations: the posts a post answers (ancestors) and the replies below it (descendants).

Each side is one recursive query, bounded by depth and by rows, whatever the thread's size:
a thread costs a fixed number of queries, never one per post.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Integer, Select, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chirp import visibility as post_visibility
from chirp.follows import service as follows_service
from chirp.posts import mentions
from chirp.posts.models import Post
from chirp.users.models import User

# As Mastodon's context endpoint: at most this many ancestors, and this many descendants
# down to this depth. Rows read for the descendants are capped too, so a huge thread costs a
# bounded read (the first replies, depth first, are what is shown).
ANCESTORS_LIMIT = 40
DESCENDANTS_LIMIT = 60
DESCENDANTS_DEPTH = 20
DESCENDANTS_READ = 1000
# The web thread indents a reply under the one it answers down to this depth; deeper replies
# stand at this depth, still after the one they answer.
WEB_MAX_INDENT = 5


@dataclass
class Thread:
    """A post's conversation as ``viewer`` may see it."""

    post: Post
    # Oldest first; the chain stops where a post was deleted (the posts above it are lost).
    ancestors: list[Post] = field(default_factory=list)
    # Whether the oldest post shown (or the post itself) answers a post since deleted.
    ancestor_deleted: bool = False
    # Depth first in thread order (each reply after the one it answers, siblings oldest
    # first), with each one's depth below ``post`` (1: a direct reply).
    descendants: list[tuple[Post, int]] = field(default_factory=list)


async def thread(session: AsyncSession, post: Post, *, viewer: User | None) -> Thread:
    """The conversation around ``post`` (visible to ``viewer``) in a bounded number of queries."""
    chain, deleted = await _ancestors(session, post)
    below = await _descendants(session, post.id)
    seen = await _visible_ids(session, [*chain, *(p for p, _ in below)], viewer=viewer)
    ancestors = [p for p in chain if p.id in seen]
    return Thread(
        post=post,
        ancestors=ancestors,
        ancestor_deleted=deleted,
        descendants=_depth_first(post.id, [p for p, _ in below if p.id in seen], below),
    )


def ancestors_query(parent_id: int) -> Select[Post, int]:
    """The post ``parent_id`` and those above it, each with its distance (1: the parent)."""
    up = (
        select(Post.id, Post.in_reply_to_id, literal(1, Integer).label("depth"))
        .where(Post.id == parent_id)
        .cte("up", recursive=True)
    )
    parent = aliased(Post, name="parent")
    up = up.union_all(
        select(parent.id, parent.in_reply_to_id, up.c.depth + 1)
        .join(up, parent.id == up.c.in_reply_to_id)
        .where(up.c.depth < ANCESTORS_LIMIT)
    )
    return select(Post, up.c.depth).join(up, Post.id == up.c.id)


def descendants_query(post_id: int) -> Select[Post, int]:
    """Replies below ``post_id`` with their depth, up to the depth and read limits."""
    down = (
        select(Post.id, literal(1, Integer).label("depth"))
        .where(Post.in_reply_to_id == post_id)
        .cte("down", recursive=True)
    )
    reply = aliased(Post, name="reply")
    down = down.union_all(
        select(reply.id, down.c.depth + 1)
        .join(down, reply.in_reply_to_id == down.c.id)
        .where(down.c.depth < DESCENDANTS_DEPTH)
    )
    ids = select(down.c.id, down.c.depth).limit(DESCENDANTS_READ).subquery("ids")
    return select(Post, ids.c.depth).join(ids, Post.id == ids.c.id)


async def _ancestors(session: AsyncSession, post: Post) -> tuple[list[Post], bool]:
    """The posts ``post`` answers, oldest first, and whether the chain ends at a deleted one."""
    if post.in_reply_to_id is None:
        return [], False
    rows = await session.execute(ancestors_query(post.in_reply_to_id))
    found = sorted(((p, depth) for p, depth in rows), key=lambda row: row[1], reverse=True)
    chain = [p for p, _ in found]
    top = chain[0] if chain else post
    # The top of the chain answers something that is not there: deleted (not merely cut off
    # by the limit, and never hidden: hidden posts are still read here, then left out).
    deleted = top.in_reply_to_id is not None and len(chain) < ANCESTORS_LIMIT
    return chain, deleted


async def _descendants(session: AsyncSession, post_id: int) -> list[tuple[Post, int]]:
    """Replies below ``post_id`` with their depth, up to the depth and read limits."""
    rows = await session.execute(descendants_query(post_id))
    return [(p, depth) for p, depth in rows]


async def _visible_ids(
    session: AsyncSession, posts: Sequence[Post], *, viewer: User | None
) -> set[int]:
    """Ids of the posts ``viewer`` may see: followers-only ones of others only if followed,
    direct messages only if theirs or mentioning them."""
    viewer_id = viewer.id if viewer is not None else None
    direct = {
        p.id
        for p in posts
        if p.visibility == post_visibility.DIRECT
        and not post_visibility.direct_shown_to(
            p.author_id, mentions.mentioned_ids(p.mentions), viewer_id
        )
    }
    private = {
        p.author_id
        for p in posts
        if p.visibility == post_visibility.PRIVATE and (viewer is None or p.author_id != viewer.id)
    }
    followed: set[int] = set()
    if viewer is not None and private:
        followed = await follows_service.following_ids(
            session, viewer_id=viewer.id, candidates=list(private)
        )
    if viewer is not None:
        followed.add(viewer.id)
    return {
        p.id
        for p in posts
        if (p.visibility != post_visibility.PRIVATE or p.author_id in followed)
        and p.id not in direct
    }


def _depth_first(
    root_id: int, shown: list[Post], read: list[tuple[Post, int]]
) -> list[tuple[Post, int]]:
    """``shown`` in thread order with depths, at most ``DESCENDANTS_LIMIT`` of them.

    A reply the viewer may not see is left out and its own replies take its place (one level
    up), as Mastodon's clients show a thread with a post missing.
    """
    parent_of = {p.id: p.in_reply_to_id for p, _ in read}
    visible = {p.id for p in shown}
    children: dict[int, list[Post]] = {}
    for post in shown:
        above = post.in_reply_to_id
        # Lift a reply over hidden posts to the nearest one shown (or the thread's post).
        while above is not None and above != root_id and above not in visible:
            above = parent_of.get(above)
        children.setdefault(above if above is not None else root_id, []).append(post)
    out: list[tuple[Post, int]] = []
    # An explicit stack, bounded by the rows read: no recursion limit to trip.
    stack: list[tuple[Post, int]] = [
        (p, 1) for p in sorted(children.get(root_id, []), key=lambda p: p.id, reverse=True)
    ]
    while stack and len(out) < DESCENDANTS_LIMIT:
        post, depth = stack.pop()
        out.append((post, depth))
        kids = sorted(children.get(post.id, []), key=lambda p: p.id, reverse=True)
        stack.extend((kid, depth + 1) for kid in kids)
    return out

"""Accounts with so many followers that their posts are merged at read time, not fanned out."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows.models import Follow
from chirp.pagination import Cursor
from chirp.posts.models import Post
from chirp.users.models import User


async def followed_celebrities(session: AsyncSession, *, user_id: int, threshold: int) -> list[int]:
    """Return the accounts ``user_id`` follows that have more than ``threshold`` followers."""
    stmt = (
        select(Follow.followee_id)
        .join(User, User.id == Follow.followee_id)
        .where(Follow.follower_id == user_id, User.followers_count > threshold)
    )
    return list((await session.execute(stmt)).scalars())


def is_celebrity(followers_count: int, threshold: int) -> bool:
    """Whether an account's posts skip fan-out."""
    return followers_count > threshold


async def recent_post_ids(
    session: AsyncSession, *, author_ids: Sequence[int], cursor: Cursor, floor: int = 0
) -> list[int]:
    """Return ids of the authors' posts inside the cursor (and at or above ``floor``)."""
    if not author_ids:
        return []
    ascending = cursor.min_id is not None
    parts = []
    # One small index range per author, merged: an IN list would sort every post they wrote.
    for author_id in author_ids:
        stmt = select(Post.id).where(Post.author_id == author_id)
        if floor:
            stmt = stmt.where(Post.id >= floor)
        if cursor.max_id is not None:
            stmt = stmt.where(Post.id < cursor.max_id)
        if cursor.since_id is not None:
            stmt = stmt.where(Post.id > cursor.since_id)
        if cursor.min_id is not None:
            stmt = stmt.where(Post.id > cursor.min_id)
        order = Post.id.asc() if ascending else Post.id.desc()
        parts.append(select(stmt.order_by(order).limit(cursor.limit).subquery().c.id))
    rows = (await session.execute(union_all(*parts))).scalars()
    return sorted(set(rows), reverse=not ascending)[: cursor.limit]

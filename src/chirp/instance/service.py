"""Instance statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import utcnow
from chirp.users.models import User


@dataclass(frozen=True)
class Stats:
    """Counts shown by the instance endpoints."""

    users: int
    posts: int
    active_month: int


async def stats(session: AsyncSession) -> Stats:
    """Count users, posts and users active in the last 30 days."""
    month_ago = utcnow() - timedelta(days=30)
    row = (
        await session.execute(
            select(
                select(func.count()).select_from(User).scalar_subquery(),
                # Each user row carries its post count, so no scan of posts is needed.
                select(func.coalesce(func.sum(User.posts_count), 0)).scalar_subquery(),
                select(func.count())
                .select_from(User)
                .where(User.last_active_at >= month_ago)
                .scalar_subquery(),
            )
        )
    ).one()
    return Stats(users=int(row[0]), posts=int(row[1]), active_month=int(row[2]))

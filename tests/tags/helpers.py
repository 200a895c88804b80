"""Posts with tags, as several authors write them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.users.models import User


async def post(session: AsyncSession, author: User, text: str, visibility: str = "public") -> Post:
    """Create and commit a post with ``visibility``."""
    made = await posts_service.create_post(
        session, author=author, text=text, max_length=500, visibility=visibility
    )
    await session.commit()
    return made

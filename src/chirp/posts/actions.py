"""What acting on a post (liking it, reacting to it) acts on."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.users.models import User


class Change(Protocol):
    """A service call that changes what a user did to a post, as ``likes_service.like``."""

    def __call__(self, session: AsyncSession, *, user: User, post: Post) -> Awaitable[object]:
        """Apply the change; nothing is committed."""
        ...


async def original_or_404(session: AsyncSession, post: Post, *, viewer: User | None) -> Post:
    """The post that acting on ``post`` acts on: itself, or the original a repost shares.

    As Mastodon: liking (or reacting to) a repost is liking the post it shares. NotFound if
    that post is gone or hidden from the viewer.
    """
    if post.reblog_of_id is None:
        return post
    return await posts_service.get_visible_post_or_404(session, post.reblog_of_id, viewer=viewer)


async def target_or_404(
    session: AsyncSession, post_id: int, *, viewer: User | None
) -> tuple[Post, Post]:
    """(the post ``post_id`` names, the post an action on it acts on); NotFound if unseen."""
    post = await posts_service.get_visible_post_or_404(session, post_id, viewer=viewer)
    return post, await original_or_404(session, post, viewer=viewer)

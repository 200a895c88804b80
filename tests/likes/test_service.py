"""The like and reaction services when the post goes away between reading and acting."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.errors import NotFound
from chirp.likes import service as likes_service
from chirp.posts.models import Post
from chirp.reactions import service as reactions_service
from tests.factories import make_post, make_user
from tests.likes.helpers import favourites_of, reactions_of


async def test_acting_on_a_post_deleted_after_it_was_read_is_not_found(
    session: AsyncSession,
) -> None:
    ann, bob = await make_user(session, "ann"), await make_user(session, "bob")
    post = await make_post(session, ann, "here, then gone")
    # Another request deletes it after this one read it.
    await session.execute(delete(Post).where(Post.id == post.id))
    for act in (
        likes_service.like(session, user=bob, post=post),
        reactions_service.react(session, user=bob, post=post, emoji="👍"),
    ):
        with pytest.raises(NotFound):
            async with session.begin_nested():
                await act
    # Taking back what was never there is no change either way.
    assert await likes_service.unlike(session, user=bob, post=post) is False
    assert await reactions_service.unreact(session, user=bob, post=post, emoji="👍") is False
    assert await favourites_of(session, post.id) == (0, 0)
    assert await reactions_of(session, post.id) == {}

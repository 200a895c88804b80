"""Helpers for like and reaction tests: readers with overlapping follows, reposts, counts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import utcnow
from chirp.follows import service as follows_service
from chirp.ids import new_id
from chirp.likes.models import Favourite
from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.reactions.models import Reaction, ReactionCount
from chirp.users.models import User
from tests.factories import make_post, make_token, make_user
from tests.web.helpers import csrf, login


@dataclass
class People:
    """ann posts; bob follows ann; cat follows bob but not ann; dan follows nobody."""

    users: dict[str, User]
    tokens: dict[str, str]


async def people(session: AsyncSession) -> People:
    """Four readers with overlapping follows, and a token for each."""
    users = {name: await make_user(session, name) for name in ("ann", "bob", "cat", "dan")}
    await follows_service.follow(session, follower=users["bob"], followee=users["ann"])
    await follows_service.follow(session, follower=users["cat"], followee=users["bob"])
    await session.commit()
    tokens = {name: await make_token(session, user) for name, user in users.items()}
    return People(users=users, tokens=tokens)


async def ann_posts(session: AsyncSession, text: str) -> tuple[People, Post]:
    """The four readers, and a public post of ann's saying ``text``."""
    world = await people(session)
    return world, await make_post(session, world.users["ann"], text)


async def signed_in(client: httpx.AsyncClient, name: str) -> str:
    """Log ``name`` in on the web; the CSRF token of the forms on their home page."""
    await login(client, name)
    return await csrf(client, "/")


async def same_twice(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """Send one request twice: both succeed with the same answer (it is idempotent); the first."""
    first = await send()
    again = await send()
    assert first.status_code == again.status_code == 200, first.text
    assert first.json() == again.json()
    return first


async def private_post(session: AsyncSession, author: User, text: str) -> Post:
    """A followers-only post."""
    post = await posts_service.create_post(
        session, author=author, text=text, max_length=500, visibility="private"
    )
    await session.commit()
    return post


async def repost(session: AsyncSession, author: User, original: Post) -> Post:
    """A repost of ``original`` by ``author``, stored as reposts are (no text, the link set)."""
    wrapper = Post(
        id=new_id(),
        author_id=author.id,
        text="",
        created_at=utcnow(),
        visibility=original.visibility,
        reblog_of_id=original.id,
    )
    session.add(wrapper)
    await session.commit()
    return wrapper


async def favourites_of(session: AsyncSession, post_id: int) -> tuple[int, int]:
    """(the post's favourites_count column, the rows of favourites that count it)."""
    column = await session.scalar(
        select(Post.favourites_count)
        .where(Post.id == post_id)
        .execution_options(populate_existing=True)
    )
    rows = await session.scalar(
        select(func.count()).select_from(Favourite).where(Favourite.post_id == post_id)
    )
    return int(column or 0), int(rows or 0)


async def reactions_of(session: AsyncSession, post_id: int) -> dict[str, tuple[int, int]]:
    """Per emoji on a post: (its reaction_counts count, the reaction rows that count it)."""
    counts = dict(
        (
            await session.execute(
                select(ReactionCount.emoji, ReactionCount.count).where(
                    ReactionCount.post_id == post_id
                )
            )
        ).all()
    )
    rows = dict(
        (
            await session.execute(
                select(Reaction.emoji, func.count())
                .where(Reaction.post_id == post_id)
                .group_by(Reaction.emoji)
            )
        ).all()
    )
    return {name: (counts.get(name, 0), rows.get(name, 0)) for name in {*counts, *rows}}


__all__ = ["People", "make_post", "people", "private_post", "repost"]

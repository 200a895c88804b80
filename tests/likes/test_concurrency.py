"""Many sessions liking, unliking and reacting at once keep every count exact.

Each request is a session of its own on a connection of its own, committing for real (the
usual per-test rollback would put them all on one connection): on PostgreSQL they run in
parallel; on SQLite they queue for the write lock.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chirp.db import make_engine, make_session_factory
from chirp.ids import new_id
from chirp.jobs.models import Job
from chirp.likes import service as likes_service
from chirp.posts import actions
from chirp.reactions import service as reactions_service
from chirp.users.models import User
from tests.factories import make_post, make_user
from tests.likes.helpers import favourites_of, reactions_of

READERS = 12
NAMES = [f"racer{i}" for i in range(READERS)]


@pytest.fixture
async def factory(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on an engine with a connection for each reader; what they commit is removed."""
    url = engine.url.render_as_string(hide_password=False)
    options = {} if url.startswith("sqlite") else {"pool_size": READERS * 2, "max_overflow": 0}
    own = make_engine(url, **options)
    started = new_id()
    yield make_session_factory(own)
    async with make_session_factory(own)() as s:
        # The users take their posts, likes and reactions with them; the posts' jobs go too.
        await s.execute(delete(User).where(User.username.in_([*NAMES, "racee"])))
        await s.execute(delete(Job).where(Job.id >= started))
        await s.commit()
    await own.dispose()


Act = Callable[[AsyncSession, User], Awaitable[bool]]


async def _each(
    factory: async_sessionmaker[AsyncSession], users: list[User], act: Act
) -> list[bool]:
    """Run ``act`` for every user at once, each in a session of its own, as requests do."""

    async def one(user: User) -> bool:
        async with factory() as s:
            reader = await s.get(User, user.id)
            assert reader is not None
            changed = await act(s, reader)
            await s.commit()
            return changed

    return list(await asyncio.gather(*(one(u) for u in users)))


async def test_concurrent_likes_and_unlikes_keep_the_count_exact(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as s:
        users = [await make_user(s, name) for name in NAMES]
        post = await make_post(s, await make_user(s, "racee"), "everyone at once")

    async def like(s: AsyncSession, user: User) -> bool:
        _, target = await actions.target_or_404(s, post.id, viewer=user)
        return await likes_service.like(s, user=user, post=target)

    async def unlike(s: AsyncSession, user: User) -> bool:
        _, target = await actions.target_or_404(s, post.id, viewer=user)
        return await likes_service.unlike(s, user=user, post=target)

    # Everyone likes twice at once: each like counts once.
    changed = await _each(factory, users + users, like)
    assert sorted(changed) == [False] * READERS + [True] * READERS
    async with factory() as s:
        assert await favourites_of(s, post.id) == (READERS, READERS)

    # Half unlike (twice each) while the others like again, all at once.
    leaving = users[: READERS // 2]
    mixed = [(u, unlike) for u in leaving * 2] + [(u, like) for u in users[READERS // 2 :]]
    random.Random(14).shuffle(mixed)

    async def run(pair: tuple[User, Act]) -> bool:
        return (await _each(factory, [pair[0]], pair[1]))[0]

    results = await asyncio.gather(*(run(p) for p in mixed))
    assert sum(results) == len(leaving)  # only the first unlike of each removed a row
    async with factory() as s:
        assert await favourites_of(s, post.id) == (READERS - len(leaving), READERS - len(leaving))


async def test_concurrent_reactions_keep_each_emoji_count_exact(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as s:
        users = [await make_user(s, name) for name in NAMES]
        post = await make_post(s, await make_user(s, "racee"), "react at once")

    def reacting(emoji: str, *, on: bool = True) -> Act:
        async def act(s: AsyncSession, user: User) -> bool:
            _, target = await actions.target_or_404(s, post.id, viewer=user)
            change = reactions_service.react if on else reactions_service.unreact
            return await change(s, user=user, post=target, emoji=emoji)

        return act

    # The first reactions with an emoji race to create its count row: one row, every one counted.
    await asyncio.gather(
        _each(factory, users, reacting("🔥")),
        _each(factory, users, reacting("❤")),
        _each(factory, users, reacting("❤️")),
    )
    async with factory() as s:
        assert await reactions_of(s, post.id) == {"🔥": (READERS, READERS), "❤️": (READERS, READERS)}
    await asyncio.gather(
        _each(factory, users[:5], reacting("🔥", on=False)),
        _each(factory, users[:5], reacting("🔥", on=False)),
        _each(factory, users, reacting("❤️", on=False)),
        _each(factory, users[5:], reacting("🔥")),
    )
    async with factory() as s:
        assert await reactions_of(s, post.id) == {
            "🔥": (READERS - 5, READERS - 5),
            "❤️": (0, 0),
        }

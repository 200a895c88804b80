"""The same follow asked for twice at once, as a double click or a client's retry does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chirp.db import make_engine, make_session_factory
from chirp.follows import service as follows_service
from chirp.follows.models import Follow
from chirp.ids import new_id
from chirp.jobs.models import Job
from chirp.users.models import User
from tests.factories import make_user

NAMES = ("twice", "twiced")


@pytest.fixture
async def factory(
    engine: AsyncEngine, backend: str
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on connections of their own that commit for real; what they made is removed."""
    if backend == "sqlite":
        pytest.skip("SQLite runs one writing transaction at a time: two follows cannot race")
    own = make_engine(engine.url.render_as_string(hide_password=False), pool_size=2)
    started = new_id()
    yield make_session_factory(own)
    async with make_session_factory(own)() as s:
        await s.execute(delete(User).where(User.username.in_(NAMES)))
        await s.execute(delete(Job).where(Job.id >= started))
        await s.commit()
    await own.dispose()


async def test_one_follow_made_twice_at_once_is_made_once_and_keeps_the_later_options(
    factory: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with factory() as s:
        fan, star = await make_user(s, NAMES[0]), await make_user(s, NAMES[1])
        await s.commit()
    # Both requests look for the follow before either makes it: the race the unique index settles.
    both_looked = asyncio.Barrier(2)
    look = follows_service.is_following

    async def look_together(session: AsyncSession, **pair: int) -> bool:
        found = await look(session, **pair)
        await both_looked.wait()
        return found

    monkeypatch.setattr(follows_service, "is_following", look_together)

    async def follow(reblogs: bool) -> bool:
        async with factory() as s:
            follower, followee = await s.get(User, fan.id), await s.get(User, star.id)
            assert follower is not None and followee is not None
            made = await follows_service.follow(
                s, follower=follower, followee=followee, reblogs=reblogs
            )
            await s.commit()
            return made

    made = await asyncio.wait_for(asyncio.gather(follow(True), follow(False)), 30)
    assert sorted(made) == [False, True]
    # The request that found the follow made by the other applies its own options to it.
    second_reblogs = [True, False][made.index(False)]
    async with factory() as s:
        rows = (await s.execute(select(Follow).where(Follow.follower_id == fan.id))).scalars()
        assert [(r.followee_id, r.show_reblogs) for r in rows] == [(star.id, second_reblogs)]
        counts = select(User.following_count, User.followers_count).where(
            User.id.in_([fan.id, star.id])
        )
        assert sorted((await s.execute(counts)).all()) == [(0, 1), (1, 0)]

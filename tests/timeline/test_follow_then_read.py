"""The very next read after a follow or an unfollow shows it, before any job runs.

The client here is a plain ASGI transport: no worker drains the job queue between the
follow and the read, as a real client racing the worker would see it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.config import Settings
from chirp.follows import service as follows_service
from chirp.pagination import Cursor
from chirp.posts import reposts
from chirp.posts import service as posts_service
from chirp.timeline import service as timeline_service
from chirp.users.models import User
from tests.conftest import REDIS_BACKEND
from tests.factories import auth, make_post, make_token, make_user
from tests.timeline import all_pages, is_built

PAGE = 6
MAX_PAGES = 100


@pytest.fixture(params=[10_000, 1], ids=["fanned-out", "large-accounts"])
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """As usual, or with everyone followed twice or more merged at read time."""
    return settings.model_copy(update={"fanout_max_followers": request.param})


@pytest.fixture
async def racing_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests leave their jobs queued."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _api_pages(client: httpx.AsyncClient, token: str) -> list[list[int]]:
    pages: list[list[int]] = []
    url = f"/api/v1/timelines/home?limit={PAGE}"
    for _ in range(MAX_PAGES):
        r = await client.get(url, headers=auth(token))
        assert r.status_code == 200
        page = [int(s["id"]) for s in r.json()]
        if not page:
            return pages
        pages.append(page)
        url = f"/api/v1/timelines/home?limit={PAGE}&max_id={page[-1]}"
    raise AssertionError("paging never ended")


async def _sql_pages(session: AsyncSession, user: User) -> list[list[int]]:
    async def read(cursor: Cursor) -> list[int]:
        return await timeline_service.home_post_ids(session, user_id=user.id, cursor=cursor)

    return await all_pages(read, PAGE)


async def test_next_read_after_follow_and_unfollow_matches_the_database(
    racing_client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, backend: str
) -> None:
    alice, bob, carol, dave = [
        await make_user(session, n) for n in ("alice", "bob", "carol", "dave")
    ]
    for follower, followee in [(alice, bob), (carol, bob), (carol, dave), (dave, alice)]:
        await follows_service.follow(session, follower=follower, followee=followee)
    await session.commit()
    # erin is followed by no one: carol's reposts of her posts are the only way they show.
    erin = await make_user(session, "erin")
    shared = [await make_post(session, erin, f"erin {i}") for i in range(3)]
    for author, count in [(alice, 3), (bob, 8), (carol, 25), (dave, 9)]:
        for i in range(count):
            await make_post(session, author, f"{author.username} {i}")
            if author is carol and i % 8 == 5:
                await reposts.repost(session, actor=carol, post_id=shared[i // 8].id)
                await session.commit()
    users = [alice, bob, carol, dave]
    tokens = {u.id: await make_token(session, u) for u in users}

    async def assert_everyone_reads_the_database() -> None:
        for user in users:
            want = await _sql_pages(session, user)
            assert await _api_pages(racing_client, tokens[user.id]) == want, user.username

    await assert_everyone_reads_the_database()  # every timeline is materialised now

    r = await racing_client.post(
        f"/api/v1/accounts/{carol.id}/follow", headers=auth(tokens[alice.id])
    )
    assert r.status_code == 200 and r.json()["following"]
    shown = {i for page in await _api_pages(racing_client, tokens[alice.id]) for i in page}
    carols = set(await posts_service.recent_ids(session, author_id=carol.id, limit=99))
    assert len(carols) == 25 + 3 and carols <= shown  # her reposts too
    await assert_everyone_reads_the_database()

    r = await racing_client.post(
        f"/api/v1/accounts/{bob.id}/unfollow", headers=auth(tokens[alice.id])
    )
    assert r.status_code == 200 and not r.json()["following"]
    await assert_everyone_reads_the_database()

    # Dave swaps alice for carol: both at once, on the very next read.
    await racing_client.post(f"/api/v1/accounts/{alice.id}/unfollow", headers=auth(tokens[dave.id]))
    await racing_client.post(f"/api/v1/accounts/{carol.id}/follow", headers=auth(tokens[dave.id]))
    await assert_everyone_reads_the_database()

    if backend == REDIS_BACKEND:  # and Redis answered, not the database fallback
        reader = app.state.home_timeline
        assert reader.breaker.closed
        for user in users:
            assert await is_built(reader.cache.redis, user.id)

"""Instance statistics are counted in the background, never per request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from chirp.db import make_engine, make_session_factory, utcnow
from chirp.instance.service import InstanceStats
from chirp.main import create_app
from chirp.migrate import upgrade
from chirp.redis_client import make_redis
from chirp.users.models import User
from tests import services
from tests.factories import make_post, make_user
from tests.services import settings_for


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Collect the SQL every connection of ``engine`` runs inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])  # (conn, cursor, statement, parameters, context, executemany)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _refresh(app: FastAPI) -> None:
    stats: InstanceStats = app.state.instance_stats
    await stats.refresh(app.state.session_factory)


async def _numbers(client: httpx.AsyncClient) -> tuple[int, int, int]:
    v1 = (await client.get("/api/v1/instance")).json()["stats"]
    v2 = (await client.get("/api/v2/instance")).json()["usage"]["users"]
    return v1["user_count"], v1["status_count"], v2["active_month"]


async def test_instance_requests_read_no_table(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    alice = await make_user(session, "alice")
    await make_post(session, alice)
    await _refresh(app)
    await client.get("/health")  # on PostgreSQL + Redis, the worker delivers the post now
    with statements(engine) as seen:
        for path in ("/api/v1/instance", "/api/v2/instance"):
            assert (await client.get(path)).status_code == 200
    # Counting users per request was a full scan of the table on every client's start-up.
    scans = [s for s in seen if "users" in s or "posts" in s or "count(" in s.lower()]
    assert scans == []


async def test_statistics_change_after_a_refresh_only(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    await make_post(session, alice)
    await _refresh(app)
    assert await _numbers(client) == (1, 1, 1)

    bob = await make_user(session, "bob")
    carol = await make_user(session, "carol")
    for author in (bob, bob, carol):
        await make_post(session, author)
    # carol has not been seen for 40 days: she counts as a user, not as active this month.
    await session.execute(
        update(User).where(User.id == carol.id).values(last_active_at=utcnow() - timedelta(40))
    )
    await session.commit()
    assert await _numbers(client) == (1, 1, 1)  # served from the last count

    await _refresh(app)
    assert await _numbers(client) == (3, 4, 2)


async def _wait_for(app: FastAPI, expected: tuple[int, int, int]) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        deadline = time.monotonic() + 10
        while (got := await _numbers(client)) != expected:
            assert time.monotonic() < deadline, f"statistics stuck at {got}, expected {expected}"
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("with_redis", [False, True], ids=["memory", "redis"])
async def test_a_served_app_recounts_in_the_background(tmp_path: Path, with_redis: bool) -> None:
    if with_redis and not services.REDIS_URL:
        services.unavailable("Redis tests need CHIRP_TEST_REDIS_URL")
    url = f"sqlite+aiosqlite:///{tmp_path / 'stats.db'}"
    await asyncio.to_thread(upgrade, url)
    redis_url = services.REDIS_URL if with_redis else None
    settings = settings_for(url, instance_stats_seconds=1, redis_url=redis_url)
    engine = make_engine(url)
    writer = make_session_factory(engine)
    try:
        async with writer() as session:
            await make_post(session, await make_user(session, "alice"))
        # Two processes' worth of apps: with Redis one counts and both serve its numbers.
        apps = [create_app(settings), create_app(settings)]
        async with (
            apps[0].router.lifespan_context(apps[0]),
            apps[1].router.lifespan_context(apps[1]),
        ):
            for app in apps:
                await _wait_for(app, (1, 1, 1))
            async with writer() as session:
                await make_post(session, await make_user(session, "bob"))
            for app in apps:
                await _wait_for(app, (2, 2, 2))
    finally:
        await engine.dispose()
        if redis_url:
            client = make_redis(redis_url)
            await client.flushdb()
            await client.aclose()

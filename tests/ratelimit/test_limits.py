"""Rate limits: 429 past a window, Mastodon's headers on every limited response."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.main import create_app
from chirp.ratelimit.limiter import RateLimiter
from tests import services


async def _client(settings: Settings, db: async_sessionmaker[AsyncSession]) -> httpx.AsyncClient:
    app = create_app(settings, session_factory=db)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def strict(
    settings: Settings, db: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(settings.model_copy(update={"rate_limit_api": "3/minute"}), db) as c:
        yield c


async def test_api_calls_past_the_window_get_429_with_headers(strict: httpx.AsyncClient) -> None:
    seen = []
    for _ in range(3):
        r = await strict.get("/api/v1/nothing-here")
        seen.append(int(r.headers["x-ratelimit-remaining"]))
        assert r.headers["x-ratelimit-limit"] == "3"
        datetime.fromisoformat(r.headers["x-ratelimit-reset"])
    assert seen == [2, 1, 0]
    r = await strict.get("/api/v1/nothing-here")
    assert r.status_code == 429
    assert r.json() == {"error": "Too many requests"}
    assert r.headers["x-ratelimit-remaining"] == "0"


async def test_pages_read_with_get_are_not_limited(strict: httpx.AsyncClient) -> None:
    for _ in range(5):
        r = await strict.get("/docs")
        assert r.status_code == 200
        assert "x-ratelimit-limit" not in r.headers


async def test_disabled_limits_let_everything_through(
    settings: Settings, db: async_sessionmaker[AsyncSession]
) -> None:
    relaxed = settings.model_copy(
        update={"rate_limit_api": "1/minute", "rate_limit_enabled": False}
    )
    async with await _client(relaxed, db) as c:
        for _ in range(3):
            assert (await c.get("/api/v1/nothing-here")).status_code == 404


async def test_redis_counters_are_shared_between_processes(
    settings: Settings, redis: Redis
) -> None:
    shared = settings.model_copy(
        update={"redis_url": services.REDIS_URL, "rate_limit_api": "4/minute"}
    )
    first, second = RateLimiter(shared), RateLimiter(shared)
    await first.reset()
    verdicts = [await (first if i % 2 else second).hit("api", "ip:203.0.113.9") for i in range(5)]
    assert [v.allowed for v in verdicts] == [True, True, True, True, False]
    await first.reset()

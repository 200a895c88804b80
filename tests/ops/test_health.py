"""Health checks and benchmark endpoints."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.main import create_app


async def test_health_reports_the_database_and_redis(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    r = await client.get("/health")
    assert r.status_code == 200
    checks = {"database": "ok", **({"redis": "ok"} if settings.redis_url else {})}
    assert r.json() == {"status": "ok", "checks": checks}


async def test_bench_endpoints_exist_only_when_enabled(
    client: httpx.AsyncClient, settings: Settings, db: async_sessionmaker[AsyncSession]
) -> None:
    assert (await client.get("/_bench/ping")).status_code == 404
    app = create_app(settings.model_copy(update={"bench_endpoints": True}), session_factory=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await c.get("/_bench/ping")
        assert r.status_code == 200 and r.json() == {"ok": True}

"""Fixtures: both databases, per-test rollback, the app, an HTTP client and factories."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.db import make_engine
from chirp.main import create_app
from chirp.migrate import upgrade_connection
from chirp.redis_client import make_redis
from tests import services
from tests.live import live_server
from tests.services import settings_for

__all__ = ["live_server"]


async def reset_postgres(engine: AsyncEngine) -> None:
    """Drop every table so migrations run from scratch."""
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """A migrated database of each kind, shared by the session."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "chirp-test.db"
        url = f"sqlite+aiosqlite:///{path}"
        eng = make_engine(url)
    else:
        if not services.DATABASE_URL:
            services.unavailable("PostgreSQL tests need CHIRP_TEST_DATABASE_URL")
        url = str(services.DATABASE_URL)
        eng = make_engine(url, pool_size=2, max_overflow=2)
        await reset_postgres(eng)
    async with eng.begin() as conn:
        await conn.run_sync(upgrade_connection)
    yield eng
    await eng.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory inside one transaction that is rolled back after the test."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        factory = async_sessionmaker(
            bind=conn,
            expire_on_commit=False,
            autoflush=False,
            join_transaction_mode="create_savepoint",
        )
        try:
            yield factory
        finally:
            await outer.rollback()


@pytest.fixture
async def session(db: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for service-level tests."""
    async with db() as s:
        yield s


@pytest.fixture
def settings(engine: AsyncEngine) -> Settings:
    """Test settings for the current database."""
    return settings_for(engine.url.render_as_string(hide_password=False))


@pytest.fixture
def app(settings: Settings, db: async_sessionmaker[AsyncSession]) -> FastAPI:
    """The app, using the test's rolled-back transaction."""
    return create_app(settings, session_factory=db)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A Redis client on an emptied test database."""
    if not services.REDIS_URL:
        services.unavailable("Redis tests need CHIRP_TEST_REDIS_URL")
    client = make_redis(str(services.REDIS_URL))
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()

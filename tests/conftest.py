"""Fixtures: both databases, per-test rollback, the app, an HTTP client and factories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.db import make_engine
from chirp.jobs import registry
from chirp.jobs.worker import JobContext, Worker
from chirp.main import create_app
from chirp.migrate import upgrade_connection
from chirp.redis_client import make_redis
from tests import mutation, services
from tests.live import live_server
from tests.services import settings_for

__all__ = ["live_server"]


async def reset_postgres(engine: AsyncEngine) -> None:
    """Drop every table so migrations run from scratch."""
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))


def pytest_configure(config: pytest.Config) -> None:
    """Point parallel mutation-testing processes at stores of their own."""
    services.use_own_stores_in_parallel_runs()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under mutation testing, run the cheapest test files first so a mutant fails fast."""
    if mutation.under_mutation():
        mutation.cheapest_files_first(items)


SQL_BACKENDS = ["sqlite", "postgresql"]
# The production shape: PostgreSQL, Redis timelines and rate limits, jobs run by a worker.
REDIS_BACKEND = "postgresql+redis"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test on both databases, and tests through the app on PostgreSQL + Redis too."""
    if "backend" not in metafunc.fixturenames:
        return
    through_app = {"app", "make_app"} & set(metafunc.fixturenames)
    backends = SQL_BACKENDS + ([REDIS_BACKEND] if through_app else [])
    metafunc.parametrize("backend", backends, indirect=True, scope="session")


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """Which stores the test runs on: ``sqlite``, ``postgresql`` or ``postgresql+redis``."""
    name: str = request.param
    if name == REDIS_BACKEND and not services.REDIS_URL:
        services.unavailable("PostgreSQL + Redis tests need CHIRP_TEST_REDIS_URL")
    return name


@pytest.fixture(scope="session")
async def engine(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """A migrated database of each kind, shared by the session."""
    if backend == "sqlite":
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
def settings(engine: AsyncEngine, backend: str) -> Settings:
    """Test settings for the current database (and Redis, on that backend)."""
    url = engine.url.render_as_string(hide_password=False)
    if backend == REDIS_BACKEND:
        return settings_for(url, redis_url=services.REDIS_URL)
    return settings_for(url)


@pytest.fixture
async def app(
    settings: Settings,
    db: async_sessionmaker[AsyncSession],
    backend: str,
) -> AsyncIterator[FastAPI]:
    """The app, using the test's rolled-back transaction (and an emptied Redis)."""
    application = create_app(settings, session_factory=db)
    if backend != REDIS_BACKEND:
        yield application
        return
    # The lifespan connects Redis, as in production; jobs are left to a worker (see client).
    async with _emptied_redis(), application.router.lifespan_context(application):
        yield application


class WorkerTransport(httpx.ASGITransport):
    """Runs the jobs each request queued before answering, like an instant worker process."""

    def __init__(self, app: FastAPI, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        super().__init__(app=app, client=client)
        self.application = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve the request, then drain the job queue."""
        response = await super().handle_async_request(request)
        state = self.application.state
        context = JobContext(
            session_factory=state.session_factory,
            settings=state.settings,
            timeline_cache=state.timeline_cache,
        )
        await Worker(context, registry.handlers()).drain()
        return response


@pytest.fixture
async def client(app: FastAPI, backend: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    if backend == REDIS_BACKEND:
        transport: httpx.ASGITransport = WorkerTransport(app)
    else:
        transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def client_of(app: FastAPI, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client of ``app`` calling from ``ip``, like ``client`` (jobs run by a worker on Redis)."""
    address = (ip, 123)
    transport: httpx.ASGITransport
    if app.state.timeline_cache is not None:
        transport = WorkerTransport(app, client=address)
    else:
        transport = httpx.ASGITransport(app=app, client=address)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


MakeApp = Callable[..., Awaitable[FastAPI]]


@pytest.fixture
async def make_app(
    settings: Settings, db: async_sessionmaker[AsyncSession], backend: str
) -> AsyncIterator[MakeApp]:
    """Build apps with setting overrides, on the test's backend as ``app`` is (Redis included)."""
    async with AsyncExitStack() as stack:
        if backend == REDIS_BACKEND:
            await stack.enter_async_context(_emptied_redis())

        async def build(**overrides: object) -> FastAPI:
            application = create_app(settings.model_copy(update=overrides), session_factory=db)
            if backend == REDIS_BACKEND:
                await stack.enter_async_context(application.router.lifespan_context(application))
            return application

        yield build


@asynccontextmanager
async def _emptied_redis() -> AsyncIterator[Redis]:
    if not services.REDIS_URL:
        services.unavailable("Redis tests need CHIRP_TEST_REDIS_URL")
    client = make_redis(str(services.REDIS_URL))
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A Redis client on an emptied test database."""
    async with _emptied_redis() as client:
        yield client

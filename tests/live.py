"""A real Chirp server on a free loopback port, for Mastodon.py and browser tests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import make_url

from chirp.config import Settings
from chirp.db import make_engine
from chirp.main import create_app
from chirp.migrate import upgrade
from tests import services
from tests.services import settings_for


@dataclass(frozen=True)
class LiveServer:
    """A running server: its base URL and settings."""

    url: str
    settings: Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def recreate_postgres_db(admin_url: str, name: str) -> None:
    """Drop and create a database on the server of ``admin_url``."""
    engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()


def database_url(backend: str, tmp_dir: Path) -> str:
    """Return the URL of a fresh, migrated database of ``backend`` for a live server."""
    if backend != "sqlite":
        return fresh_postgres_database("live", "PostgreSQL tests")
    url = f"sqlite+aiosqlite:///{tmp_dir / 'live.db'}"
    upgrade(url)
    return url


def fresh_postgres_database(suffix: str, needed_by: str) -> str:
    """Drop, create and migrate the test run's own database ``suffix``; return its URL."""
    if not services.DATABASE_URL:
        services.unavailable(f"{needed_by} need CHIRP_TEST_DATABASE_URL (PostgreSQL)")
    admin_url = str(services.DATABASE_URL)
    name = services.sibling_database(suffix)
    asyncio.run(recreate_postgres_db(admin_url, name))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Serve a fresh database over HTTP for the tests of one module."""
    with live(request.param, tmp_path_factory) as server:
        yield server


@contextmanager
def live(
    backend: str, tmp_path_factory: pytest.TempPathFactory, **overrides: object
) -> Iterator[LiveServer]:
    """A fresh database of ``backend`` served over HTTP, with setting ``overrides``."""
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one,
    # and preparing the database runs one too.
    with ThreadPoolExecutor(max_workers=1) as pool:
        url = pool.submit(database_url, backend, tmp_path_factory.mktemp("live")).result()
    port = _free_port()
    settings = settings_for(url, domain=f"127.0.0.1:{port}", **overrides)
    with serve(settings, port) as server:
        yield server


@contextmanager
def serve(settings: Settings, port: int | None = None) -> Iterator[LiveServer]:
    """Run the app with ``settings`` on loopback in a thread until the block ends."""
    port = port or _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", settings=settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)

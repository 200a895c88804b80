"""Which external services the tests may use, from CHIRP_TEST_* variables."""

from __future__ import annotations

import asyncio
import fcntl
import os
import tempfile

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from chirp.config import Settings
from tests.mutation import under_mutation

DATABASE_URL = os.environ.get("CHIRP_TEST_DATABASE_URL") or None
REDIS_URL = os.environ.get("CHIRP_TEST_REDIS_URL") or None
REQUIRE = os.environ.get("CHIRP_TEST_REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHIRP_TEST_CHROMIUM", "/usr/bin/chromium")


def sibling_database(suffix: str) -> str:
    """Name a database of the test run's own beside the test database (``chirp_test_live``).

    Derived from the test database's name, so suites run side by side against different test
    databases on one server never drop each other's databases.
    """
    base = make_url(DATABASE_URL).database if DATABASE_URL else None
    return f"{base or 'chirp_test'}_{suffix}"


def unavailable(reason: str) -> None:
    """Skip the test with ``reason``, or fail it when services are required (CI)."""
    if REQUIRE:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-0123456789"


def settings_for(database_url: str, **overrides: object) -> Settings:
    """Return test settings for a database."""
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "domain": "testserver",
        "demo_data": False,
        # Uploads of this test process, never the checkout's ./data/media.
        "media_dir": os.path.join(tempfile.gettempdir(), f"chirp-test-media-{os.getpid()}"),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


_slot_lock: int | None = None


def _claim_slot(tag: str, slots: int = 16) -> int:
    """Hold the lowest free slot number among this machine's processes tagged ``tag``."""
    global _slot_lock
    for slot in range(slots):
        path = os.path.join(tempfile.gettempdir(), f"chirp-test-slot-{tag}-{slot}.lock")
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        _slot_lock = fd  # held until the process exits
        return slot
    raise RuntimeError(f"all {slots} test slots for {tag} are taken")


async def _create_database(admin_url: str, name: str) -> None:
    from chirp.db import make_engine

    url = make_url(admin_url).set(database="postgres").render_as_string(hide_password=False)
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        found = await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not found:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()


def use_own_stores_in_parallel_runs() -> None:
    """Give each of mutmut's parallel test processes a database and Redis db of its own."""
    # mutmut forks one process per mutant and runs several at once; each drops and migrates
    # the test database at the start, so sharing one would make them wait on or break each
    # other (seen as spurious timeouts). Slot 0 keeps the configured stores.
    global DATABASE_URL, REDIS_URL
    if not under_mutation():
        return
    base = make_url(DATABASE_URL).database if DATABASE_URL else "sqlite"
    slot = _claim_slot(base or "chirp_test")
    if slot == 0:
        return
    if DATABASE_URL:
        name = sibling_database(f"slot{slot}")
        asyncio.run(_create_database(DATABASE_URL, name))
        url = make_url(DATABASE_URL).set(database=name)
        DATABASE_URL = url.render_as_string(hide_password=False)
    if REDIS_URL:
        redis_url = make_url(REDIS_URL)
        db = int(redis_url.database or 0) + slot
        if db > 15:
            raise RuntimeError(f"Redis db {db} for test slot {slot} does not exist")
        REDIS_URL = redis_url.set(database=str(db)).render_as_string(hide_password=False)

"""Which external services the tests may use, from CHIRP_TEST_* variables."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

from chirp.config import Settings

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
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]

"""Which external services the tests may use, from CHIRP_TEST_* variables."""

from __future__ import annotations

import os

import pytest

DATABASE_URL = os.environ.get("CHIRP_TEST_DATABASE_URL") or None
REDIS_URL = os.environ.get("CHIRP_TEST_REDIS_URL") or None
REQUIRE = os.environ.get("CHIRP_TEST_REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHIRP_TEST_CHROMIUM", "/usr/bin/chromium")


def unavailable(reason: str) -> None:
    """Skip the test with ``reason``, or fail it when services are required (CI)."""
    if REQUIRE:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)

"""Telling an unreachable or overloaded database from a bug, on real errors."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from chirp.db import make_engine
from chirp.ops import failures
from tests import services
from tests.faults.conftest import _free_port


def _postgres_url(**changes: object) -> str:
    if not services.DATABASE_URL:
        services.unavailable("needs CHIRP_TEST_DATABASE_URL (PostgreSQL)")
    return make_url(str(services.DATABASE_URL)).set(**changes).render_as_string(False)


async def test_a_refused_connection_is_unavailability() -> None:
    engine = make_engine(_postgres_url(host="127.0.0.1", port=_free_port()))
    with pytest.raises(Exception) as raised:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    await engine.dispose()
    assert failures.unavailability(raised.value) is not None
    assert failures.describe(raised.value).startswith("ConnectionRefusedError: ")


async def test_a_statement_timeout_is_unavailability_and_a_constraint_is_a_bug() -> None:
    engine = make_engine(
        _postgres_url(), connect_args={"server_settings": {"statement_timeout": "100"}}
    )
    async with engine.connect() as conn:
        with pytest.raises(Exception) as slow:
            await conn.execute(text("SELECT pg_sleep(2)"))
        await conn.rollback()
        with pytest.raises(IntegrityError) as broken:
            await conn.execute(text("CREATE TEMP TABLE t (x int PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO t VALUES (1), (1)"))
    await engine.dispose()
    assert failures.unavailability(slow.value) is not None
    assert failures.unavailability(broken.value) is None


def test_a_bug_while_handling_an_outage_is_still_a_bug() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError:
            {}["missing"]  # the bug
    except KeyError as exc:
        assert failures.unavailability(exc) is None
    caused = RuntimeError("wrapped")
    caused.__cause__ = TimeoutError()
    assert isinstance(failures.unavailability(caused), TimeoutError)

"""The fault proxy (bench/proxy.py) forwards, cuts and blackholes PostgreSQL connections."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from bench.generate import dsn
from bench.proxy import TcpProxy
from sqlalchemy.engine import make_url

from tests import services


async def test_cut_refuses_blackhole_holds_heal_forwards() -> None:
    if not services.DATABASE_URL:
        services.unavailable("the proxy test needs CHIRP_TEST_DATABASE_URL (PostgreSQL)")
    url = make_url(str(services.DATABASE_URL))
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    through = dsn(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    try:
        conn = await asyncpg.connect(through, timeout=5)
        assert await conn.fetchval("SELECT 1") == 1

        await proxy.cut()
        with pytest.raises((OSError, asyncpg.PostgresError, asyncpg.InterfaceError)):
            await conn.fetchval("SELECT 2", timeout=5)  # its connection was reset
        with pytest.raises(OSError):
            await asyncpg.connect(through, timeout=5)  # and a new one is refused
        await proxy.heal()
        conn = await asyncpg.connect(through, timeout=5)
        assert await conn.fetchval("SELECT 3") == 3

        await proxy.blackhole()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncpg.connect(through), timeout=0.5)  # accepted, unanswered
        query = asyncio.ensure_future(conn.fetchval("SELECT 4"))
        await asyncio.sleep(0.5)
        assert not query.done()  # held
        await proxy.heal()
        assert await asyncio.wait_for(query, timeout=5) == 4  # delivered once it heals
        await conn.close()
    finally:
        await proxy.close()

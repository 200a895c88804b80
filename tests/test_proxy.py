"""The fault proxy (tests/proxy.py) forwards, cuts, blackholes and restores PostgreSQL."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from bench.generate import dsn
from sqlalchemy.engine import make_url

from tests import services
from tests.proxy import TcpProxy


async def test_cut_refuses_blackhole_holds_restore_forwards() -> None:
    if not services.DATABASE_URL:
        services.unavailable("the proxy test needs CHIRP_TEST_DATABASE_URL (PostgreSQL)")
    url = make_url(str(services.DATABASE_URL))
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        through = dsn(
            url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        )
        conn = await asyncpg.connect(through, timeout=5)
        assert await conn.fetchval("SELECT 1") == 1
        assert proxy.mode == "forward"

        proxy.cut()
        with pytest.raises((OSError, asyncpg.PostgresError, asyncpg.InterfaceError)):
            await conn.fetchval("SELECT 2", timeout=5)  # its connection was reset
        with pytest.raises(OSError):
            await asyncpg.connect(through, timeout=5)  # and a new one is refused
        proxy.restore()
        conn = await asyncpg.connect(through, timeout=5)  # on the same port as before
        assert await conn.fetchval("SELECT 3") == 3

        proxy.blackhole()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncpg.connect(through), timeout=0.5)  # accepted, unanswered
        query = asyncio.ensure_future(conn.fetchval("SELECT 4"))
        await asyncio.sleep(0.5)
        assert not query.done()  # held
        proxy.restore()
        assert await asyncio.wait_for(query, timeout=5) == 4  # delivered once restored
        await conn.close()

        # A cut while blackholed, then a blackhole after a cut: each listens again.
        proxy.cut()
        proxy.blackhole()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncpg.connect(through), timeout=0.5)
        proxy.restore()
        conn = await asyncpg.connect(through, timeout=5)
        assert await conn.fetchval("SELECT 5") == 5
        await conn.close()

"""PostgreSQL cut, blackholed or restarted under a running ``chirp serve``, worker and CLI.

The database is faulted through a TCP proxy of the test's own (tests/proxy.py), never by
touching the shared server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from chirp.config import Settings
from chirp.db import make_engine, make_session_factory
from chirp.jobs import queue
from chirp.jobs.worker import JobContext, Worker
from tests import services
from tests.factories import auth, make_post, make_token, make_user
from tests.faults.conftest import RedisServer, _free_port
from tests.proxy import TcpProxy
from tests.services import TEST_SECRET, settings_for

LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) "
    r"\[\d+\] \[[^\]]+\] [\w.]+: "
)
# Short, so a test sees every timeout run out; production defaults are in config.py.
TIMEOUTS = {
    "CHIRP_DATABASE_CONNECT_TIMEOUT": "1",
    "CHIRP_DATABASE_STATEMENT_TIMEOUT": "1.5",
    "CHIRP_DATABASE_COMMAND_TIMEOUT": "2",
    "CHIRP_DATABASE_POOL_TIMEOUT": "2",
}


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    """A TCP proxy to the test database's server."""
    if not services.DATABASE_URL:
        services.unavailable("database outage tests need CHIRP_TEST_DATABASE_URL (PostgreSQL)")
    target = make_url(str(services.DATABASE_URL))
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as p:
        yield p


def _through(url: str, proxy: TcpProxy) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(False)


async def _seed(url: str) -> tuple[str, int]:
    """alice with a post; return her token and the post's id."""
    engine = make_engine(url)
    async with make_session_factory(engine)() as session:
        alice = await make_user(session, "alice")
        post = await make_post(session, alice, "before the outage")
        token = await make_token(session, alice)
    await engine.dispose()
    return token, post.id


@dataclass
class Served:
    """A ``chirp serve`` process: its URL, alice's token and where its log goes."""

    url: str
    token: str
    log: Path
    proc: subprocess.Popen[bytes]

    def log_since(self, offset: int) -> str:
        """What the server logged after ``offset`` bytes."""
        return self.log.read_bytes()[offset:].decode()

    def log_size(self) -> int:
        """How much the server has logged."""
        return self.log.stat().st_size


@pytest.fixture
def served(
    faults_db: str, proxy: TcpProxy, redis_server: RedisServer, tmp_path: Path
) -> Iterator[Served]:
    """``chirp serve`` on PostgreSQL through the proxy, with a private Redis."""
    token, _ = asyncio.run(_seed(faults_db))
    port = _free_port()
    env = {
        **os.environ,
        "CHIRP_ENVIRONMENT": "test",
        "CHIRP_SECRET_KEY": TEST_SECRET,
        "CHIRP_DATABASE_URL": _through(faults_db, proxy),
        "CHIRP_DATABASE_POOL_SIZE": "8",
        "CHIRP_REDIS_URL": redis_server.url,
        # Requests are the only users of the pool, as in web processes beside a worker.
        "CHIRP_WEB_RUNS_JOBS": "false",
        "CHIRP_RATE_LIMIT_ENABLED": "false",
        "CHIRP_DOMAIN": f"127.0.0.1:{port}",
        **TIMEOUTS,
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chirp.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "chirp serve did not start"
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield Served(url=url, token=token, log=log, proc=proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _warm_pool(served: Served, n: int = 8) -> None:
    """Make the server open several pooled connections (concurrent reads)."""
    with httpx.Client(base_url=served.url, timeout=10) as http, ThreadPoolExecutor(n) as pool:
        statuses = list(
            pool.map(lambda _: http.get("/api/v1/timelines/public").status_code, range(n * 4))
        )
    assert set(statuses) == {200}


def _reads(http: httpx.Client, served: Served) -> list[httpx.Response]:
    """One read of each kind: API (authenticated), API (public), web page, a post."""
    return [
        http.get("/api/v1/timelines/home", headers=auth(served.token)),
        http.get("/api/v1/timelines/public"),
        http.get("/"),
        http.get("/@alice"),
        http.post("/api/v1/statuses", data={"status": "during"}, headers=auth(served.token)),
    ]


def test_a_cut_answers_503_in_both_faces_logs_one_line_and_recovers(
    served: Served, proxy: TcpProxy
) -> None:
    _warm_pool(served)
    offset = served.log_size()
    proxy.cut()
    with httpx.Client(base_url=served.url, timeout=10) as http:
        answers = [r for _ in range(6) for r in _reads(http, served)]
        for r in answers:
            assert r.status_code == 503, (r.request.url, r.text)
            assert r.headers["retry-after"] == "5"
            if r.request.url.path.startswith("/api/"):
                assert r.json() == {
                    "error": "The service is temporarily unavailable; try again shortly"
                }
            else:
                assert r.headers["content-type"].startswith("text/html")
                assert 'class="card error-card"' in r.text
                assert "Temporarily unavailable" in r.text
        assert http.head("/health").status_code == 503
        during = served.log_since(offset)
        # 30 failed requests: one line per kind of failure, no traceback.
        assert "Traceback" not in during
        reported = [line for line in during.splitlines() if "unavailable" in line]
        assert 1 <= len(reported) <= 3, during

        proxy.restore()
        # Recovered without a restart: the very first requests succeed.
        for r in _reads(http, served):
            assert r.status_code == 200, (r.request.url, r.text)
        assert http.get("/health").json() == {
            "status": "ok",
            "checks": {"database": "ok", "redis": "ok"},
        }


async def _connections_to(url: str) -> int:
    engine = make_engine(url)
    async with engine.connect() as conn:
        count = await conn.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        )
    await engine.dispose()
    return int(count or 0) - 1  # not this one


def test_a_database_restart_costs_no_request(
    faults_db: str, served: Served, proxy: TcpProxy
) -> None:
    _warm_pool(served)
    assert asyncio.run(_connections_to(faults_db)) >= 2  # the server's pool is warm
    # A restart: every pooled connection is closed by the server, which then comes back.
    proxy.cut()
    time.sleep(0.2)
    proxy.restore()
    with httpx.Client(base_url=served.url, timeout=10) as http, ThreadPoolExecutor(8) as pool:
        statuses = [r.status_code for r in _reads(http, served)]
        statuses += list(
            pool.map(lambda _: http.get("/api/v1/timelines/public").status_code, range(32))
        )
    assert set(statuses) == {200}, statuses


def test_health_answers_within_a_second_with_the_database_blackholed(
    served: Served, proxy: TcpProxy
) -> None:
    _warm_pool(served)
    proxy.blackhole()
    with httpx.Client(base_url=served.url, timeout=10) as http:
        for _ in range(3):
            started = time.monotonic()
            r = http.get("/health")
            assert time.monotonic() - started < 1.0
            assert r.status_code == 503
            body = r.json()
            assert body["status"] == "error" and body["checks"]["redis"] == "ok"
            assert body["checks"]["database"].startswith("error")
        # Other requests end with 503 once the command timeout (2 s here) runs out, rather
        # than hanging for the kernel's TCP timeout, or waiting as long again for a rollback.
        started = time.monotonic()
        r = http.get("/api/v1/timelines/public")
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert time.monotonic() - started < 3.5
        proxy.restore()
        deadline = time.monotonic() + 10
        while http.get("/health").status_code != 200:
            assert time.monotonic() < deadline, "did not recover"
            time.sleep(0.2)
        assert http.get("/api/v1/timelines/public").status_code == 200


def test_health_answers_within_a_second_with_redis_paused(
    served: Served, redis_server: RedisServer
) -> None:
    # Redis stops answering (as in a partition) for longer than its own timeouts.
    subprocess.run(
        ["redis-cli", "-p", str(redis_server.port), "CLIENT", "PAUSE", "3000", "ALL"],
        check=True,
        capture_output=True,
    )
    with httpx.Client(base_url=served.url, timeout=10) as http:
        started = time.monotonic()
        r = http.get("/health")
        assert time.monotonic() - started < 1.0
    # Redis is a cache: reported, but the process is still healthy.
    assert r.status_code == 200
    assert r.json()["checks"]["database"] == "ok"
    assert r.json()["checks"]["redis"].startswith("error")


def test_log_lines_carry_time_level_pid_and_request_id(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as http:
        r = http.get("/api/v1/timelines/public", headers={"X-Request-Id": "outage-test-42"})
        assert r.headers["x-request-id"] == "outage-test-42"
    time.sleep(0.2)
    lines = [line for line in served.log.read_text().splitlines() if line.strip()]
    logged = [line for line in lines if LOG_LINE.match(line)]
    # Everything but the command's own start-up banner is in Chirp's format.
    assert len(logged) >= len(lines) - 1, lines
    assert any(
        f"[{served.proc.pid}] [outage-test-42] uvicorn.access" in line
        and "/api/v1/timelines/public" in line
        for line in logged
    ), lines


def _chirp(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chirp.cli", *args],
        env={**os.environ, "CHIRP_ENVIRONMENT": "development", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_chirp_jobs_says_the_database_is_unreachable(faults_db: str, proxy: TcpProxy) -> None:
    env = {"CHIRP_DATABASE_URL": _through(faults_db, proxy), **TIMEOUTS}
    ok = _chirp(["jobs"], env)
    assert ok.returncode == 0 and "pending: 0" in ok.stdout, ok.stderr
    for fault in (proxy.cut, proxy.blackhole):
        fault()
        started = time.monotonic()
        result = _chirp(["jobs"], env)
        assert time.monotonic() - started < 20
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "is unreachable" in lines[0], result.stderr
        assert f"127.0.0.1:{proxy.port}" in lines[0] and "postgres:postgres" not in lines[0]
        proxy.restore()


def test_the_worker_backs_off_and_logs_one_line_while_the_database_is_cut(
    faults_db: str, proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    settings: Settings = settings_for(_through(faults_db, proxy), **_lower(TIMEOUTS))
    ran: list[dict[str, Any]] = []

    async def handler(_context: JobContext, payload: dict[str, Any]) -> None:
        ran.append(payload)

    async def scenario() -> None:
        engine = make_engine(settings.database_url, **settings.engine_options)
        factory = make_session_factory(engine)
        worker = Worker(
            JobContext(session_factory=factory, settings=settings),
            {"test-outage": handler},
            lease=timedelta(seconds=30),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run_forever(stop))
        try:
            await asyncio.sleep(0.3)
            proxy.cut()
            with caplog.at_level(logging.INFO, logger="chirp.jobs"):
                await asyncio.sleep(3)
            records = [r for r in caplog.records if r.name == "chirp.jobs"]
            # Before: a traceback every 0.1 s, 30 of them.
            assert 1 <= len(records) <= 2, [r.getMessage() for r in records]
            assert all(r.exc_info is None for r in records)
            assert "cannot claim jobs" in records[0].getMessage()
            proxy.restore()
            async with factory() as session:
                await queue.enqueue(session, "test-outage", {"n": 1})
                await session.commit()
            # The pause between claims is capped (at 5 s): work resumes soon after.
            for _ in range(80):
                if ran:
                    break
                await asyncio.sleep(0.1)
            assert ran == [{"n": 1}]
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
            await engine.dispose()

    asyncio.run(scenario())


def _lower(env: dict[str, str]) -> dict[str, str]:
    return {k.removeprefix("CHIRP_").lower(): v for k, v in env.items()}

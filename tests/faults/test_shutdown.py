"""SIGTERM to `chirp serve` and `chirp worker`: stop taking work, finish what is in hand within
the grace period, then exit; nothing a client started is cut off without an answer."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from redis import Redis as SyncRedis
from sqlalchemy import select

from chirp.db import make_engine
from chirp.jobs.models import PENDING, RUNNING, Job
from chirp.migrate import upgrade
from chirp.timeline.cache import member
from tests.faults.conftest import RedisServer
from tests.faults.test_worker_crash import CHIRP, _env, _materialise, _post, _seed
from tests.services import TEST_SECRET


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serving(db_url: str, *, workers: int, grace: int, log: Path) -> Iterator[tuple[int, int]]:
    """Run `chirp serve` on a free loopback port; yield its pid and port once it answers."""
    port = _free_port()
    env = {
        **os.environ,
        "CHIRP_DATABASE_URL": db_url,
        "CHIRP_SECRET_KEY": TEST_SECRET,
        "CHIRP_DOMAIN": f"127.0.0.1:{port}",
        "CHIRP_SHUTDOWN_GRACE_SECONDS": str(grace),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [CHIRP, "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the web processes go with it
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "chirp serve did not start"
            time.sleep(0.1)
        yield proc.pid, port
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class SlowUpload:
    """A request whose body arrives in two halves: in flight for as long as the client likes."""

    def __init__(self, port: int, name: str) -> None:
        body = json.dumps({"client_name": name, "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"})
        data = body.encode()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        head = (
            "POST /api/v1/apps HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        self.sock.sendall(head.encode() + data[: len(data) // 2])
        self.rest = data[len(data) // 2 :]

    def finish(self) -> tuple[int, dict[str, object]]:
        """Send the rest of the body; return the status and the JSON of a complete answer."""
        self.sock.sendall(self.rest)
        status, body = _read_response(self.sock)
        assert self.sock.recv(1) == b"", "the connection was not closed after the answer"
        self.sock.close()
        return status, json.loads(body)


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before the answer's headers: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in lines[1:])}
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed in the middle of the answer"
        body += chunk
    return int(lines[0].split()[1]), body


def _connect(port: int) -> str:
    """Try a new connection: ``refused``, or ``accepted`` (then it is closed)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return "accepted"
    except ConnectionRefusedError:
        return "refused"


@pytest.mark.parametrize(("database", "workers"), [("sqlite", 1), ("sqlite", 2), ("postgresql", 2)])
def test_sigterm_answers_requests_in_flight_and_refuses_new_connections(
    request: pytest.FixtureRequest, tmp_path: Path, database: str, workers: int
) -> None:
    if database == "postgresql":
        db_url: str = request.getfixturevalue("faults_db")
    else:
        db_url = f"sqlite+aiosqlite:///{tmp_path / 'chirp.db'}"
        upgrade(db_url)
    grace = 15
    with _serving(db_url, workers=workers, grace=grace, log=tmp_path / "serve.log") as (pid, port):
        uploads = [SlowUpload(port, f"app {i}") for i in range(4)]
        idle = socket.create_connection(("127.0.0.1", port), timeout=10)
        idle.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _read_response(idle)[0] == 200  # and the connection stays open, idle
        time.sleep(0.5)  # every request has reached a web process

        os.kill(pid, signal.SIGTERM)
        signalled = time.monotonic()
        # An idle keep-alive connection is closed cleanly, not reset.
        assert idle.recv(1) == b""
        idle.close()
        # Once the processes have seen the signal, nothing listens any more: a new connection
        # is refused (a load balancer moves on), not accepted into a queue nobody reads.
        time.sleep(1.5)
        assert [_connect(port) for _ in range(3)] == ["refused"] * 3
        # The requests in flight all along get their whole answers.
        answers = [upload.finish() for upload in uploads]
        assert [status for status, _ in answers] == [200] * 4
        assert sorted(str(body["name"]) for _, body in answers) == [f"app {i}" for i in range(4)]
    assert time.monotonic() - signalled < grace


def test_sigterm_cuts_requests_off_when_the_grace_period_ends(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'chirp.db'}"
    upgrade(db_url)
    grace = 2
    with _serving(db_url, workers=1, grace=grace, log=tmp_path / "serve.log") as (pid, port):
        stalled = SlowUpload(port, "never finished")  # a client that never sends the rest
        time.sleep(0.5)
        os.kill(pid, signal.SIGTERM)
        signalled = time.monotonic()
    # The grace period, and a moment for the application's own shutdown; not forever.
    assert time.monotonic() - signalled < grace + 3
    stalled.sock.close()


async def _job_rows(url: str) -> list[tuple[str, str | None, int]]:
    engine = make_engine(url)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(Job.status, Job.locked_by, Job.attempts))).all()
    await engine.dispose()
    return [(status, locked_by, attempts) for status, locked_by, attempts in rows]


def _worker_with_a_long_job(
    faults_db: str, redis_server: RedisServer, grace: int
) -> tuple[subprocess.Popen[bytes], int, list[int], SyncRedis]:
    """A `chirp worker` in the middle of a fan-out that takes seconds."""
    seeded = asyncio.run(_seed(faults_db, 3_000))
    redis = SyncRedis.from_url(redis_server.url, decode_responses=True)
    _materialise(redis, seeded.followers)
    env = _env(
        faults_db,
        redis_server.url,
        CHIRP_FANOUT_BATCH_SIZE="1",
        CHIRP_SHUTDOWN_GRACE_SECONDS=str(grace),
    )
    proc = subprocess.Popen(
        [CHIRP, "worker", "--concurrency", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    [post] = asyncio.run(_post(faults_db, seeded.author))
    first = f"chirp:tl:{seeded.followers[0]}"
    deadline = time.monotonic() + 60
    while redis.zscore(first, member(post)) is None:
        assert time.monotonic() < deadline, "the fan-out never started"
        time.sleep(0.005)
    assert redis.zscore(f"chirp:tl:{seeded.followers[-1]}", member(post)) is None
    return proc, post, seeded.followers, redis


def test_sigterm_lets_the_worker_finish_its_jobs(faults_db: str, redis_server: RedisServer) -> None:
    proc, post, followers, redis = _worker_with_a_long_job(faults_db, redis_server, grace=60)
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert asyncio.run(_job_rows(faults_db)) == []  # finished and deleted
    assert all(redis.zscore(f"chirp:tl:{uid}", member(post)) is not None for uid in followers)


def test_sigterm_gives_unfinished_jobs_back_after_the_grace_period(
    faults_db: str, redis_server: RedisServer
) -> None:
    proc, post, followers, redis = _worker_with_a_long_job(faults_db, redis_server, grace=1)
    try:
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        proc.wait(timeout=30)
        assert time.monotonic() - signalled < 1 + 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Ready for the next worker at once, the attempt not spent.
    assert asyncio.run(_job_rows(faults_db)) == [(PENDING, None, 0)]
    assert redis.zscore(f"chirp:tl:{followers[-1]}", member(post)) is None


def test_a_second_signal_stops_the_worker_at_once(
    faults_db: str, redis_server: RedisServer
) -> None:
    proc, _, _, _ = _worker_with_a_long_job(faults_db, redis_server, grace=60)
    try:
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        proc.wait(timeout=30)
        assert time.monotonic() - signalled < 2
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Left to its lease, as after a crash: another worker takes it over when that lapses.
    [(status, locked_by, attempts)] = asyncio.run(_job_rows(faults_db))
    assert (status, attempts) == (RUNNING, 1) and locked_by is not None

"""Real ``chirp serve`` and ``chirp worker`` processes, in both shapes, for end-to-end tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from chirp.migrate import upgrade
from tests import procs, services
from tests.faults.conftest import RedisServer
from tests.live import fresh_postgres_database

EMBEDDED = "embedded"  # one process, a SQLite file, jobs run by the web process
PRODUCTION = "production"  # PostgreSQL + Redis, 2 web processes and a worker process


@dataclass
class Deployment:
    """A running Chirp: its base URL, database, and processes (to read their logs)."""

    shape: str
    url: str
    database_url: str
    processes: list[procs.ChirpProcess] = field(default_factory=list)

    def logs(self) -> str:
        """The tail of every process's output, for a failing test's report."""
        return "\n".join(f"--- {p.name}\n{p.log()}" for p in self.processes)


@pytest.fixture(scope="module", params=[EMBEDDED, PRODUCTION])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """Chirp as its own processes on a fresh database, on a free loopback port."""
    tmp = tmp_path_factory.mktemp(request.param)
    port = procs.free_port()
    # One IP and a handful of accounts make hundreds of calls: Mastodon's limits would refuse.
    # Uploads go to the deployment's own directory (by default: ./data/media of the checkout),
    # shared by its processes as they would share a volume.
    extra = {"CHIRP_RATE_LIMIT_ENABLED": "false", "CHIRP_MEDIA_DIR": str(tmp / "media")}
    if request.param == EMBEDDED:
        database_url = f"sqlite+aiosqlite:///{tmp / 'chirp.db'}"
        upgrade(database_url)
        env = procs.chirp_env(database_url, port=port, **extra)
        server = procs.start_server(env, port=port, log_dir=tmp)
        running = Deployment(request.param, str(server.url), database_url, [server])
        try:
            yield running
        finally:
            server.stop()
        return
    if shutil.which("redis-server") is None:
        services.unavailable("end-to-end tests need the redis-server binary")
    database_url = fresh_postgres_database("e2e", "end-to-end tests")
    redis = RedisServer(tmp)
    redis.start()
    env = procs.chirp_env(database_url, redis_url=redis.url, port=port, **extra)
    try:
        with procs.stopped_at_exit() as running_procs:
            running_procs.append(procs.start_worker(env, log_dir=tmp))
            running_procs.append(procs.start_server(env, port=port, log_dir=tmp, workers=2))
            server = running_procs[-1]
            yield Deployment(request.param, str(server.url), database_url, running_procs)
    finally:
        redis.stop()

"""Streams across real processes: posted through one web process, streamed by another.

The production shape runs two separate ``chirp serve`` processes (each its own port) and a
``chirp worker`` on PostgreSQL and a private redis-server: the worker raises the events, and
each web process hears them on its one Redis subscription. The embedded shape is one
process on SQLite, its jobs and events in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from chirp.migrate import upgrade
from tests import procs, services
from tests.api.helpers import sign_up
from tests.factories import auth
from tests.faults.conftest import RedisServer
from tests.live import fresh_postgres_database
from tests.loops import at_most

WAIT = 15.0  # seconds an event may take: a worker's poll, Redis, a busy shared machine


@dataclass
class Servers:
    """The web processes: posts go to the first, streams to the last."""

    shape: str
    urls: list[str]
    processes: list[procs.ChirpProcess] = field(default_factory=list)


@pytest.fixture(scope="module", params=["embedded", "production"])
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    """Chirp as its own processes on a fresh database."""
    tmp = tmp_path_factory.mktemp(f"stream-{request.param}")
    extra = {"CHIRP_RATE_LIMIT_ENABLED": "false", "CHIRP_SHUTDOWN_GRACE_SECONDS": "1"}
    if request.param == "embedded":
        database_url = f"sqlite+aiosqlite:///{tmp / 'chirp.db'}"
        upgrade(database_url)
        port = procs.free_port()
        env = procs.chirp_env(database_url, port=port, **extra)
        server = procs.start_server(env, port=port, log_dir=tmp)
        try:
            yield Servers(request.param, [str(server.url)], [server])
        finally:
            server.stop()
        return
    if shutil.which("redis-server") is None:
        services.unavailable("end-to-end tests need the redis-server binary")
    database_url = fresh_postgres_database("e2estream", "end-to-end tests")
    redis = RedisServer(tmp)
    redis.start()
    try:
        with procs.stopped_at_exit() as running:
            running.append(
                procs.start_worker(
                    procs.chirp_env(database_url, redis_url=redis.url, **extra), log_dir=tmp
                )
            )
            urls = []
            for name in ("web-a", "web-b"):
                port = procs.free_port()
                env = procs.chirp_env(database_url, redis_url=redis.url, port=port, **extra)
                running.append(procs.start_server(env, port=port, log_dir=tmp, name=name))
                urls.append(str(running[-1].url))
            yield Servers(request.param, urls, running)
    finally:
        redis.stop()


class Stream:
    """A server-sent event stream read over HTTP in the background."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.opened = asyncio.Event()
        self.status = 0

    async def read(self, client: httpx.AsyncClient, url: str, token: str) -> None:
        async with client.stream("GET", url, headers=auth(token)) as response:
            self.status = response.status_code
            self.opened.set()
            event = None
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    event = line[len("event: ") :]
                elif line.startswith("data: ") and event is not None:
                    await self.events.put((event, line[len("data: ") :]))
                    event = None

    async def next(self) -> tuple[str, str]:
        async with asyncio.timeout(WAIT):
            return await self.events.get()

    async def nothing(self, seconds: float = 1.0) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                got = await self.events.get()
                raise AssertionError(f"unexpected event {got}")


@contextlib.asynccontextmanager
async def streams(
    url: str, tokens: dict[str, str], path: str = "/api/v1/streaming/user"
) -> AsyncIterator[dict[str, Stream]]:
    """Open one stream per token on the server at ``url``; close them all afterwards."""
    timeout = httpx.Timeout(10.0, read=None)
    async with httpx.AsyncClient(base_url=url, timeout=timeout) as client:
        opened = {name: Stream() for name in tokens}
        tasks = [
            asyncio.create_task(opened[name].read(client, path, token))
            for name, token in tokens.items()
        ]
        try:
            async with asyncio.timeout(WAIT):
                for stream in opened.values():
                    await stream.opened.wait()
                    assert stream.status == 200
            yield opened
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def _people(url: str, suffix: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        tokens = {
            name: await sign_up(client, f"{name}{suffix}") for name in ("ana", "ben", "cy", "di")
        }
        ids = {}
        for name, token in tokens.items():
            r = await client.get("/api/v1/accounts/verify_credentials", headers=auth(token))
            ids[name] = r.json()["id"]
        # ana and di follow ben; di follows ana too; cy follows nobody.
        for follower, followee in (("ana", "ben"), ("di", "ben"), ("di", "ana")):
            r = await client.post(
                f"/api/v1/accounts/{ids[followee]}/follow", headers=auth(tokens[follower])
            )
            assert r.status_code == 200, r.text
        # The follows' notifications are made by jobs: wait (bounded) until they are, so a
        # stream opened next starts after them.
        for name, expected in (("ben", 2), ("ana", 1)):
            for _ in at_most(int(WAIT / 0.05)):
                r = await client.get("/api/v1/notifications", headers=auth(tokens[name]))
                if len(r.json()) >= expected:
                    break
                await asyncio.sleep(0.05)
            assert len(r.json()) == expected, r.json()
    return tokens


def test_posts_and_deletes_reach_streams_on_another_process(servers: Servers) -> None:
    asyncio.run(_posts_and_deletes(servers))


async def _posts_and_deletes(servers: Servers) -> None:
    writer, reader = servers.urls[0], servers.urls[-1]
    tokens = await _people(writer, "p")
    async with (
        streams(reader, tokens) as open_streams,
        httpx.AsyncClient(base_url=writer, timeout=30) as client,
    ):
        r = await client.post(
            "/api/v1/statuses", data={"status": "ben live"}, headers=auth(tokens["ben"])
        )
        posted = r.json()["id"]
        for name in ("ana", "ben", "di"):
            event, data = await open_streams[name].next()
            assert event == "update" and json.loads(data)["id"] == posted, servers.processes
        # Followers only: ana and di follow ben, cy does not (and must not hear of it).
        r = await client.post(
            "/api/v1/statuses",
            data={"status": "ben private", "visibility": "private"},
            headers=auth(tokens["ben"]),
        )
        private = r.json()["id"]
        for name in ("ana", "di", "ben"):
            assert json.loads((await open_streams[name].next())[1])["id"] == private
        # ana's post: di follows her, ben does not.
        r = await client.post(
            "/api/v1/statuses", data={"status": "ana live"}, headers=auth(tokens["ana"])
        )
        anas = r.json()["id"]
        for name in ("ana", "di"):
            assert json.loads((await open_streams[name].next())[1])["id"] == anas
        # cy likes it: ana is told on her stream, held by the other process.
        r = await client.post(f"/api/v1/statuses/{anas}/favourite", headers=auth(tokens["cy"]))
        assert r.status_code == 200, r.text
        event, data = await open_streams["ana"].next()
        note = json.loads(data)
        assert event == "notification" and note["type"] == "favourite", data
        assert note["account"]["acct"] == "cyp" and note["status"]["id"] == anas
        r = await client.delete(f"/api/v1/statuses/{posted}", headers=auth(tokens["ben"]))
        assert r.status_code == 200
        for name in ("ana", "ben", "di"):
            assert await open_streams[name].next() == ("delete", posted)
        await open_streams["cy"].nothing()
        await open_streams["ben"].nothing(0.2)


def test_websocket_on_another_process(servers: Servers) -> None:
    asyncio.run(_websocket(servers))


async def _websocket(servers: Servers) -> None:
    writer, reader = servers.urls[0], servers.urls[-1]
    tokens = await _people(writer, "w")
    ws_url = reader.replace("http://", "ws://") + "/api/v1/streaming"
    async with websockets.connect(
        f"{ws_url}?stream=user", subprotocols=[Subprotocol(tokens["ana"])]
    ) as ws:
        await ws.send(json.dumps({"type": "subscribe", "stream": "public:local"}))
        # Messages are handled in order, and a refused one is answered: once this answer is
        # here, the subscription before it holds.
        await ws.send(json.dumps({"type": "subscribe", "stream": "list"}))
        async with asyncio.timeout(WAIT):
            assert json.loads(await ws.recv())["status"] == 400
        async with httpx.AsyncClient(base_url=writer, timeout=30) as client:
            r = await client.post(
                "/api/v1/statuses", data={"status": "#hello ws"}, headers=auth(tokens["ben"])
            )
            posted = r.json()["id"]
        got = []
        async with asyncio.timeout(WAIT):
            while len(got) < 2:
                got.append(json.loads(await ws.recv()))
        assert sorted(m["stream"][0] for m in got) == ["public:local", "user"]
        assert all(m["event"] == "update" and json.loads(m["payload"])["id"] == posted for m in got)
    # The client has left. Its stream ends quietly: no traceback for a socket that closed.
    await asyncio.sleep(0.5)  # the server finishes the closed stream's handler meanwhile
    for process in servers.processes:
        assert "Exception in ASGI application" not in process.log(tail=1_000_000), process.log()

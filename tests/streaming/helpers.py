"""Drive streams through the ASGI app itself: server-sent events and WebSockets.

httpx's ASGI transport waits for a response to end, which a stream never does; these
drivers speak ASGI directly and read what the app sends as it sends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.jobs import registry
from chirp.jobs.worker import JobContext, Worker
from chirp.streaming.bus import LocalBus

WAIT = 10.0  # seconds an expected event may take (Redis round trips on a busy machine)


@dataclass
class Event:
    """One server-sent event."""

    event: str
    data: str

    def json(self) -> Any:
        """The payload, which Mastodon sends as a JSON string."""
        return json.loads(self.data)


@dataclass
class SSE:
    """An open server-sent event stream of the app."""

    status: int
    headers: dict[str, str]
    body: str = ""
    chunks: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    comments: list[str] = field(default_factory=list)
    first_bytes: asyncio.Event = field(default_factory=asyncio.Event)
    _buffer: str = ""

    @property
    def json_error(self) -> str:
        """The ``error`` of a refused stream's JSON answer."""
        return str(json.loads(self.body)["error"])

    async def next(self, within: float = WAIT) -> Event:
        """The next event (comments are kept in ``comments``)."""
        async with asyncio.timeout(within):
            while True:
                frame = self._parse()
                if frame is not None:
                    return frame
                self._buffer += await self.chunks.get()

    def _parse(self) -> Event | None:
        while self._buffer.startswith(":") and "\n" in self._buffer:
            line, _, self._buffer = self._buffer.partition("\n")
            self.comments.append(line)
        if "\n\n" not in self._buffer:
            return None
        block, _, self._buffer = self._buffer.partition("\n\n")
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        return Event(fields["event"], fields["data"])

    async def nothing(self, within: float = 0.3) -> None:
        """Assert that no event arrives within ``within``."""
        with contextlib.suppress(TimeoutError):
            event = await self.next(within)
            raise AssertionError(f"unexpected event {event}")

    async def close(self) -> None:
        """Disconnect, as a client that goes away, and wait until the app has finished."""
        self.gone.set()
        if self.task is not None:
            async with asyncio.timeout(WAIT):
                await self.task


async def open_sse(
    app: FastAPI, path: str, *, token: str | None = None, headers: dict[str, str] | None = None
) -> SSE:
    """Open ``path`` as a client would and return once the answer has started."""
    raw_path, _, query = path.partition("?")
    sent = [(b"host", b"testserver")]
    if token:
        sent.append((b"authorization", f"Bearer {token}".encode()))
    for name, value in (headers or {}).items():
        sent.append((name.lower().encode(), value.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "headers": sent,
        "client": ("127.0.0.1", 123),
        "server": ("testserver", 80),
        "root_path": "",
        "state": {},
    }
    started: asyncio.Future[tuple[int, dict[str, str]]] = asyncio.get_running_loop().create_future()
    stream = SSE(status=0, headers={})
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await stream.gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
            if not started.done():
                started.set_result((message["status"], headers))
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"").decode()
            stream.body += chunk
            if chunk:
                stream.chunks.put_nowait(chunk)
                stream.first_bytes.set()

    async def run() -> None:
        try:
            await app(scope, receive, send)
        finally:
            if not started.done():
                started.set_exception(RuntimeError("no answer"))

    stream.task = asyncio.create_task(run())
    async with asyncio.timeout(WAIT):
        stream.status, stream.headers = await started
    if stream.status == 200:
        # The stream is registered when its first bytes are written.
        async with asyncio.timeout(WAIT):
            await stream.first_bytes.wait()
    else:
        await stream.task
    return stream


@dataclass
class WS:
    """An open WebSocket to the app."""

    inbound: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    outbound: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    accepted: dict[str, Any] | None = None
    denied: int | None = None
    denied_body: bytes = b""

    async def send_json(self, message: dict[str, Any]) -> None:
        """Send a text message."""
        await self.inbound.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def next(self, within: float = WAIT) -> dict[str, Any]:
        """The next text message the app sent, decoded."""
        async with asyncio.timeout(within):
            while True:
                message = await self.outbound.get()
                if message["type"] == "websocket.send":
                    return json.loads(message["text"])  # type: ignore[no-any-return]
                if message["type"] == "websocket.close":
                    raise ConnectionError(f"closed: {message}")

    async def nothing(self, within: float = 0.3) -> None:
        """Assert that no message arrives within ``within``."""
        with contextlib.suppress(TimeoutError):
            message = await self.next(within)
            raise AssertionError(f"unexpected message {message}")

    async def close(self) -> None:
        """Disconnect and wait until the app has finished."""
        await self.inbound.put({"type": "websocket.disconnect", "code": 1000})
        if self.task is not None:
            async with asyncio.timeout(WAIT):
                await self.task


async def open_ws(
    app: FastAPI, query: dict[str, str] | None = None, *, protocol: str | None = None
) -> WS:
    """Connect to ``/api/v1/streaming`` and return once accepted or refused."""
    headers = [(b"host", b"testserver")]
    if protocol:
        headers.append((b"sec-websocket-protocol", protocol.encode()))
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": "/api/v1/streaming",
        "raw_path": b"/api/v1/streaming",
        "query_string": urlencode(query or {}).encode(),
        "headers": headers,
        "client": ("127.0.0.1", 123),
        "server": ("testserver", 80),
        "root_path": "",
        "subprotocols": [protocol] if protocol else [],
        "extensions": {"websocket.http.response": {}},
        "state": {},
    }
    ws = WS()
    await ws.inbound.put({"type": "websocket.connect"})
    decided = asyncio.Event()

    async def receive() -> dict[str, Any]:
        return await ws.inbound.get()

    async def send(message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            ws.accepted = message
            decided.set()
        elif kind == "websocket.http.response.start":
            ws.denied = message["status"]
        elif kind == "websocket.http.response.body":
            ws.denied_body += message.get("body", b"")
            if not message.get("more_body"):
                decided.set()
        else:
            if kind == "websocket.close" and ws.accepted is None:
                ws.denied = 403
                decided.set()
            await ws.outbound.put(message)

    ws.task = asyncio.create_task(app(scope, receive, send))
    async with asyncio.timeout(WAIT):
        await decided.wait()
    return ws


class SerializedSessions:
    """The test's session factory, one session at a time.

    Tests share one database connection between the app's requests, its jobs and its
    streams; events are delivered by a task of their own, which must not use the
    connection while a job does.
    """

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.factory = factory
        self.lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        async with self.lock, self.factory() as session:
            yield session


class DrainingTransport(httpx.ASGITransport):
    """Runs the jobs each request queued (publishing their events) before answering."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__(app=app, client=("127.0.0.1", 123))
        self.application = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve the request, then drain the job queue."""
        response = await super().handle_async_request(request)
        state = self.application.state
        context = JobContext(
            session_factory=state.session_factory,
            settings=state.settings,
            timeline_cache=state.timeline_cache,
            events=state.stream_publisher,
        )
        await Worker(context, registry.handlers()).drain()
        publisher = state.stream_publisher
        if isinstance(publisher, LocalBus):
            await publisher.idle()
        return response


def client_for(app: FastAPI) -> httpx.AsyncClient:
    """A client whose every request is followed by the jobs it queued, events included."""
    return httpx.AsyncClient(transport=DrainingTransport(app), base_url="http://testserver")

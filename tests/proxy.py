"""A TCP proxy of the test's own, to cut or blackhole the way to a shared server.

Put it between Chirp and PostgreSQL (or Redis) and fault the network, never the server::

    with TcpProxy("127.0.0.1", 5432) as proxy:
        url = make_url(db_url).set(port=proxy.port)
        proxy.cut()        # existing connections closed, new ones refused
        proxy.blackhole()  # connections stay open but nothing passes either way
        proxy.restore()    # traffic passes again (held bytes are delivered, like TCP would)

It runs its own event loop in a thread, so sync tests, uvicorn threads and subprocesses can
all use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Literal, Self

Mode = Literal["pass", "blackhole", "cut"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TcpProxy:
    """Forward 127.0.0.1:``port`` to ``target_host``:``target_port`` until faulted."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = _free_port()
        self.mode: Mode = "pass"
        self.accepted = 0  # connections accepted since start, faulted or not
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start listening and forwarding."""
        self._thread.start()
        self._call(self._start())

    def stop(self) -> None:
        """Close every connection and the listener, and end the thread."""
        self._call(self._cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def cut(self) -> None:
        """Close existing connections and refuse new ones (a crashed or restarting server)."""
        self._call(self._cut())
        self.mode = "cut"

    def blackhole(self) -> None:
        """Accept connections but pass nothing either way (dropped packets)."""
        self._call(self._blackhole())
        self.mode = "blackhole"

    def restore(self) -> None:
        """Pass traffic again."""
        self._call(self._restore())
        self.mode = "pass"

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        await self._listen()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        self._writers.clear()
        # The flow is not held any more: there is nothing left to hold.
        assert self._flowing is not None
        self._flowing.set()

    async def _blackhole(self) -> None:
        assert self._flowing is not None
        self._flowing.clear()
        if self._server is None:
            await self._listen()

    async def _restore(self) -> None:
        assert self._flowing is not None
        self._flowing.set()
        if self._server is None:
            await self._listen()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._writers.add(client_w)
        task = asyncio.current_task()
        assert task is not None and self._flowing is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        server_w: asyncio.StreamWriter | None = None
        try:
            await self._flowing.wait()  # a blackholed connection never reaches the server
            server_r, server_w = await asyncio.open_connection(*self.target)
            self._writers.add(server_w)
            await asyncio.gather(self._pump(client_r, server_w), self._pump(server_r, client_w))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            for writer in (client_w, server_w):
                if writer is not None:
                    self._writers.discard(writer)
                    writer.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                await self._flowing.wait()  # held while blackholed, delivered on restore
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.close()  # one side hung up: hang up the other

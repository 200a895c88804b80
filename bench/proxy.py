"""A small TCP proxy that can cut or blackhole its traffic, for database faults.

Chirp connects to the proxy instead of PostgreSQL, so a fault run (``bench/faults.py``) or a
test can fail "the database" without touching the shared server:

- ``cut()``: every open connection is reset and new ones are refused (the port stops
  listening), as when the database goes down or restarts;
- ``blackhole()``: connections are accepted and nothing is forwarded either way, as when
  packets are dropped; what was held is delivered after ``heal()``, as TCP retransmission
  would;
- ``heal()``: back to forwarding.

``TcpProxy`` runs on the caller's event loop; ``ProxyThread`` runs one on a thread of its own,
for synchronous callers and so that the proxy keeps forwarding while the caller is busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")
Mode = Literal["forward", "cut", "blackhole"]
_CHUNK = 65536


class TcpProxy:
    """Forward 127.0.0.1:``port`` to ``upstream_host``:``upstream_port``, faults on demand."""

    def __init__(self, upstream_host: str, upstream_port: int, *, port: int = 0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = port
        self.mode: Mode = "forward"
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen (on the same port again after a cut)."""
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Reset every connection and refuse new ones until ``heal``."""
        self.mode = "cut"
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._flowing.set()  # held pumps wake up and find their sockets gone

    async def blackhole(self) -> None:
        """Accept connections but forward nothing, either way, until ``heal``."""
        self.mode = "blackhole"
        self._flowing.clear()

    async def heal(self) -> None:
        """Forward again (listening again after a cut)."""
        if self.mode == "cut":
            await self.start()
        self.mode = "forward"
        self._flowing.set()

    async def close(self) -> None:
        """Stop listening and drop every connection."""
        await self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "cut":  # accepted just before the listener closed
            writer.transport.abort()
            return
        self.accepted += 1
        self._writers.add(writer)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            await self._flowing.wait()  # a blackholed connect hangs, as a dropped SYN would
            if self._server is None:  # cut meanwhile
                return
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
            self._writers.add(upstream_writer)
            pumps = [
                asyncio.ensure_future(self._pump(reader, upstream_writer)),
                asyncio.ensure_future(self._pump(upstream_reader, writer)),
            ]
            self._tasks.update(pumps)
            try:
                # Either side closing ends the connection, as it would end a direct one.
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in pumps:
                    pump.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)
                self._tasks.difference_update(pumps)
        except OSError:
            pass  # the upstream refused or a side reset: the client sees its connection close
        finally:
            for w in (writer, upstream_writer):
                if w is not None:
                    self._writers.discard(w)
                    w.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(_CHUNK):
                await self._flowing.wait()  # held during a blackhole, delivered after
                if writer.transport.is_closing():
                    return
                writer.write(data)
                await writer.drain()


class ProxyThread:
    """A ``TcpProxy`` on an event loop in a background thread, driven from synchronous code."""

    def __init__(self, upstream_host: str, upstream_port: int, *, port: int = 0) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.proxy = self._run(self._make(upstream_host, upstream_port, port))

    async def _make(self, host: str, port: int, listen: int) -> TcpProxy:
        proxy = TcpProxy(host, port, port=listen)  # its Event belongs to this loop
        await proxy.start()
        return proxy

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    @property
    def port(self) -> int:
        """The port Chirp connects to."""
        return self.proxy.port

    @property
    def mode(self) -> Mode:
        """What it does now: forward, cut or blackhole."""
        return self.proxy.mode

    def cut(self) -> None:
        """Reset every connection and refuse new ones."""
        self._run(self.proxy.cut())

    def blackhole(self) -> None:
        """Accept, forward nothing."""
        self._run(self.proxy.blackhole())

    def heal(self) -> None:
        """Forward again."""
        self._run(self.proxy.heal())

    def close(self) -> None:
        """Stop the proxy and its thread."""
        try:
            self._run(self.proxy.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def __enter__(self) -> ProxyThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

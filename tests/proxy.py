"""A TCP proxy of the caller's own, to cut or blackhole the way to a shared server.

Put it between Chirp and PostgreSQL (or Redis) and fault the network, never the server::

    with TcpProxy("127.0.0.1", 5432) as proxy:
        url = make_url(db_url).set(port=proxy.port)
        proxy.cut()        # open connections reset, new ones refused (the port stops listening)
        proxy.blackhole()  # connections accepted but nothing passes either way
        proxy.restore()    # traffic passes again (held bytes are delivered, as TCP would)

It runs its own event loop in a thread, so sync tests, async tests, uvicorn threads,
subprocesses and the fault runs of ``bench/faults.py`` can all use it, and it keeps
forwarding while the caller is busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Literal, Self

Mode = Literal["forward", "cut", "blackhole"]
_CHUNK = 65536


class TcpProxy:
    """Forward 127.0.0.1:``port`` to ``target_host``:``target_port`` until faulted."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0  # chosen by the system on start, kept across cuts
        self.mode: Mode = "forward"
        self.accepted = 0  # connections accepted since start, faulted or not
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

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
        """Drop every connection, close the listener and end the thread."""
        try:
            self._call(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def cut(self) -> None:
        """Reset open connections and refuse new ones (a crashed or restarting server)."""
        self._call(self._cut())

    def blackhole(self) -> None:
        """Accept connections but pass nothing either way (dropped packets)."""
        self._call(self._blackhole())

    def restore(self) -> None:
        """Pass traffic again."""
        self._call(self._restore())

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    async def _start(self) -> None:
        self._flowing = asyncio.Event()  # made on the proxy's own loop
        self._flowing.set()
        await self._listen()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        self.mode = "cut"
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        assert self._flowing is not None
        self._flowing.set()  # held pumps wake up and find their sockets gone

    async def _blackhole(self) -> None:
        assert self._flowing is not None
        self.mode = "blackhole"
        self._flowing.clear()
        if self._server is None:
            await self._listen()

    async def _restore(self) -> None:
        assert self._flowing is not None
        self.mode = "forward"
        self._flowing.set()
        if self._server is None:
            await self._listen()

    async def _stop(self) -> None:
        await self._cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self.mode == "cut":  # accepted just before the listener closed
            client_w.transport.abort()
            return
        self.accepted += 1
        self._writers.add(client_w)
        task = asyncio.current_task()
        assert task is not None and self._flowing is not None
        self._tasks.add(task)
        server_w: asyncio.StreamWriter | None = None
        try:
            await self._flowing.wait()  # a blackholed connect hangs, as a dropped SYN would
            if self.mode == "cut":  # cut meanwhile
                return
            server_r, server_w = await asyncio.open_connection(*self.target)
            self._writers.add(server_w)
            pumps = [
                asyncio.ensure_future(self._pump(client_r, server_w)),
                asyncio.ensure_future(self._pump(server_r, client_w)),
            ]
            try:
                # Either side closing ends the connection, as it would end a direct one.
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in pumps:
                    pump.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)
        except OSError:
            pass  # the server refused or a side reset: the client sees its connection close
        except asyncio.CancelledError:
            # Stopped: end quietly, or Python 3.11's stream callback logs the cancellation.
            pass
        finally:
            self._tasks.discard(task)
            for writer in (client_w, server_w):
                if writer is not None:
                    self._writers.discard(writer)
                    writer.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        with contextlib.suppress(OSError):
            while data := await reader.read(_CHUNK):
                await self._flowing.wait()  # held while blackholed, delivered on restore
                if writer.transport.is_closing():
                    return
                writer.write(data)
                await writer.drain()

"""Server-sent events: the wire format and the loop that feeds one open response."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from chirp.streaming.hub import END, Hub, Subscriber

# Mastodon's: ":)" when a stream opens, ":thump" every 15 seconds so proxies keep it open.
OPENING = ":)\n"
HEARTBEAT = ":thump\n"
HEADERS = {
    "Cache-Control": "no-store",
    # nginx would otherwise hold events back in its buffer.
    "X-Accel-Buffering": "no",
}


def frame(event: str, payload: str) -> str:
    """One event as Mastodon writes it (payloads are JSON, which has no raw newline)."""
    return f"event: {event}\ndata: {payload}\n\n"


async def feed(hub: Hub, subscriber: Subscriber) -> AsyncIterator[str]:
    """Write a stream's events, with heartbeats, until its client stops reading."""
    yield OPENING
    while not subscriber.dropped:
        try:
            async with asyncio.timeout(hub.heartbeat):
                message = await subscriber.queue.get()
        except TimeoutError:
            yield HEARTBEAT
            continue
        if message is END:
            return
        yield frame(message.event, message.payload)


class EventStreamResponse(StreamingResponse):
    """An event stream, registered with the hub exactly while the response is served.

    Registered before the headers go out, so a client that has them misses no event, and
    forgotten however the response ends (the client gone before the first byte included,
    when the generator never starts and its own ``finally`` would never run).
    """

    def __init__(self, hub: Hub, subscriber: Subscriber) -> None:
        super().__init__(feed(hub, subscriber), media_type="text/event-stream", headers=HEADERS)
        self.hub = hub
        self.subscriber = subscriber

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the stream while the subscriber is registered."""
        self.hub.add(self.subscriber)
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.hub.close(self.subscriber)

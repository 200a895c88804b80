"""Server-sent events: the wire format and the loop that feeds one open response."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from chirp.streaming.hub import Hub, Subscriber

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
    """Write a stream's events until the client leaves; it is registered only meanwhile.

    Registered here, not before the response starts: a client gone before its first byte
    must leave nothing behind (a generator never started never runs its ``finally``).
    """
    hub.add(subscriber)
    try:
        yield OPENING
        while not subscriber.dropped:
            try:
                async with asyncio.timeout(hub.heartbeat):
                    message = await subscriber.queue.get()
            except TimeoutError:
                yield HEARTBEAT
                continue
            yield frame(message.event, message.payload)
    finally:
        hub.close(subscriber)

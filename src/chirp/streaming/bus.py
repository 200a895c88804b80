"""How events travel: straight to this process's streams, or through Redis pub/sub.

Every web process keeps ONE subscription to one broadcast channel and filters each event
for the streams it holds (``streaming.hub``): per-user channels would cost a Redis
subscription per open stream and a publish per follower, and a celebrity's post would be
a fan-out of its own. Events are small (ids and the facts a filter needs); each process
renders what it delivers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.exceptions import RedisError

from chirp.ops.logging import FailureLog

log = logging.getLogger("chirp.streaming")

Event = dict[str, Any]
Deliver = Callable[[Event], Awaitable[None]]

# Events a process delivers at once: one event's reads must not hold up the next (on a busy
# loop each await waits its turn), and no backlog grows without bound either.
CONCURRENT_DELIVERIES = 32
# Waits between attempts to subscribe again after Redis went away, doubling up to the last.
RECONNECT_FIRST = 0.1
RECONNECT_MAX = 2.0


class Publisher(Protocol):
    """Sends an event to every process's streams."""

    async def publish(self, event: Event) -> None:
        """Send ``event``; it reaches the streams open when it arrives."""


class LocalBus:
    """The embedded default: one process, so an event goes to its own streams.

    Delivered by a task of its own, never inside ``publish``: the job that publishes still
    holds its database session, and on SQLite a second one (to render the post) would wait
    for that one's lock, held by the very task waiting for it.
    """

    def __init__(self, deliver: Deliver) -> None:
        self.deliver = deliver
        self._pending: deque[Event] = deque()
        self._task: asyncio.Task[None] | None = None

    async def publish(self, event: Event) -> None:
        """Queue ``event`` for this process's streams; a task delivers it right after."""
        self._pending.append(event)
        if self._task is None or self._task.done():
            # Runs while there is something to deliver, then ends: nothing lingers idle.
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self._pending:
            await self.deliver(self._pending.popleft())

    async def idle(self) -> None:
        """Wait until every event published so far is delivered."""
        while self._task is not None and not self._task.done():
            await asyncio.wait([self._task])


def channel_for(redis_url: str) -> str:
    """The broadcast channel of the Chirp whose Redis database is in ``redis_url``.

    Pub/sub channels are shared by every database of a Redis server: the database number in
    the name keeps instances (and test runs) that share a server apart.
    """
    path = urlsplit(redis_url).path.strip("/")
    return f"chirp:{path or '0'}:events"


class RedisPublisher:
    """Production: publish to the broadcast channel every web process subscribes to."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self.redis = redis
        self.channel = channel

    async def publish(self, event: Event) -> None:
        """Publish ``event`` (a Redis error propagates: the job that raised it runs again)."""
        await self.redis.publish(self.channel, json.dumps(event, separators=(",", ":")))


class RedisSubscription:
    """This process's one subscription to the broadcast channel, held until stopped.

    When Redis goes away (a restart, a failover, a cut) it subscribes again, waiting a little
    longer each time; the streams it feeds stay open meanwhile and miss only the events
    published while no subscription was held, as Mastodon's streaming server does.
    """

    def __init__(self, url: str, deliver: Deliver, *, connect_timeout: float = 0.5) -> None:
        self.url = url
        self.channel = channel_for(url)
        self.deliver = deliver
        self.connect_timeout = connect_timeout
        # Set while subscribed: tests and the health of streams can wait on it.
        self.subscribed = asyncio.Event()
        self.reconnects = 0
        self._failures = FailureLog(log)
        self._slots = asyncio.Semaphore(CONCURRENT_DELIVERIES)
        self._in_flight: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Receive and deliver events until ``stop`` is set, subscribing again after failures."""
        wait = RECONNECT_FIRST
        while not stop.is_set():
            try:
                await self._listen(stop)
                wait = RECONNECT_FIRST
            except (RedisError, OSError) as exc:
                self._failures.report(
                    "subscription", f"streaming: Redis subscription lost ({exc!r}); retrying"
                )
            finally:
                self.subscribed.clear()
            if stop.is_set():
                break
            self.reconnects += 1
            try:
                async with asyncio.timeout(wait):
                    await stop.wait()
            except TimeoutError:
                pass
            wait = min(wait * 2, RECONNECT_MAX)
        for task in self._in_flight:
            task.cancel()
        await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _listen(self, stop: asyncio.Event) -> None:
        # A client of its own, without a read timeout: a quiet channel is not a failure.
        # The health check pings an idle connection, so a dead server is noticed.
        client = Redis.from_url(
            self.url,
            decode_responses=True,
            socket_connect_timeout=self.connect_timeout,
            socket_keepalive=True,
            health_check_interval=5,
        )
        try:
            async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(self.channel)
                self.subscribed.set()
                while not stop.is_set():
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None or message.get("type") != "message":
                        continue
                    await self._deliver(message["data"])
        finally:
            await client.aclose()

    async def _deliver(self, raw: str) -> None:
        try:
            event = json.loads(raw)
        except ValueError:
            log.warning("streaming: ignored a message that is not JSON")
            return
        await self._slots.acquire()
        task = asyncio.create_task(self._deliver_one(event))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _deliver_one(self, event: Event) -> None:
        try:
            await self.deliver(event)
        finally:
            self._slots.release()

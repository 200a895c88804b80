"""The Redis bus on a private redis-server: events cross, and a restart is survived."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path

from redis.exceptions import RedisError

from chirp.redis_client import make_redis
from chirp.streaming.bus import RedisPublisher, RedisSubscription, channel_for
from chirp.streaming.hub import QUEUE_SIZE, Message, Subscriber
from chirp.users.models import User
from tests import services
from tests.faults.conftest import RedisServer
from tests.loops import at_most


def test_channel_names_keep_databases_apart() -> None:
    assert channel_for("redis://h:6379/7") == "chirp:7:events"
    assert channel_for("redis://h:6379") == "chirp:0:events"


async def test_subscription_survives_a_redis_restart(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        services.unavailable("Redis bus tests need the redis-server binary")
    server = RedisServer(tmp_path)
    server.start()
    received: list[dict[str, object]] = []
    arrived = asyncio.Event()

    async def deliver(event: dict[str, object]) -> None:
        received.append(event)
        arrived.set()

    subscription = RedisSubscription(server.url, deliver)
    stop = asyncio.Event()
    task = asyncio.create_task(subscription.run(stop))
    redis = make_redis(server.url)
    publisher = RedisPublisher(redis, channel_for(server.url))
    try:
        async with asyncio.timeout(10):
            await subscription.subscribed.wait()
        await publisher.publish({"n": 1})
        async with asyncio.timeout(10):
            await arrived.wait()
        server.stop()
        for _ in at_most(1000, "waits for the subscription to notice"):
            if not subscription.subscribed.is_set():
                break
            await asyncio.sleep(0.01)
        server.start()  # the same port
        async with asyncio.timeout(15):
            await subscription.subscribed.wait()
        assert subscription.reconnects >= 1
        # Published after the restart: it arrives on the same subscriber, no restart of ours.
        for _ in at_most(50, "publishes"):
            # The publisher's pooled connection died with the server: its first try may fail
            # (a job would be retried), the next one connects afresh.
            with contextlib.suppress(RedisError):
                await publisher.publish({"n": 2})
            await asyncio.sleep(0.05)
            if {"n": 2} in received:
                break
        assert received[0] == {"n": 1} and {"n": 2} in received
    finally:
        stop.set()
        async with asyncio.timeout(10):
            await task
        await redis.aclose()
        server.stop()


def test_a_stream_that_stops_reading_is_dropped_not_buffered() -> None:
    reader = User(id=1, username="slow", username_key="slow", email="s@example.com")
    subscriber = Subscriber(viewer=reader, notifications=False)
    for i in range(QUEUE_SIZE):
        subscriber.send(Message(["user"], "delete", str(i)))
    assert not subscriber.dropped
    subscriber.send(Message(["user"], "delete", "one too many"))
    assert subscriber.dropped and subscriber.queue.qsize() == QUEUE_SIZE

"""The benchmark's two 20-post ceilings answer the same, with and without the framework."""

from __future__ import annotations

import asyncio
import threading

import httpx
from redis.asyncio import Redis

from chirp.db import make_engine, make_session_factory
from chirp.timeline.cache import TimelineCache
from tests import services
from tests.factories import make_post, make_user
from tests.live import fresh_postgres_database, serve
from tests.services import settings_for


async def _committed_timeline(database_url: str, redis_url: str) -> tuple[int, list[int]]:
    """A reader following two authors, their posts committed, the reader's timeline in Redis."""
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    async with factory() as session:
        reader = await make_user(session, "reader")
        ann = await make_user(session, "ann")
        bob = await make_user(session, "bob")
        posts = [
            await make_post(session, author, f"post {i}")
            for i, author in enumerate([ann, bob] * 12)
        ]
        await session.commit()
    await engine.dispose()
    redis = Redis.from_url(redis_url)
    cache = TimelineCache(redis, cap=800, prefix="chirp:")
    ids = sorted((p.id for p in posts), reverse=True)
    token = await cache.start_rebuild(reader.id)
    assert await cache.finish_rebuild(reader.id, ids, floor=0, token=token)
    await redis.aclose()
    return reader.id, ids[:20]


def test_raw_and_framework_ceilings_read_the_same_posts() -> None:
    if not services.REDIS_URL:
        services.unavailable("the benchmark ceilings need CHIRP_TEST_REDIS_URL (Redis)")
    url = fresh_postgres_database("bench", "benchmark ceiling tests")
    redis_url = services.REDIS_URL
    assert redis_url is not None
    result: list[tuple[int, list[int]]] = []
    # In a thread: the live server runs its own event loop in another.
    worker = threading.Thread(
        target=lambda: result.append(asyncio.run(_committed_timeline(url, redis_url)))
    )
    worker.start()
    worker.join(timeout=60)
    reader_id, newest = result[0]
    settings = settings_for(url, redis_url=redis_url, bench_endpoints=True)
    with serve(settings) as server:
        bare = httpx.get(f"{server.url}/_bench/posts", params={"user": reader_id}, timeout=10)
        raw = httpx.get(f"{server.url}/_bench/posts-raw", params={"user": reader_id}, timeout=10)
        missing = httpx.get(f"{server.url}/_bench/posts-raw", timeout=10)
    assert bare.status_code == raw.status_code == 200
    by_id = sorted(bare.json(), key=lambda p: p["id"])
    assert sorted(raw.json(), key=lambda p: p["id"]) == by_id
    assert sorted(int(p["id"]) for p in by_id) == sorted(newest)  # the 20 newest, not 24
    assert missing.status_code == 422

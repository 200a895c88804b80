"""Timeline tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import pytest
from redis.asyncio import Redis
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.config import Settings
from chirp.pagination import Cursor
from chirp.timeline import service as timeline_service
from chirp.timeline.cache import TimelineCache
from chirp.timeline.home import HomeTimeline
from tests.loops import at_most


async def is_built(redis: Redis, user_id: int) -> bool:
    """Whether a user's Redis timeline is materialised and complete (its set and floor exist)."""
    return int(await redis.exists(f"chirp:tl:{user_id}", f"chirp:tlf:{user_id}")) == 2


async def stored_ids(redis: Redis, user_id: int) -> list[int]:
    """The post ids held in a user's Redis timeline, newest first."""
    members = await redis.zrevrange(f"chirp:tl:{user_id}", 0, -1)
    return [int(m) for m in members if int(m)]


# A TTL no timeline is stored with: a read that leaves a longer one renewed it.
_WITNESS_TTL = 1000


async def read_from_redis(
    redis: Redis, reader: HomeTimeline, session: AsyncSession, user_id: int, cursor: Cursor
) -> list[int]:
    """One home page's ids, failing unless Redis served it (not the database fallback).

    The page script renews the timeline's TTL as it answers, while the fallback leaves
    Redis alone; a failure on the way trips the reader's breaker.
    """
    key = f"chirp:tl:{user_id}"
    await redis.expire(key, _WITNESS_TTL)  # nothing happens if it does not exist yet
    ids = [p.id for p in await reader.page(session, user_id=user_id, cursor=cursor)]
    assert reader.breaker.closed, "the Redis path failed: the database answered"
    assert await redis.ttl(key) > _WITNESS_TTL, "the database answered, not Redis"
    return ids


async def all_pages(read: Callable[[Cursor], Awaitable[list[int]]], limit: int) -> list[list[int]]:
    """Every page ``read`` gives, each bounded by the last id of the one before, to an empty one."""
    pages: list[list[int]] = []
    cursor = Cursor(limit=limit)
    for _ in at_most(100):
        page = await read(cursor)
        if not page:
            break
        pages.append(page)
        cursor = Cursor(max_id=page[-1], limit=limit)
    return pages


def record_home_reads(monkeypatch: pytest.MonkeyPatch) -> list[Cursor]:
    """The cursors of the home timeline's reads of the database from now on (the list fills)."""
    asked: list[Cursor] = []
    read = timeline_service.home_post_ids

    async def recorded(session: AsyncSession, *, user_id: int, cursor: Cursor) -> list[int]:
        asked.append(cursor)
        return await read(session, user_id=user_id, cursor=cursor)

    monkeypatch.setattr(timeline_service, "home_post_ids", recorded)
    return asked


@contextmanager
def session_statements(session: AsyncSession) -> Iterator[list[str]]:
    """Collect the SQL statements run on the session's connection inside the block
    (whitespace collapsed, lower case)."""
    seen: list[str] = []
    sync_bind = session.get_bind()

    def record(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()).lower())

    event.listen(sync_bind, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(sync_bind, "before_cursor_execute", record)


def readers(
    settings: Settings, redis: Redis, **overrides: object
) -> tuple[HomeTimeline, HomeTimeline]:
    """The database's home timeline reader and the Redis one, both with ``overrides``."""
    tuned = settings.model_copy(update=overrides)
    return HomeTimeline(tuned, None), HomeTimeline(tuned, TimelineCache.from_settings(redis, tuned))

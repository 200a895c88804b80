"""Timeline tests."""

from __future__ import annotations

from redis.asyncio import Redis


async def stored_ids(redis: Redis, user_id: int) -> list[int]:
    """The post ids held in a user's Redis timeline, newest first."""
    members = await redis.zrevrange(f"chirp:tl:{user_id}", 0, -1)
    return [int(m) for m in members if int(m)]

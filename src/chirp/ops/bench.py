"""``/_bench/posts-raw``: the 20-post ceiling without SQLAlchemy or dependency injection.

Beside ``/_bench/posts`` (the same read through FastAPI's dependencies and a SQLAlchemy
session), it shows in a benchmark what those layers cost per request.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chirp.config import Settings
from chirp.timeline.cache import TimelineCache, member

POSTS_BY_ID = "SELECT id, author_id, text, created_at FROM posts WHERE id = ANY($1::bigint[])"


class RawPool:
    """One asyncpg pool per process, opened on first use (benchmarks only)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> asyncpg.Pool:
        """The pool, sized as the SQLAlchemy one is, so both paths get as many connections."""
        if self.pool is None:
            async with self._lock:
                if self.pool is None:
                    url = make_url(self.settings.database_url).set(drivername="postgresql")
                    size = self.settings.database_pool_size
                    self.pool = await asyncpg.create_pool(
                        url.render_as_string(hide_password=False), min_size=1, max_size=size
                    )
        return self.pool

    async def close(self) -> None:
        """Close the pool if it was opened."""
        if self.pool is not None:
            await self.pool.close()


async def raw_posts(request: Request) -> Response:
    """Read 20 post ids from a Redis timeline and those posts, with redis-py and asyncpg alone."""
    try:
        user = int(request.query_params["user"])
    except (KeyError, ValueError):
        return JSONResponse({"error": "user: an account id is required"}, status_code=422)
    cache: TimelineCache = request.app.state.timeline_cache
    raw: RawPool = request.app.state.raw_pool
    members = await cache.redis.zrevrangebylex(
        f"{cache.prefix}tl:{user}", "+", f"({member(0)}", 0, 20
    )
    ids = [int(i) for i in members]
    pool = await raw.get()
    rows = await pool.fetch(POSTS_BY_ID, ids)
    body: list[dict[str, Any]] = [
        {
            "id": str(r["id"]),
            "account_id": str(r["author_id"]),
            "text": r["text"],
            "created_at": r["created_at"].isoformat(),
        }
        for r in rows
    ]
    return JSONResponse(body)

"""``/health`` for load balancers and monitoring; ``/_bench/*`` ceilings when enabled."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.db import read_outside_transaction
from chirp.deps import SessionDep, SettingsDep
from chirp.posts.models import Post
from chirp.timeline.cache import TimelineCache, member

router = APIRouter(tags=["operations"])
bench_router = APIRouter(prefix="/_bench", include_in_schema=False)


# Well within the second a load balancer gives a check: the database and Redis are asked at
# once, each for at most this long.
HEALTH_TIMEOUT = 0.4
# Checks that outlived their timeout, finishing (or failing) in the background.
_abandoned: set[asyncio.Task[None]] = set()


@router.get(
    "/health",
    responses={
        503: {"description": "The database does not answer (the body says which check failed)."},
        500: {"description": "An unexpected error on the server (logged)."},
    },
)
async def health(request: Request) -> Response:
    """Report whether the database and Redis (when configured) answer, within a second."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.session_factory
    probes = {"database": _select_one(factory)}
    cache: TimelineCache | None = request.app.state.timeline_cache
    if cache is not None:
        probes["redis"] = _ping(cache)
    results = await asyncio.gather(*(_check(probe) for probe in probes.values()))
    checks = dict(zip(probes, results, strict=True))
    # Redis is a cache: without it Chirp still serves (more slowly), so only the database
    # decides whether this process is healthy.
    healthy = checks["database"] == "ok"
    return JSONResponse(
        {"status": "ok" if healthy else "error", "checks": checks},
        status_code=200 if healthy else 503,
    )


async def _select_one(factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory() as session:
        await session.execute(text("SELECT 1"))


async def _ping(cache: TimelineCache) -> None:
    await cache.redis.ping()


async def _check(probe: Coroutine[Any, Any, None]) -> str:
    """``ok``, or what went wrong, within ``HEALTH_TIMEOUT`` seconds."""
    # Not asyncio.timeout: cancelling waits for the connection's clean-up, which a network
    # that drops packets makes as slow as the check itself. The task is left to finish.
    task = asyncio.create_task(probe)
    done, _ = await asyncio.wait({task}, timeout=HEALTH_TIMEOUT)
    if not done:
        _abandoned.add(task)
        task.add_done_callback(_forget)
        return f"error: no answer within {HEALTH_TIMEOUT:g} s"
    error = task.exception()
    return "ok" if error is None else f"error: {type(error).__name__}"


def _forget(task: asyncio.Task[None]) -> None:
    _abandoned.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never retrieved


@bench_router.get("/ping")
async def ping() -> dict[str, bool]:
    """Trivial JSON: the ceiling of the server and framework alone."""
    return {"ok": True}


@bench_router.get("/posts")
async def twenty_posts(
    request: Request, session: SessionDep, settings: SettingsDep, user: int
) -> list[dict[str, Any]]:
    """Read 20 post ids from a Redis timeline and those posts by id: the data-path ceiling."""
    cache: TimelineCache = request.app.state.timeline_cache
    ids = [
        int(i)
        for i in await cache.redis.zrevrangebylex(
            f"{cache.prefix}tl:{user}", "+", f"({member(0)}", 0, 20
        )
    ]
    # Read as Chirp's own reads are (no transaction around a lone read), so that the
    # ceiling is the best this data path can do, not one that flatters the ratio.
    rows = await read_outside_transaction(
        session,
        select(Post.id, Post.author_id, Post.text, Post.created_at).where(
            Post.id.in_(bindparam("ids", expanding=True))
        ),
        {"ids": ids},
    )
    return [
        {
            "id": str(r.id),
            "account_id": str(r.author_id),
            "text": r.text,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]

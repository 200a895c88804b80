"""``/health`` for load balancers and monitoring; ``/_bench/*`` ceilings when enabled."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import bindparam, select, text

from chirp.db import read_outside_transaction
from chirp.deps import SessionDep, SettingsDep
from chirp.posts.models import Post
from chirp.timeline.cache import TimelineCache, member

router = APIRouter(tags=["operations"])
bench_router = APIRouter(prefix="/_bench", include_in_schema=False)


@router.get("/health")
async def health(request: Request, session: SessionDep) -> Response:
    """Report whether the database and Redis (when configured) answer."""
    checks: dict[str, str] = {}
    try:
        await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    cache: TimelineCache | None = request.app.state.timeline_cache
    if cache is not None:
        try:
            await cache.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    # Redis is a cache: without it Chirp still serves (more slowly), so only the database
    # decides whether this process is healthy.
    healthy = checks["database"] == "ok"
    return JSONResponse(
        {"status": "ok" if healthy else "error", "checks": checks},
        status_code=200 if healthy else 503,
    )


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

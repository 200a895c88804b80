"""In-process measurements: fan-out throughput, delivery delay, and read-your-celebrity."""

from __future__ import annotations

import asyncio
import hashlib
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from redis.asyncio import Redis
from sqlalchemy import select, text

from chirp.auth.tokens import digest
from chirp.config import Settings
from chirp.db import make_engine, make_session_factory
from chirp.follows.models import Follow
from chirp.ids import new_id
from chirp.jobs import queue
from chirp.jobs.worker import JobContext
from chirp.posts.models import Post
from chirp.redis_client import make_redis
from chirp.timeline import fanout
from chirp.timeline.cache import TimelineCache, member
from chirp.timeline.home import HomeTimeline
from chirp.users.models import User


def token_for(seed: int, user_id: int) -> str:
    """The bearer token the generator made for a user."""
    return hashlib.sha256(f"{seed}:{user_id}".encode()).hexdigest()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, int(q) - 1))]


async def warm_timelines(url: str, tokens: list[str], concurrency: int = 16) -> float:
    """Read every load user's home once so their Redis timelines exist; return seconds."""
    started = time.monotonic()
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        queue: asyncio.Queue[str] = asyncio.Queue()
        for tok in tokens:
            queue.put_nowait(tok)

        async def worker() -> None:
            while not queue.empty():
                tok = queue.get_nowait()
                r = await client.get(
                    "/api/v1/timelines/home", headers={"Authorization": f"Bearer {tok}"}
                )
                r.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.monotonic() - started


@dataclass(frozen=True)
class FanoutResult:
    """Fan-out throughput of one worker process."""

    posts: int
    deliveries: int
    seconds: float

    @property
    def per_second(self) -> float:
        """Timeline inserts per second."""
        return self.deliveries / self.seconds if self.seconds else 0.0


async def fanout_throughput(
    settings: Settings, *, posts: int = 20, concurrency: int = 4
) -> FanoutResult:
    """Fan posts of well-followed accounts out into timelines under a scratch key prefix."""
    # ``concurrency`` fan-outs run at once, as in ``chirp worker --concurrency 4``, so one
    # job's Redis writes overlap another's database reads.
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    redis = make_redis(str(settings.redis_url))
    cache = TimelineCache.from_settings(redis, settings, prefix="chirp:fanbench:")
    try:
        async with factory() as session:
            users = list((await session.execute(select(User.id))).scalars())
            # Every timeline exists in the scratch space, so each delivery is a real insert.
            for start in range(0, len(users), 5000):
                pipe = redis.pipeline(transaction=False)
                for uid in users[start : start + 5000]:
                    pipe.zadd(f"chirp:fanbench:tl:{uid}", {member(0): 0})
                    pipe.set(f"chirp:fanbench:tlf:{uid}", member(0))  # complete, no floor
                await pipe.execute()
            authors = (
                await session.execute(
                    select(User.id, User.followers_count)
                    .where(User.followers_count <= settings.fanout_max_followers)
                    .order_by(User.followers_count.desc())
                    .limit(posts)
                )
            ).all()
            post_ids = []
            for author_id, _ in authors:
                pid = (
                    await session.execute(
                        select(Post.id)
                        .where(Post.author_id == author_id)
                        .order_by(Post.id.desc())
                        .limit(1)
                    )
                ).scalar()
                if pid is not None:
                    post_ids.append(pid)
        deliveries = sum(count for _, count in authors)
        ctx = JobContext(session_factory=factory, settings=settings, timeline_cache=cache)
        slots = asyncio.Semaphore(concurrency)

        async def job(post_id: int) -> None:
            async with slots:
                await fanout.fanout_post(ctx, {"post_id": post_id})

        started = time.monotonic()
        await asyncio.gather(*(job(pid) for pid in post_ids))
        seconds = time.monotonic() - started
        return FanoutResult(len(post_ids), deliveries, seconds)
    finally:
        cursor = 0
        while True:
            cursor, keys = await redis.scan(cursor, match="chirp:fanbench:*", count=5000)
            if keys:
                await redis.delete(*keys)
            if cursor == 0:
                break
        await redis.aclose()
        await engine.dispose()


async def drain_jobs(settings: Settings, *, give_up_after: float = 600) -> float:
    """Wait until the job queue holds nothing pending or running; return seconds waited."""
    engine = make_engine(settings.database_url)
    started = time.monotonic()
    try:
        async with make_session_factory(engine)() as session:
            while time.monotonic() - started < give_up_after:
                counts = await queue.stats(session, errors=0)
                await session.rollback()  # a fresh snapshot for the next look
                if counts.pending + counts.running == 0:
                    break
                await asyncio.sleep(0.25)
    finally:
        await engine.dispose()
    return time.monotonic() - started


async def prepare_followers(settings: Settings, author_ids: list[int]) -> int:
    """Materialise the timelines of the probe authors' followers; return how many."""
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    redis = make_redis(str(settings.redis_url))
    reader = HomeTimeline(settings, TimelineCache.from_settings(redis, settings))
    try:
        async with factory() as session:
            followers = set(
                (
                    await session.execute(
                        select(Follow.follower_id).where(Follow.followee_id.in_(author_ids))
                    )
                ).scalars()
            )
            for uid in followers:
                await reader.rebuild(session, user_id=uid)
        return len(followers)
    finally:
        await redis.aclose()
        await engine.dispose()


async def delivery_delays(
    url: str, settings: Settings, seed: int, author_ids: list[int], *, probes: int, spacing: float
) -> list[float]:
    """Post as ordinary accounts; time until the post is in every follower's timeline."""
    engine = make_engine(settings.database_url)
    redis = make_redis(str(settings.redis_url))
    delays: list[float] = []
    try:
        async with make_session_factory(engine)() as session:
            followers = {
                a: list(
                    (
                        await session.execute(
                            select(Follow.follower_id).where(Follow.followee_id == a)
                        )
                    ).scalars()
                )
                for a in author_ids
            }
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            for i in range(probes):
                author = author_ids[i % len(author_ids)]
                r = await client.post(
                    "/api/v1/statuses",
                    data={"status": f"delivery probe {i} {new_id()}"},
                    headers={"Authorization": f"Bearer {token_for(seed, author)}"},
                )
                acked = time.monotonic()
                r.raise_for_status()
                delays.append(
                    await _until_delivered(redis, int(r.json()["id"]), followers[author], acked)
                )
                await asyncio.sleep(spacing)
    finally:
        await redis.aclose()
        await engine.dispose()
    return delays


async def _until_delivered(redis: Redis, post_id: int, followers: list[int], acked: float) -> float:
    pending = list(followers)
    deadline = acked + 60
    while pending and time.monotonic() < deadline:
        pipe = redis.pipeline(transaction=False)
        for uid in pending:
            pipe.zscore(f"chirp:tl:{uid}", member(post_id))
        found = await pipe.execute()
        pending = [uid for uid, score in zip(pending, found, strict=True) if score is None]
        if pending:
            await asyncio.sleep(0.01)
    return (time.monotonic() - acked) * 1000 if not pending else float("inf")


@dataclass(frozen=True)
class CelebrityResult:
    """Whether a big account's post shows on a follower's very next read."""

    followers: int
    visible_on_next_read: bool
    post_ms: float
    read_ms: float


async def celebrity_next_read(url: str, settings: Settings, seed: int) -> CelebrityResult:
    """Post as the most-followed account, then read a follower's home timeline at once."""
    engine = make_engine(settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            star_id, star_followers = (
                await session.execute(
                    select(User.id, User.followers_count)
                    .order_by(User.followers_count.desc())
                    .limit(1)
                )
            ).one()
            reader_id = (
                await session.execute(
                    select(Follow.follower_id).where(Follow.followee_id == star_id).limit(1)
                )
            ).scalar_one()
            app_id = (await session.execute(text("SELECT id FROM oauth_apps LIMIT 1"))).scalar_one()
            for uid in (star_id, reader_id):
                exists = (
                    await session.execute(
                        text("SELECT count(*) FROM oauth_tokens WHERE token_hash = :h"),
                        {"h": digest(token_for(seed, uid))},
                    )
                ).scalar_one()
                if not exists:
                    await session.execute(
                        text(
                            "INSERT INTO oauth_tokens (id, token_hash, app_id, user_id, scopes, "
                            "created_at) VALUES (:id, :h, :app, :uid, 'read write follow', :now)"
                        ),
                        {
                            "id": new_id(),
                            "h": digest(token_for(seed, uid)),
                            "app": app_id,
                            "uid": uid,
                            "now": datetime.now(UTC),
                        },
                    )
            await session.commit()
    finally:
        await engine.dispose()
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await client.get(
            "/api/v1/timelines/home",
            headers={"Authorization": f"Bearer {token_for(seed, reader_id)}"},
        )
        t0 = time.monotonic()
        posted = await client.post(
            "/api/v1/statuses",
            data={"status": f"big news {new_id()}"},
            headers={"Authorization": f"Bearer {token_for(seed, star_id)}"},
        )
        t1 = time.monotonic()
        posted.raise_for_status()
        page = await client.get(
            "/api/v1/timelines/home",
            headers={"Authorization": f"Bearer {token_for(seed, reader_id)}"},
        )
        t2 = time.monotonic()
        page.raise_for_status()
    visible = bool(page.json()) and page.json()[0]["id"] == posted.json()["id"]
    return CelebrityResult(star_followers, visible, (t1 - t0) * 1000, (t2 - t1) * 1000)

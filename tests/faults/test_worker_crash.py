"""A worker killed with SIGKILL mid fan-out: the next one finishes it, exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from redis import Redis as SyncRedis
from sqlalchemy import func, insert, select

from chirp.db import make_engine, make_session_factory, utcnow
from chirp.follows.models import Follow
from chirp.ids import new_id
from chirp.jobs.models import Job
from chirp.posts import service as posts_service
from chirp.timeline.cache import member
from chirp.users.models import User
from tests.faults.conftest import RedisServer
from tests.services import TEST_SECRET

FOLLOWERS = 30_000
CHIRP = str(Path(sys.executable).parent / "chirp")


async def _seed(url: str) -> tuple[int, list[int]]:
    engine = make_engine(url)
    now = utcnow()
    author_id = new_id()
    follower_ids = [new_id() for _ in range(FOLLOWERS)]
    rows = [
        {
            "id": uid,
            "username": f"f{i}",
            "username_key": f"f{i}",
            "email": f"f{i}@x.test",
            "email_key": f"f{i}@x.test",
            "password_hash": "-",
            "display_name": "",
            "bio": "",
            "is_admin": False,
            "created_at": now,
            "last_active_at": now,
            "posts_count": 0,
            "followers_count": 0,
            "following_count": 1,
        }
        for i, uid in enumerate([author_id, *follower_ids])
    ]
    rows[0]["followers_count"] = FOLLOWERS
    async with engine.begin() as conn:
        await conn.execute(insert(User), rows)
        await conn.execute(
            insert(Follow),
            [
                {"id": new_id(), "follower_id": f, "followee_id": author_id, "created_at": now}
                for f in follower_ids
            ],
        )
    await engine.dispose()
    return author_id, follower_ids


async def _post(url: str, author_id: int) -> int:
    engine = make_engine(url)
    async with make_session_factory(engine)() as session:
        author = await session.get(User, author_id)
        assert author is not None
        post = await posts_service.create_post(
            session, author=author, text="to everyone", max_length=140
        )
        await session.commit()
        post_id = post.id
    await engine.dispose()
    return post_id


async def _jobs_left(url: str) -> int:
    engine = make_engine(url)
    async with engine.connect() as conn:
        n = (await conn.execute(select(func.count()).select_from(Job))).scalar_one()
    await engine.dispose()
    return int(n)


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [CHIRP, "worker", "--concurrency", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_killed_worker_mid_fanout_is_finished_exactly_once(
    faults_db: str, redis_server: RedisServer
) -> None:
    author_id, followers = asyncio.run(_seed(faults_db))
    redis = SyncRedis.from_url(redis_server.url, decode_responses=True)
    pipe = redis.pipeline(transaction=False)
    for uid in followers:  # every follower has a materialised (empty) timeline
        pipe.zadd(f"chirp:tl:{uid}", {member(0): 0})
        pipe.set(f"chirp:tlf:{uid}", member(0))
    pipe.execute()
    env = {
        **os.environ,
        "CHIRP_DATABASE_URL": faults_db,
        "CHIRP_REDIS_URL": redis_server.url,
        "CHIRP_SECRET_KEY": TEST_SECRET,
        "CHIRP_FANOUT_BATCH_SIZE": "50",
        "CHIRP_FANOUT_MAX_FOLLOWERS": str(FOLLOWERS * 2),
        "CHIRP_JOB_LEASE_SECONDS": "2",
    }
    first = _worker(env)
    try:
        post = member(asyncio.run(_post(faults_db, author_id)))
        early, late = f"chirp:tl:{followers[0]}", f"chirp:tl:{followers[-1]}"
        deadline = time.monotonic() + 60
        while redis.zscore(early, post) is None:
            assert time.monotonic() < deadline, "fan-out never started"
            time.sleep(0.001)
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert redis.zscore(late, post) is None, "fan-out finished before the kill"
        delivered = sum(1 for s in _scores(redis, followers, post) if s is not None)
        assert 0 < delivered < FOLLOWERS
    finally:
        if first.poll() is None:
            first.kill()

    second = _worker(env)  # takes the job over once its lease runs out
    try:
        deadline = time.monotonic() + 60
        while asyncio.run(_jobs_left(faults_db)):
            assert time.monotonic() < deadline, "the job was never finished"
            time.sleep(0.2)
    finally:
        second.terminate()
        second.wait(timeout=10)
    assert all(s is not None for s in _scores(redis, followers, post))
    pipe = redis.pipeline(transaction=False)
    for uid in followers:
        pipe.zcard(f"chirp:tl:{uid}")
    assert set(pipe.execute()) == {2}  # the empty marker and the post, once


def _scores(redis: SyncRedis, followers: list[int], post: str) -> list[float | None]:
    pipe = redis.pipeline(transaction=False)
    for uid in followers:
        pipe.zscore(f"chirp:tl:{uid}", post)
    return pipe.execute()  # type: ignore[no-any-return]

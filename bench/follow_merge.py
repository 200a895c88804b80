"""What a follow costs the Redis home timeline: merging into it, or rebuilding it.

    python -m bench.follow_merge --tier small            # generates the data set if missing
    python -m bench.follow_merge --tier small --follows 300

On a tier's data set (PostgreSQL + Redis), for a sample of users with a built timeline, each
follows an account they did not follow and the follow is merged into their cached timeline
as Chirp does it (``timeline.fanout.merge_followee_posts``: the account's newest posts, and
the replies to it by the accounts the user follows already, read down to the timeline's
floor). Reported per follow, p50 / p99 in milliseconds: the whole merge, the replies' read
alone, and a full rebuild of the same timeline (the alternative: drop the timeline on every
follow and let the next read rebuild it), with the ratio of rebuild to merge from the same
run. Each follow is undone afterwards, so the data set is left as it was.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from pathlib import Path

from sqlalchemy import select

from bench.generate import add_dataset_arguments, ensure_dataset
from chirp.config import Settings
from chirp.db import make_engine, make_session_factory
from chirp.follows import service as follows_service
from chirp.follows.models import Follow
from chirp.redis_client import make_redis
from chirp.timeline import fanout
from chirp.timeline import service as timeline_service
from chirp.timeline.cache import TimelineCache
from chirp.timeline.home import HomeTimeline
from chirp.users.models import User

ROOT = Path(__file__).resolve().parent


def _ms(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100)
    return f"p50 {cuts[49] * 1000:.2f} ms, p99 {cuts[98] * 1000:.2f} ms"


async def measure(settings: Settings, follows: int, seed: int) -> dict[str, list[float]]:
    """Time ``follows`` merges, their replies' reads and rebuilds; undo each follow."""
    engine = make_engine(settings.database_url)
    redis = make_redis(str(settings.redis_url))
    cache = TimelineCache.from_settings(redis, settings)
    reader = HomeTimeline(settings, cache)
    rng = random.Random(seed)
    times: dict[str, list[float]] = {"merge": [], "replies": [], "rebuild": []}
    try:
        async with make_session_factory(engine)() as session:
            # Users who follow someone, as the load driver's are; any account to follow.
            followers = list(
                (await session.execute(select(Follow.follower_id).distinct())).scalars()
            )
            users = list((await session.execute(select(User.id))).scalars())
            for user_id in rng.sample(followers, follows):
                start = time.perf_counter()
                assert await reader.rebuild(session, user_id=user_id)
                times["rebuild"].append(time.perf_counter() - start)
                follower = await session.get(User, user_id)
                followee = await session.get(User, rng.choice(users))
                assert follower is not None and followee is not None
                if followee.id == user_id or not await follows_service.follow(
                    session, follower=follower, followee=followee
                ):
                    await session.rollback()
                    continue
                await session.commit()
                start = time.perf_counter()
                await fanout.merge_followee_posts(
                    session, cache, follower_id=user_id, followee_id=followee.id
                )
                times["merge"].append(time.perf_counter() - start)
                floor = await cache.floor(user_id)
                start = time.perf_counter()
                await timeline_service.followed_reply_ids(
                    session,
                    user_id=user_id,
                    account_id=followee.id,
                    low=floor or 0,
                    limit=cache.cap,
                )
                times["replies"].append(time.perf_counter() - start)
                await follows_service.unfollow(session, follower=follower, followee=followee)
                await session.commit()
                await cache.forget_user(user_id)
    finally:
        await redis.aclose()
        await engine.dispose()
    return times


def main() -> None:
    """Parse arguments, make sure the data set exists, measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    add_dataset_arguments(parser)
    parser.add_argument("--follows", type=int, default=200)
    args = parser.parse_args()
    ensure_dataset(args, ROOT / "data" / args.tier)
    settings = Settings(database_url=args.database_url, redis_url=args.redis_url)
    times = asyncio.run(measure(settings, args.follows, args.seed))
    merge, rebuild = statistics.median(times["merge"]), statistics.median(times["rebuild"])
    print(f"follows merged: {len(times['merge'])} (timeline cap {settings.timeline_cache_size})")
    print(f"- merge of a follow (its posts and the replies to it): {_ms(times['merge'])}")
    print(f"- of which the replies' read: {_ms(times['replies'])}")
    print(f"- rebuild of the same timeline: {_ms(times['rebuild'])}")
    print(f"- rebuild / merge (medians): {rebuild / merge:.1f}x")


if __name__ == "__main__":
    main()

"""With Redis down or failing, every home timeline write still lands, every page is whole,
and the log says what was skipped."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.config import Settings
from chirp.follows import service as follows_service
from chirp.pagination import Cursor
from chirp.posts import reposts
from chirp.posts import service as posts_service
from chirp.redis_client import make_redis
from chirp.timeline.cache import TimelineCache
from chirp.timeline.home import HomeTimeline
from chirp.users.models import User
from tests.factories import make_post, make_user

Step = Callable[[HomeTimeline, AsyncSession, User, User], Awaitable[None]]


@pytest.fixture
async def unreachable() -> AsyncIterator[Redis]:
    """A Redis client of a server that is not there: any command sent through it fails."""
    client = make_redis("redis://127.0.0.1:1/0")
    yield client
    await client.aclose()


async def _read(home: HomeTimeline, session: AsyncSession, alice: User, bob: User) -> None:
    page = await home.page(session, user_id=alice.id, cursor=Cursor())
    assert [p.text for p in page] == ["bob's", "alice's"]  # from the database


async def _publish(home: HomeTimeline, session: AsyncSession, alice: User, bob: User) -> None:
    post = await make_post(session, alice, "new")
    await home.published(post)
    assert await posts_service.get_post(session, post.id) is not None


async def _unfollow(home: HomeTimeline, session: AsyncSession, alice: User, bob: User) -> None:
    await home.unfollow(session, follower=alice, followee=bob)
    assert not await follows_service.is_following(session, follower_id=alice.id, followee_id=bob.id)


async def _follow(home: HomeTimeline, session: AsyncSession, alice: User, bob: User) -> None:
    await follows_service.unfollow(session, follower=alice, followee=bob)
    assert await home.follow(session, follower=alice, followee=bob)
    assert await follows_service.is_following(session, follower_id=alice.id, followee_id=bob.id)


async def _delete(home: HomeTimeline, session: AsyncSession, alice: User, bob: User) -> None:
    post = await make_post(session, bob, "soon gone")
    await home.delete_post(session, post=post, actor=bob)
    assert await posts_service.get_post(session, post.id) is None


async def _refresh(home: HomeTimeline, session: AsyncSession, alice: User, bob: User) -> None:
    post = await make_post(session, bob, "quoted")
    await home.refresh_posts([post.id])


@pytest.mark.parametrize(
    ("step", "skipped"),
    [
        (_read, "timeline cache unavailable, reading from the database"),
        (_publish, "could not cache a new post, its fan-out job will"),
        (_unfollow, "could not update a cached timeline after a follow or unfollow"),
        (_follow, "could not update a cached timeline after a follow or unfollow"),
        (_delete, "could not mark posts deleted in the cache"),
        (_refresh, "could not refresh cached posts"),
    ],
    ids=["read", "publish", "unfollow", "follow", "delete", "refresh"],
)
async def test_a_write_lands_without_redis_and_one_warning_says_why(
    session: AsyncSession,
    settings: Settings,
    unreachable: Redis,
    caplog: pytest.LogCaptureFixture,
    step: Step,
    skipped: str,
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    await follows_service.follow(session, follower=alice, followee=bob)
    await make_post(session, alice, "alice's")
    await make_post(session, bob, "bob's")
    home = HomeTimeline(settings, TimelineCache.from_settings(unreachable, settings))

    with caplog.at_level(logging.WARNING, logger="chirp.timeline"):
        await step(home, session, alice, bob)

    warnings = [r.getMessage() for r in caplog.records if r.name == "chirp.timeline"]
    assert len(warnings) == 1, warnings
    # What was skipped, and Redis's own reason (which names the server).
    assert warnings[0].startswith(f"{skipped}: "), warnings
    assert "127.0.0.1:1" in warnings[0], warnings


async def test_a_page_is_whole_when_its_posts_cannot_be_read_from_or_written_to_redis(
    session: AsyncSession,
    settings: Settings,
    redis: Redis,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice, bob, carol = [await make_user(session, n) for n in ("alice", "bob", "carol")]
    await follows_service.follow(session, follower=alice, followee=bob)
    original = await make_post(session, carol, "shared by bob")
    wrapper, _ = await reposts.repost(session, actor=bob, post_id=original.id)
    await session.commit()
    own = await make_post(session, bob, "bob's own")
    home = HomeTimeline(settings, TimelineCache.from_settings(redis, settings))
    assert home.cache is not None

    # The timeline and its ids are in Redis; its posts, and the one the repost shares, are
    # not cached yet, and Redis fails each read or write of cached posts.
    async def failing(*args: object) -> None:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(home.cache.posts, "get_many", failing)
    monkeypatch.setattr(home.cache.posts, "put_many", failing)
    with caplog.at_level(logging.WARNING, logger="chirp.timeline"):
        page = await home.page(session, user_id=alice.id, cursor=Cursor())

    assert [p.id for p in page] == [own.id, wrapper.id]  # from the database
    warnings = [r.getMessage() for r in caplog.records if r.name == "chirp.timeline"]
    reason = "Error 111 connecting to 127.0.0.1:6379. Connection refused."
    assert warnings == [
        f"could not read cached posts: {reason}",
        f"could not cache posts: {reason}",
    ]
    assert home.breaker.closed  # the timeline itself was read from Redis

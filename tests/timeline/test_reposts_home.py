"""Reposts in home timelines, on the database path and the Redis path (fan-out, read-time
merge of large accounts, and a mix), with several readers whose follows overlap.

What each path guarantees (see ``timeline.reposts`` and ``scripts.ADD_REPOST``):

- both: a repost shows at the time of the repost, the original inside; reposts of accounts
  followed with ``reblogs=false`` never show; within a page, a post shows once: as itself
  if the page holds it, else at its newest repost;
- Redis, across the whole cached window: a repost of a post the window holds as itself is
  not stored, and a newer repost of a post replaces the older one (undoing the newer brings
  the older back, through a rebuild); rebuilding from the database gives the same pages.
"""

from __future__ import annotations

import functools

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.follows import service as follows_service
from chirp.jobs import registry
from chirp.jobs.worker import JobContext, Worker
from chirp.pagination import Cursor
from chirp.posts import reposts
from chirp.posts.models import Post
from chirp.timeline.home import HomeTimeline
from chirp.timeline.reposts import dedupe, keep_one_repost
from chirp.users.models import User
from tests.factories import make_post, make_user
from tests.timeline import all_pages, is_built, read_from_redis, readers, record_home_reads

Factory = async_sessionmaker[AsyncSession]
MODES = [
    pytest.param({}, id="fanout"),
    pytest.param({"fanout_max_followers": 0}, id="read-time-merge"),
    pytest.param({"fanout_max_followers": 1}, id="hybrid"),
]


async def _drain(db: Factory, reader: HomeTimeline) -> None:
    ctx = JobContext(session_factory=db, settings=reader.settings, timeline_cache=reader.cache)
    await Worker(ctx, registry.handlers()).drain()


async def _repost(session: AsyncSession, reader: HomeTimeline, who: User, post: Post) -> Post:
    wrapper, new = await reposts.repost(session, actor=who, post_id=post.id)
    assert new
    await session.commit()
    await reader.published(wrapper)  # as the handlers do
    return wrapper


async def _undo(session: AsyncSession, reader: HomeTimeline, who: User, post: Post) -> None:
    _, removed = await reposts.unrepost(session, actor=who, post_id=post.id)
    assert removed is not None
    await session.commit()
    await reader.forget_posts([removed])


async def _ids(
    reader: HomeTimeline, session: AsyncSession, user: User, limit: int = 20
) -> list[int]:
    return [p.id for p in await reader.page(session, user_id=user.id, cursor=Cursor(limit=limit))]


async def _redis_ids(
    reader: HomeTimeline, redis: Redis, session: AsyncSession, user: User, limit: int = 20
) -> list[int]:
    return await read_from_redis(redis, reader, session, user.id, Cursor(limit=limit))


@pytest.mark.parametrize("overrides", MODES)
async def test_reposts_reach_followers_once_at_the_newest_and_undo_removes(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis, overrides: dict[str, int]
) -> None:
    me, fan, a, b, c, x = [await make_user(session, n) for n in ("me", "fan", "a", "b", "c", "x")]
    for follower, followee, show in (
        (me, a, True),
        (me, b, True),
        (me, c, False),  # me hides c's reposts
        (fan, a, True),
        (fan, c, True),
    ):
        await follows_service.follow(session, follower=follower, followee=followee, reblogs=show)
    await session.commit()
    sql, cached = readers(settings, redis, **overrides)
    cached.celebrities.ttl = 0
    for reader in (me, fan):  # timelines built before anything happens: fan-out fills them
        assert await _ids(cached, session, reader) == []

    p1 = await make_post(session, x, "x one: nobody here follows x")
    p2 = await make_post(session, a, "a two")
    p3 = await make_post(session, x, "x three")
    p4 = await make_post(session, x, "x four")
    ra1 = await _repost(session, cached, a, p1)
    rb2 = await _repost(session, cached, b, p2)  # me already sees p2 itself
    rc3 = await _repost(session, cached, c, p3)  # hidden for me, shown to fan
    rb1 = await _repost(session, cached, b, p1)  # newer repost of p1: it moves up
    rm4 = await _repost(session, cached, me, p4)  # my own repost is in my home
    p5 = await make_post(session, a, "a five")
    await _drain(db, cached)

    mine = [p5.id, rm4.id, rb1.id, p2.id]
    fans = [p5.id, rc3.id, ra1.id, p2.id]
    for reader, want in ((me, mine), (fan, fans)):
        assert await _ids(sql, session, reader) == want
        assert await _redis_ids(cached, redis, session, reader) == want
    shown = {p.id: p for p in await cached.page(session, user_id=me.id, cursor=Cursor())}
    assert shown[rb1.id].reblog_of_id == p1.id and shown[rb1.id].author_id == b.id
    assert rb2.id not in shown

    # Undo: b's repost leaves at once; once its purge job ran, a's earlier repost of p1 is
    # back in its place (on the database path at once).
    await _undo(session, cached, b, p1)
    undone = [p5.id, rm4.id, ra1.id, p2.id]
    assert await _ids(sql, session, me) == undone
    assert rb1.id not in await _redis_ids(cached, redis, session, me)
    await _drain(db, cached)
    assert await _redis_ids(cached, redis, session, me) == undone

    # Deleting an original takes its reposts out of every home, at once and after clean-up.
    await cached.delete_post(session, post=p1, actor=x)
    for reader, want in ((me, [p5.id, rm4.id, p2.id]), (fan, [p5.id, rc3.id, p2.id])):
        assert await _redis_ids(cached, redis, session, reader) == want
        assert await _ids(sql, session, reader) == want
    await _drain(db, cached)
    assert await _redis_ids(cached, redis, session, me) == [p5.id, rm4.id, p2.id]


@pytest.mark.parametrize("overrides", MODES)
async def test_rebuilding_from_the_database_gives_the_cached_pages(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis, overrides: dict[str, int]
) -> None:
    users = [await make_user(session, f"u{i}") for i in range(7)]
    reader, other, authors = users[0], users[6], users[1:6]
    for i, author in enumerate(authors):
        await follows_service.follow(session, follower=reader, followee=author, reblogs=i != 4)
        if i % 2:
            await follows_service.follow(session, follower=other, followee=author)
    await session.commit()
    _, cached = readers(settings, redis, **overrides)
    cached.celebrities.ttl = 0
    for user in (reader, other):
        await _ids(cached, session, user)
    posts = [await make_post(session, authors[i % 5], f"post {i}") for i in range(12)]
    # Overlapping reposts: the same posts shared by several accounts, some followed by the
    # reader as themselves, some reposted again later.
    for who, which in ((1, 0), (2, 0), (3, 5), (4, 7), (2, 7), (0, 3), (3, 0), (1, 11)):
        author, post = authors[who], posts[which]
        await _repost(session, cached, author, post)
        await make_post(session, authors[(who + 2) % 5], "between")
    await _drain(db, cached)
    # Large accounts' lists evicted alone (they hold these posts and reposts, not the
    # timelines built before them) are rebuilt from the database with the same pages.
    read = {user.id: functools.partial(_page, cached, redis, session, user) for user in users}
    before = {user.id: await all_pages(read[user.id], 7) for user in (reader, other)}
    evicted = [key async for key in redis.scan_iter("chirp:ap*")]
    assert bool(evicted) == ("fanout_max_followers" in overrides)
    if evicted:
        await redis.delete(*evicted)
    for user in (reader, other):
        assert await all_pages(read[user.id], 7) == before[user.id]
    for user in (reader, other):
        for limit in (3, 7, 50):
            filled = await all_pages(functools.partial(_page, cached, redis, session, user), limit)
            assert filled
            assert cached.cache is not None
            for key in ("tl", "tlf"):
                await redis.delete(f"chirp:{key}:{user.id}")
            rebuilt = await all_pages(functools.partial(_page, cached, redis, session, user), limit)
            assert rebuilt == filled, limit
            flat = [i for page in filled for i in page]
            assert len(flat) == len(set(flat))  # never the same item twice


async def _page(
    reader: HomeTimeline, redis: Redis, session: AsyncSession, user: User, cursor: Cursor
) -> list[int]:
    return await read_from_redis(redis, reader, session, user.id, cursor)


async def test_hidden_reposts_leave_database_pages_whole_in_both_directions(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    """A page read from the database and left short by reposts the reader hides reads on
    past them, newest first whichever way it pages (``max_id`` down, ``min_id`` up)."""
    me, other, b, c, x = [await make_user(session, n) for n in ("me", "other", "b", "c", "x")]
    await follows_service.follow(session, follower=me, followee=b)
    await follows_service.follow(session, follower=me, followee=c, reblogs=False)
    await follows_service.follow(session, follower=other, followee=c)  # shows c's reposts
    await session.commit()
    sql, cached = readers(settings, redis)
    mine = await make_post(session, me, "before")
    b1 = await make_post(session, b, "b one")
    shared = [await make_post(session, x, f"x {i}") for i in range(2)]
    hidden = [await _repost(session, cached, c, post) for post in shared]
    b2, b3 = await make_post(session, b, "b two"), await make_post(session, b, "b three")
    for cursor, want in [
        (Cursor(limit=2), [b3.id, b2.id]),
        (Cursor(max_id=b2.id, limit=2), [b1.id, mine.id]),
        (Cursor(min_id=mine.id, limit=2), [b2.id, b1.id]),
        (Cursor(min_id=b1.id, limit=2), [b3.id, b2.id]),
        (Cursor(min_id=mine.id, max_id=b3.id, limit=3), [b2.id, b1.id]),
    ]:
        page = await sql.page(session, user_id=me.id, cursor=cursor)
        assert [p.id for p in page] == want, cursor
    # The reposts are there for a follower of c who shows them.
    page = await sql.page(session, user_id=other.id, cursor=Cursor(min_id=mine.id, limit=1))
    assert [p.id for p in page] == [hidden[0].id]


async def test_a_post_seen_as_itself_does_not_come_back_as_a_repost_in_the_cached_window(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis
) -> None:
    me, a, b = [await make_user(session, n) for n in ("me", "a", "b")]
    for followee in (a, b):
        await follows_service.follow(session, follower=me, followee=followee)
    await follows_service.follow(session, follower=b, followee=a)
    await session.commit()
    _, cached = readers(settings, redis)
    await _ids(cached, session, me)
    await _ids(cached, session, b)
    original = await make_post(session, a, "seen first as itself")
    later = [await make_post(session, a, f"later {i}") for i in range(5)]
    await _repost(session, cached, b, original)
    second = await make_post(session, b, "after the repost")
    await _drain(db, cached)
    # Pages of two: the original is on the last page, the repost would have led the first.
    pages = await all_pages(functools.partial(_page, cached, redis, session, me), 2)
    flat = [i for page in pages for i in page]
    assert flat == [second.id, *[p.id for p in reversed(later)], original.id]
    # The same in the reposter's own timeline, where the request put the repost at once.
    pages = await all_pages(functools.partial(_page, cached, redis, session, b), 2)
    assert [i for page in pages for i in page] == flat


async def test_a_full_rebuild_that_drops_a_shared_posts_repost_still_continues_into_the_database(
    session: AsyncSession, settings: Settings, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    me, a, b = [await make_user(session, n) for n in ("me", "a", "b")]
    for followee in (a, b):
        await follows_service.follow(session, follower=me, followee=followee)
    await session.commit()
    sql, cached = readers(settings, redis, timeline_cache_size=5)
    posts = [await make_post(session, a, f"a {i}") for i in range(8)]
    await _repost(session, cached, b, posts[6])
    # The newest five are the repost and four posts, one of them the post it shares: the
    # rebuilt list keeps four, fewer than the cap, yet older posts are in the database.
    want = [p.id for p in reversed(posts)]
    assert await _ids(sql, session, me) == want
    assert await _redis_ids(cached, redis, session, me) == want
    assert await is_built(redis, me.id)
    # The list is complete down to its lowest post: pages it holds need no database.
    asked = record_home_reads(monkeypatch)
    held = Cursor(max_id=posts[6].id, limit=2)
    assert await read_from_redis(redis, cached, session, me.id, held) == want[2:4]
    assert asked == []
    assert await _redis_ids(cached, redis, session, me) == want
    assert asked


async def test_a_rebuilt_timeline_keeps_one_repost_per_post_as_fan_out_goes_on(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis
) -> None:
    me, a, b, c, d, x = [await make_user(session, n) for n in ("me", "a", "b", "c", "d", "x")]
    for followee in (a, b, c, d):  # not x, whose post the others share
        await follows_service.follow(session, follower=me, followee=followee)
    await session.commit()
    _, cached = readers(settings, redis)
    shared = await make_post(session, x, "shared by b, c and d")
    f1 = await make_post(session, a, "a one")
    rb = await _repost(session, cached, b, shared)
    f2 = await make_post(session, a, "a two")
    rc = await _repost(session, cached, c, shared)
    await _drain(db, cached)  # fanned out before the timeline exists: it is built from SQL
    pages = functools.partial(_page, cached, redis, session, me)

    async def flat(limit: int) -> list[int]:
        return [i for page in await all_pages(pages, limit) for i in page]

    # Built from the database: c's repost replaced b's. d's, fanned out later, replaces c's.
    assert await flat(20) == [rc.id, f2.id, f1.id]
    rd = await _repost(session, cached, d, shared)
    f3 = await make_post(session, a, "a three")
    await _drain(db, cached)
    for limit in (1, 2, 20):  # once across the whole window, not only within a page
        assert await flat(limit) == [f3.id, rd.id, f2.id, f1.id]
    # Undoing each newest repost brings back the one it replaced.
    await _undo(session, cached, d, shared)
    await _drain(db, cached)
    assert await flat(1) == [f3.id, rc.id, f2.id, f1.id]
    await _undo(session, cached, c, shared)
    await _drain(db, cached)
    assert await flat(1) == [f3.id, f2.id, rb.id, f1.id]


def test_dedupe_and_keep_one_repost_rules() -> None:
    class P:
        def __init__(self, id: int, of: int | None = None) -> None:
            self.id, self.reblog_of_id, self.author_id = id, of, 0

    page = [P(9, 1), P(8, 2), P(7, 1), P(6), P(2), P(5, 6)]
    assert [p.id for p in dedupe(page)] == [9, 6, 2]  # type: ignore[arg-type]
    kept, shared, moved = keep_one_repost([9, 8, 7, 6, 2], {9: 1, 8: 2, 7: 1})
    assert kept == [9, 6, 2] and shared == {1: 9} and moved == {9}


async def test_following_an_account_brings_its_reposts_into_a_built_timeline_once_per_post(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    me, ann, bob, cat = [await make_user(session, n) for n in ("me", "ann", "bob", "cat")]
    sql, cached = readers(settings, redis)
    assert await cached.follow(session, follower=me, followee=ann)
    seen = await make_post(session, ann, "in my timeline already")
    assert await _redis_ids(cached, redis, session, me) == [seen.id]  # built
    cats = await make_post(session, cat, "cat's, reposted by bob")
    own = await make_post(session, bob, "bob's own")
    shared = await _repost(session, cached, bob, cats)
    again = await _repost(session, cached, bob, seen)
    # Following bob brings his post and his repost of cat's; his repost of ann's post, which
    # my timeline holds as itself, stays out (once per post across the cached window).
    assert await cached.follow(session, follower=me, followee=bob)
    want = [shared.id, own.id, seen.id]
    assert await _redis_ids(cached, redis, session, me) == want
    assert await _ids(sql, session, me) == want
    # The database keeps one per post within a page only: there, a page of one is the repost.
    assert await _redis_ids(cached, redis, session, me, limit=1) == [shared.id]
    assert await _ids(sql, session, me, limit=1) == [again.id]

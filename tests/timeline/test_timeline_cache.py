"""The Redis timeline store: batched fan-out writes, caps and floors."""

from __future__ import annotations

from redis.asyncio import Redis

from chirp.pagination import Cursor
from chirp.timeline.cache import USERS_PER_CALL, TimelineCache


async def test_add_writes_only_existing_timelines_across_many_script_calls(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=800)
    users = list(range(1, 2 * USERS_PER_CALL + 7))  # three script calls
    built = users[::3]
    for uid in built:
        await cache.finish_rebuild(uid, [], floor=0)
    await cache.start_rebuild(users[1])  # being rebuilt: must receive fan-out too

    assert await cache.add([42], users) == len(built) + 1

    for uid in [*built, users[1]]:
        assert await redis.zscore(f"chirp:tl:{uid}", f"{42:019d}") is not None
    assert not await cache.exists(users[2])  # never read: left to be rebuilt on read


async def test_add_trims_to_the_cap_and_raises_the_floor(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=5)
    await cache.finish_rebuild(7, [], floor=0)
    await cache.add(list(range(100, 110)), [7])
    page = await cache.page(7, Cursor(), limit=20)
    assert page is not None
    assert page.ids == [109, 108, 107, 106, 105]
    assert page.floor == 105  # older posts must come from the database


async def test_add_with_an_implied_floor_keeps_the_highest_floor(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=800)
    await cache.finish_rebuild(7, [], floor=50)
    await cache.add([60, 70], [7], implied_floor=40)  # lower: the floor stays
    assert (await cache.page(7, Cursor(), limit=5)).floor == 50  # type: ignore[union-attr]
    await cache.add([80], [7], implied_floor=60)
    assert (await cache.page(7, Cursor(), limit=5)).floor == 60  # type: ignore[union-attr]


async def test_add_takes_more_ids_than_one_lua_unpack_holds(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=10_000)
    await cache.finish_rebuild(7, [], floor=0)
    ids = list(range(1, 5001))  # 10,000 score/member values
    await cache.add(ids, [7])
    page = await cache.page(7, Cursor(), limit=10_000)
    assert page is not None and page.ids == ids[::-1]


async def test_page_merges_extra_ids_above_the_floor_and_returns_their_posts(
    redis: Redis,
) -> None:
    cache = TimelineCache(redis, cap=800)
    await cache.finish_rebuild(7, [100, 104, 108], floor=100)
    await cache.add([90], [7])  # merged in by a follow, but below the floor
    await redis.set("chirp:p:104", "cached 104")
    await redis.set("chirp:p:106", "cached 106")

    page = await cache.page(7, Cursor(), limit=4, extra=[108, 106, 102, 95])

    assert page is not None
    # 108 once though both hold it; 95 (extra) and 90 (timeline) are below the floor.
    assert page.ids == [108, 106, 104, 102]
    assert page.floor == 100
    assert page.posts == [None, "cached 106", "cached 104", None]


async def test_page_merges_in_ascending_order_after_min_id(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=800)
    await cache.finish_rebuild(7, [100, 104, 108], floor=0)

    page = await cache.page(7, Cursor(min_id=100), limit=3, extra=[101, 104, 110])

    assert page is not None
    assert page.ids == [101, 104, 108]
    assert page.posts == [None, None, None]


async def test_page_of_a_missing_timeline_is_none_whatever_the_extra_ids(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=800)
    assert await cache.page(8, Cursor(), limit=20, extra=[5, 4]) is None

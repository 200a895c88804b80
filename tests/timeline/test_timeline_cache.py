"""The Redis timeline store: batched fan-out writes, caps and floors."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from chirp.pagination import Cursor
from chirp.timeline.cache import USERS_PER_CALL, CachedPage, Missing, TimelineCache
from tests.timeline import is_built, stored_ids


async def _built(cache: TimelineCache, user_id: int, ids: Sequence[int], *, floor: int) -> None:
    """A timeline rebuilt from ``ids`` without interruption."""
    token = await cache.start_rebuild(user_id)
    assert await cache.finish_rebuild(user_id, ids, floor=floor, token=token)


async def _built_author(
    cache: TimelineCache, author_id: int, ids: Sequence[int], *, floor: int
) -> None:
    """A large account's list rebuilt from ``ids`` without interruption."""
    token = await cache.start_author_rebuild(author_id)
    assert await cache.finish_author_rebuild(author_id, ids, floor=floor, token=token)


async def _read(
    cache: TimelineCache, user_id: int, cursor: Cursor, *, limit: int, follows: Sequence[int] = ()
) -> CachedPage:
    """A page, for a reader whose followed large accounts are ``follows``."""
    mark = await cache.start_followed_large(user_id)
    await cache.finish_followed_large(user_id, mark=mark, generation="g", author_ids=follows)
    page = await cache.page(user_id, cursor, limit=limit, generation="g")
    assert isinstance(page, CachedPage)
    return page


async def test_add_writes_only_existing_timelines_across_many_script_calls(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=800)
    users = list(range(1, 2 * USERS_PER_CALL + 7))  # three script calls
    built = users[::3]
    for uid in built:
        await _built(cache, uid, [], floor=0)
    token = await cache.start_rebuild(users[1])  # being rebuilt: must receive fan-out too

    assert await cache.add([42], users) == len(built) + 1
    # The rebuild read the database before post 42 existed; its timeline gets 42 anyway.
    assert await cache.finish_rebuild(users[1], [7], floor=0, token=token)

    for uid in [*built, users[1]]:
        assert await redis.zscore(f"chirp:tl:{uid}", f"{42:019d}") is not None
    assert not await is_built(redis, users[2])  # never read: left to be rebuilt on read
    assert await cache.add([], users) == 0
    assert await cache.add([43], []) == 0


async def test_add_repost_writes_only_existing_timelines_across_many_script_calls(
    redis: Redis,
) -> None:
    cache = TimelineCache(redis, cap=800)
    users = list(range(1, 2 * USERS_PER_CALL + 7))  # three script calls
    built = users[::3]
    for uid in built:
        await _built(cache, uid, [5], floor=0)
    holder = built[-1]
    await cache.add([7], [holder])  # already shows the post shared: the repost is left out

    assert await cache.add_repost(42, 7, users) == len(built) - 1
    for uid in built:
        expected = [7, 5] if uid == holder else [42, 5]
        assert await stored_ids(redis, uid) == expected
    assert not await is_built(redis, users[1])  # never read: left to be rebuilt on read
    assert await cache.add_repost(43, 7, []) == 0


async def test_remove_takes_posts_out_of_every_timeline_across_many_script_calls(
    redis: Redis,
) -> None:
    cache = TimelineCache(redis, cap=800)
    users = list(range(1, 2 * USERS_PER_CALL + 7))
    for uid in users:
        await _built(cache, uid, [uid + 10, 3, 2, 1], floor=0)

    await cache.remove([1, 3], users)

    for uid in users:
        assert await stored_ids(redis, uid) == [uid + 10, 2]


async def test_add_trims_to_the_cap_and_raises_the_floor(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=5)
    await _built(cache, 7, [], floor=0)
    await cache.add(list(range(100, 110)), [7])
    page = await _read(cache, 7, Cursor(), limit=20)
    assert page.ids == [109, 108, 107, 106, 105]
    assert page.floor == 105  # older posts must come from the database


async def test_add_with_an_implied_floor_keeps_the_highest_floor(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=800)
    await _built(cache, 7, [], floor=50)
    await cache.add([60, 70], [7], implied_floor=40)  # lower: the floor stays
    assert (await _read(cache, 7, Cursor(), limit=5)).floor == 50
    await cache.add([80], [7], implied_floor=60)
    assert (await _read(cache, 7, Cursor(), limit=5)).floor == 60


async def test_add_takes_more_ids_than_one_lua_unpack_holds(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=10_000)
    await _built(cache, 7, [], floor=0)
    ids = list(range(1, 5001))  # 10,000 score/member values
    await cache.add(ids, [7])
    page = await _read(cache, 7, Cursor(), limit=10_000)
    assert page.ids == ids[::-1]


async def test_page_merges_followed_large_accounts_and_returns_the_posts(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=800)
    await _built(cache, 7, [100, 104, 108], floor=100)
    await cache.add([90], [7])  # merged in by a follow, but below the floor
    await _built_author(cache, 55, [95, 102, 106, 108], floor=0)
    await _built_author(cache, 56, [300], floor=0)  # not followed by 7
    await redis.set("chirp:p:104", "cached 104")
    await redis.set("chirp:p:106", "cached 106")

    page = await _read(cache, 7, Cursor(), limit=4, follows=[55])

    # 108 once though both hold it; 95 (the account's) and 90 (the timeline's) are below
    # the timeline's floor.
    assert page.ids == [108, 106, 104, 102]
    assert page.floor == 100
    assert page.posts == [None, "cached 106", "cached 104", None]


async def test_page_floor_is_the_highest_of_the_lists_read(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=800)
    await _built(cache, 7, [100, 104, 108], floor=0)
    await _built_author(cache, 55, [101, 103, 105], floor=103)  # trimmed: older unknown

    page = await _read(cache, 7, Cursor(), limit=10, follows=[55])

    assert page.ids == [108, 105, 104, 103]
    assert page.floor == 103  # below it the caller reads the database


async def test_page_merges_in_ascending_order_after_min_id(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=800)
    await _built(cache, 7, [100, 104, 108], floor=0)
    await _built_author(cache, 55, [101, 104, 110], floor=0)

    page = await _read(cache, 7, Cursor(min_id=100), limit=3, follows=[55])

    assert page.ids == [101, 104, 108]
    assert page.posts == [None, None, None]


async def test_page_says_what_is_missing(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=800)
    assert await cache.page(8, Cursor(), limit=20, generation="g") == Missing(timeline=True)
    await _built(cache, 8, [5], floor=0)
    unknown = Missing(followed_large=True)
    assert await cache.page(8, Cursor(), limit=20, generation="g") == unknown
    await _read(cache, 8, Cursor(), limit=20, follows=[])
    # The list of large accounts changed since the reader's were recorded.
    assert await cache.page(8, Cursor(), limit=20, generation="h") == unknown
    mark = await cache.start_followed_large(8)
    await cache.finish_followed_large(8, mark=mark, generation="h", author_ids=[55, 56])
    await _built_author(cache, 56, [4], floor=0)
    assert await cache.page(8, Cursor(), limit=20, generation="h") == Missing(author_lists=(55,))


async def test_a_follow_change_during_the_lookup_discards_what_was_read(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=800)
    await _built(cache, 8, [5], floor=0)
    mark = await cache.start_followed_large(8)
    await cache.forget_followed_large(8)  # the follow job ran meanwhile
    assert not await cache.finish_followed_large(8, mark=mark, generation="g", author_ids=[])
    assert await cache.page(8, Cursor(), limit=20, generation="g") == Missing(followed_large=True)


async def test_author_lists_take_posts_only_once_built_and_drop_deleted_ones(redis: Redis) -> None:
    cache = TimelineCache(redis, cap=3)
    assert await cache.add_author_posts([1], 55) == 0  # missing: rebuilt on read instead
    await _built_author(cache, 55, [], floor=0)
    assert await cache.add_author_posts([1, 2, 3, 4], 55) == 1
    await cache.remove_author_posts([3], 55)
    await _built(cache, 7, [], floor=0)

    page = await _read(cache, 7, Cursor(), limit=10, follows=[55])

    assert page.ids == [4, 2]
    assert page.floor == 2  # trimmed to the cap: 1 is no longer held


async def test_forgetting_a_deleted_account_drops_all_its_keys_and_no_one_elses(
    redis: Redis,
) -> None:
    cache = TimelineCache(redis, cap=800)
    gone, kept = 7, 8
    for user_id in (gone, kept):
        # A home timeline, a large account's list, and the followed large accounts' list,
        # each with the markers a rebuild or a read in progress leaves.
        await _built(cache, user_id, [100 + user_id], floor=1)
        await cache.start_rebuild(user_id)
        await _built_author(cache, user_id, [200 + user_id], floor=1)
        await cache.start_author_rebuild(user_id)
        mark = await cache.start_followed_large(user_id)
        await cache.finish_followed_large(user_id, mark=mark, generation="g", author_ids=[9])
        await cache.start_followed_large(user_id)
    keys = {user_id: set(await redis.keys(f"*:{user_id}")) for user_id in (gone, kept)}
    assert len(keys[gone]) == len(keys[kept]) == 8
    await cache.forget_user(gone)
    assert await redis.keys(f"*:{gone}") == []
    assert set(await redis.keys(f"*:{kept}")) == keys[kept]

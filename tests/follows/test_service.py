"""Follow rules: idempotent, no self-follows, counters in step, relationships."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.errors import ValidationFailed
from chirp.follows import service as follows_service
from chirp.pagination import Cursor
from chirp.users.models import User
from tests.factories import make_user, reload


async def _fresh(session: AsyncSession, user: User) -> tuple[int, int]:
    fresh = await reload(session, user)
    return fresh.followers_count, fresh.following_count


async def test_follow_is_idempotent_and_counts(session: AsyncSession) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    assert await follows_service.follow(session, follower=alice, followee=bob) is True
    assert await follows_service.follow(session, follower=alice, followee=bob) is False
    await session.commit()
    assert await _fresh(session, bob) == (1, 0)
    assert await _fresh(session, alice) == (0, 1)
    assert await follows_service.is_following(session, follower_id=alice.id, followee_id=bob.id)


async def test_unfollow_is_idempotent_and_counts(session: AsyncSession) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    carol = await make_user(session, "carol")
    # Follows around the one undone stay: carol's of bob, alice's of carol.
    await follows_service.follow(session, follower=carol, followee=bob)
    await follows_service.follow(session, follower=alice, followee=carol)
    await follows_service.follow(session, follower=alice, followee=bob)
    assert await follows_service.unfollow(session, follower=alice, followee=bob) is True
    assert await follows_service.unfollow(session, follower=alice, followee=bob) is False
    await session.commit()
    assert await _fresh(session, bob) == (1, 0)
    assert await _fresh(session, alice) == (0, 1)
    for follower, followee, expected in [
        (carol, bob, True),
        (alice, carol, True),
        (alice, bob, False),
    ]:
        found = await follows_service.is_following(
            session, follower_id=follower.id, followee_id=followee.id
        )
        assert found is expected


async def test_cannot_follow_yourself(session: AsyncSession) -> None:
    alice = await make_user(session, "alice")
    with pytest.raises(ValidationFailed, match=r"^You can't follow yourself$"):  # as shown
        await follows_service.follow(session, follower=alice, followee=alice)
    assert await _fresh(session, alice) == (0, 0)


async def test_relationships_both_directions(session: AsyncSession) -> None:
    alice, bob, carol = [await make_user(session, n) for n in ("alice", "bob", "carol")]
    await follows_service.follow(session, follower=alice, followee=bob)
    await follows_service.follow(session, follower=carol, followee=alice)
    # Others' follows among the same accounts must not count as alice's.
    dan = await make_user(session, "dan")
    await follows_service.follow(session, follower=carol, followee=bob)
    await follows_service.follow(session, follower=bob, followee=dan)
    await follows_service.follow(session, follower=alice, followee=dan, reblogs=False, notify=True)
    ids = [bob.id, carol.id, dan.id]
    rels = await follows_service.relationships(session, viewer_id=alice.id, ids=ids)
    assert [(r.id, r.following, r.followed_by, r.showing_reblogs, r.notifying) for r in rels] == [
        (bob.id, True, False, True, False),
        (carol.id, False, True, False, False),
        (dan.id, True, False, False, True),
    ]
    assert await follows_service.relationships(session, viewer_id=alice.id, ids=[]) == []


async def test_follower_lists_page_newest_first_without_gaps(session: AsyncSession) -> None:
    star = await make_user(session, "star")
    fans = [await make_user(session, f"fan{i}") for i in range(5)]
    for fan in fans:
        await follows_service.follow(session, follower=fan, followee=star)
    first = await follows_service.followers_page(session, user_id=star.id, cursor=Cursor(limit=3))
    second = await follows_service.followers_page(
        session, user_id=star.id, cursor=Cursor(max_id=first[-1][0], limit=3)
    )
    names = [u.username for _, u in first + second]
    assert names == [f"fan{i}" for i in range(4, -1, -1)]
    following = await follows_service.following_page(session, user_id=fans[0].id, cursor=Cursor())
    assert [u.username for _, u in following] == ["star"]


async def test_follows_from_sessions_holding_stale_rows_all_count(
    db: async_sessionmaker[AsyncSession],
) -> None:
    # A request holding an account's row while another follows it must not write back the
    # count it loaded (0 + 1) over the other's increment.
    async with db() as setup:
        alice, bob, carol = [await make_user(setup, n) for n in ("alice", "bob", "carol")]
    async with db() as first:
        stale = await reload(first, carol)
        async with db() as second:  # another request, done while the first one holds its row
            followee = await reload(second, carol)
            await follows_service.follow(second, follower=alice, followee=followee)
            await second.commit()
        await follows_service.follow(first, follower=await reload(first, bob), followee=stale)
        await first.commit()
        assert stale.followers_count == 2  # the loaded row shows what the database holds
    async with db() as check:
        assert await _fresh(check, carol) == (2, 0)
        await follows_service.unfollow(check, follower=alice, followee=carol)
        await check.commit()
        assert await _fresh(check, carol) == (1, 0)


async def test_followers_among_names_only_the_candidates_following_that_account(
    session: AsyncSession,
) -> None:
    # Overlapping graphs: ann and cat follow bob; cat and dan follow eve; eve follows bob.
    ann, bob, cat, dan, eve = [
        await make_user(session, n) for n in ("ann", "bob", "cat", "dan", "eve")
    ]
    for follower, followee in [(ann, bob), (cat, bob), (cat, eve), (dan, eve), (eve, bob)]:
        await follows_service.follow(session, follower=follower, followee=followee)
    await session.commit()

    async def among(followee: User, *candidates: User) -> set[int]:
        return await follows_service.followers_among(
            session, followee_id=followee.id, candidates=[c.id for c in candidates]
        )

    assert await among(bob, ann, cat, dan, eve, bob) == {ann.id, cat.id, eve.id}
    assert await among(bob, dan, ann, ann) == {ann.id}
    assert await among(eve, ann, cat, dan) == {cat.id, dan.id}
    assert await among(bob) == set()


async def test_walking_followers_in_batches_visits_each_once_in_follow_order(
    session: AsyncSession,
) -> None:
    star, other = await make_user(session, "star"), await make_user(session, "other")
    fans = [await make_user(session, f"fan{n}") for n in range(5)]
    # fan1 and fan3 hide star's reposts; fan0 and fan4 also follow the other account.
    for n, fan in enumerate(fans):
        await follows_service.follow(session, follower=fan, followee=star, reblogs=n not in (1, 3))
    for fan in (fans[0], fans[4]):
        await follows_service.follow(session, follower=fan, followee=other)
    await follows_service.follow(session, follower=star, followee=other)
    await session.commit()

    async def walk(followee: User, *, reblogs: bool = False) -> list[list[int]]:
        batches: list[list[int]] = []
        after = 0
        for _ in range(10):  # bounded: 5 followers in batches of 2 take 3
            batch = await follows_service.follower_batch(
                session, followee_id=followee.id, after_id=after, limit=2, reblogs=reblogs
            )
            if not batch:
                return batches
            assert [follow_id for follow_id, _ in batch] == sorted(
                follow_id for follow_id, _ in batch
            )
            assert all(follow_id > after for follow_id, _ in batch)
            batches.append([follower_id for _, follower_id in batch])
            after = batch[-1][0]
        raise AssertionError("the walk did not end")

    ids = [fan.id for fan in fans]
    assert await walk(star) == [ids[0:2], ids[2:4], ids[4:5]]
    assert await walk(star, reblogs=True) == [[ids[0], ids[2]], [ids[4]]]
    assert await walk(other) == [[ids[0], ids[4]], [star.id]]
    assert await walk(fans[2]) == []
    everyone = await follows_service.follower_batch(
        session, followee_id=star.id, after_id=0, limit=10
    )
    assert [follower_id for _, follower_id in everyone] == ids  # reposts hidden or not


async def test_suggestions_are_the_most_followed_accounts_the_viewer_does_not_follow(
    session: AsyncSession,
) -> None:
    names = ("viewer", "big", "mid", "small", "quiet")
    viewer, big, mid, small, _quiet = [await make_user(session, n) for n in names]
    fans = [await make_user(session, f"fan{n}") for n in range(3)]
    # Followers: big 3, mid 2 (one of them the viewer), small 1, the others none.
    for followee, followers in [(big, fans), (mid, [viewer, fans[0]]), (small, [fans[1]])]:
        for follower in followers:
            await follows_service.follow(session, follower=follower, followee=followee)
    await session.commit()

    async def suggested(user: User, limit: int) -> list[str]:
        found = await follows_service.suggestions(session, viewer_id=user.id, limit=limit)
        return [u.username for u in found]

    assert await suggested(viewer, 2) == ["big", "small"]  # not mid: already followed
    assert (await suggested(viewer, 20))[:2] == ["big", "small"]
    assert set(await suggested(viewer, 20)) == {"big", "small", "quiet", "fan0", "fan1", "fan2"}
    assert await suggested(fans[2], 2) == ["mid", "small"]  # fan2 follows big


async def test_hiding_reblogs_names_only_the_accounts_this_follower_hides_reposts_of(
    session: AsyncSession,
) -> None:
    ann, bob, cat, dan = [await make_user(session, n) for n in ("ann", "bob", "cat", "dan")]
    # ann hides bob's reposts, sees cat's; dan hides cat's; nobody follows dan.
    await follows_service.follow(session, follower=ann, followee=bob, reblogs=False)
    await follows_service.follow(session, follower=ann, followee=cat, reblogs=True)
    await follows_service.follow(session, follower=dan, followee=cat, reblogs=False)
    await session.commit()

    async def hidden(follower: User, *candidates: User) -> set[int]:
        return await follows_service.hiding_reblogs(
            session, follower_id=follower.id, candidates=[c.id for c in candidates]
        )

    assert await hidden(ann, bob, cat, dan) == {bob.id}
    assert await hidden(ann, cat, dan) == set()
    assert await hidden(dan, bob, cat) == {cat.id}
    assert await hidden(bob, ann, cat) == set()
    assert await hidden(ann) == set()


async def test_following_ids_names_only_the_candidates_that_viewer_follows(
    session: AsyncSession,
) -> None:
    ann, bob, cat, dan = [await make_user(session, n) for n in ("ann", "bob", "cat", "dan")]
    # ann follows bob; cat follows bob and dan: cat's follows are not ann's.
    for follower, followee in [(ann, bob), (cat, bob), (cat, dan)]:
        await follows_service.follow(session, follower=follower, followee=followee)
    await session.commit()

    async def followed(viewer: User, *candidates: User) -> set[int]:
        return await follows_service.following_ids(
            session, viewer_id=viewer.id, candidates=[c.id for c in candidates]
        )

    assert await followed(ann, bob, cat, dan) == {bob.id}
    assert await followed(cat, ann, bob, dan) == {bob.id, dan.id}
    assert await followed(cat, ann) == set()
    assert await followed(ann) == set()

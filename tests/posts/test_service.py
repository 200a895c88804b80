"""Post rules: validation, atomic storage, idempotency, deletion rights."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.db import utcnow
from chirp.errors import NotFound, ValidationFailed
from chirp.posts import service as posts_service
from chirp.posts.models import IdempotencyKey, Post
from tests.factories import make_post, make_user, reload


async def _count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Post))).scalar_one())


@pytest.mark.parametrize("bad", ["", "   ", "\n\t ", "x" * 141])
async def test_blank_or_too_long_posts_store_nothing(session: AsyncSession, bad: str) -> None:
    alice = await make_user(session, "alice")
    with pytest.raises(ValidationFailed):
        await posts_service.create_post(session, author=alice, text=bad, max_length=140)
    await session.commit()
    assert await _count(session) == 0
    assert (await reload(session, alice)).posts_count == 0


async def test_exactly_the_limit_is_accepted_and_text_kept_as_typed(session: AsyncSession) -> None:
    alice = await make_user(session, "alice")
    typed = "  " + "é" * 138
    post = await posts_service.create_post(session, author=alice, text=typed, max_length=140)
    await session.commit()
    assert post.text == typed
    assert (await reload(session, alice)).posts_count == 1


async def test_text_is_counted_in_nfc_but_stored_as_typed(session: AsyncSession) -> None:
    alice = await make_user(session, "alice")
    # 140 decomposed "é" are 280 code points as typed, 140 once composed: within the limit.
    decomposed = "e\u0301" * 140
    post = await posts_service.create_post(session, author=alice, text=decomposed, max_length=140)
    await session.commit()
    stored = (await session.execute(select(Post.text).where(Post.id == post.id))).scalar_one()
    assert stored == decomposed


async def test_idempotency_key_returns_the_same_post(session: AsyncSession) -> None:
    alice = await make_user(session, "alice")
    first = await posts_service.create_post(
        session, author=alice, text="once", max_length=140, idempotency_key="k1"
    )
    again = await posts_service.create_post(
        session, author=alice, text="once", max_length=140, idempotency_key="k1"
    )
    other = await posts_service.create_post(
        session, author=alice, text="once", max_length=140, idempotency_key="k2"
    )
    assert first.id == again.id != other.id
    # A newer key leaves the earlier ones of the hour standing.
    later = await posts_service.create_post(
        session, author=alice, text="once", max_length=140, idempotency_key="k1"
    )
    assert later.id == first.id
    assert await _count(session) == 2


async def test_an_idempotency_key_is_forgotten_after_an_hour(session: AsyncSession) -> None:
    alice = await make_user(session, "alice")
    first = await posts_service.create_post(
        session, author=alice, text="once", max_length=140, idempotency_key="k1"
    )
    await session.execute(
        update(IdempotencyKey).values(created_at=utcnow() - timedelta(minutes=61))
    )
    again = await posts_service.create_post(
        session, author=alice, text="once more", max_length=140, idempotency_key="k1"
    )
    assert again.id != first.id and again.text == "once more"
    assert await _count(session) == 2
    keys = (await session.execute(select(IdempotencyKey.post_id))).scalars().all()
    assert keys == [again.id]  # the expired key is gone, not kept beside the new one
    assert (await reload(session, alice)).posts_count == 2
    third = await posts_service.create_post(
        session, author=alice, text="once more", max_length=140, idempotency_key="k1"
    )
    assert third.id == again.id  # the key now stands for the new post


async def test_only_the_author_can_delete(session: AsyncSession) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    post = await make_post(session, alice, "mine")
    with pytest.raises(NotFound):
        await posts_service.delete_post(session, post=post, actor=bob)
    assert await posts_service.get_post(session, post.id) is not None
    await posts_service.delete_post(session, post=post, actor=alice)
    await session.commit()
    assert await posts_service.get_post(session, post.id) is None
    assert (await reload(session, alice)).posts_count == 0


async def test_post_ids_are_time_ordered(session: AsyncSession) -> None:
    alice = await make_user(session, "alice")
    posts = [await make_post(session, alice, f"p{i}") for i in range(20)]
    ids = [p.id for p in posts]
    assert ids == sorted(ids) and len(set(ids)) == 20
    assert all(0 < i < 2**63 for i in ids)


async def test_posts_from_sessions_holding_stale_rows_all_count(
    db: async_sessionmaker[AsyncSession],
) -> None:
    # A request holding its author's row while another request by them posts must not
    # write back the count it loaded (0 + 1) over the other's increment.
    async with db() as setup:
        alice = await make_user(setup, "alice")
    async with db() as first:
        stale = await reload(first, alice)
        async with db() as second:  # another request, done while the first one holds its row
            await posts_service.create_post(
                second, author=await reload(second, alice), text="one", max_length=140
            )
            await second.commit()
        post = await posts_service.create_post(first, author=stale, text="two", max_length=140)
        await first.commit()
        assert stale.posts_count == 2  # the loaded row shows what the database holds
    async with db() as check:
        assert (await reload(check, alice)).posts_count == 2
        await posts_service.delete_post(check, post=post, actor=await reload(check, alice))
        await check.commit()
        assert (await reload(check, alice)).posts_count == 1

"""Cursor paging as Mastodon defines it: max_id, since_id, min_id and limit over real rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.pagination import Cursor, fetch_page
from chirp.posts.models import Post
from tests.factories import make_post, make_user


async def test_each_cursor_bounds_and_orders_a_page(session: AsyncSession) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    ids = [(await make_post(session, alice, f"a{i}")).id for i in range(6)]
    await make_post(session, bob, "not alice's")  # the statement's own conditions stay
    stmt = select(Post).where(Post.author_id == alice.id)

    async def page(**cursor: int) -> list[int]:
        return [p.id for p in await fetch_page(session, stmt, Post.id, Cursor(**cursor))]

    assert await page() == ids[::-1]  # newest first
    assert await page(limit=2) == [ids[5], ids[4]]
    assert await page(max_id=ids[3]) == [ids[2], ids[1], ids[0]]  # older than max_id
    # since_id: the newest posts newer than it; min_id: those just after it (both newest first).
    assert await page(since_id=ids[1], limit=2) == [ids[5], ids[4]]
    assert await page(min_id=ids[1], limit=2) == [ids[3], ids[2]]
    assert await page(since_id=ids[1], max_id=ids[4]) == [ids[3], ids[2]]
    assert await page(min_id=ids[1], max_id=ids[4]) == [ids[3], ids[2]]
    assert await page(since_id=ids[5]) == [] and await page(max_id=ids[0]) == []


def test_a_limit_is_brought_into_one_to_the_maximum_and_the_bounds_kept() -> None:
    cursor = Cursor(max_id=9, since_id=3, min_id=5, limit=500)
    assert cursor.clamp() == Cursor(max_id=9, since_id=3, min_id=5, limit=40)
    assert cursor.clamp(80) == Cursor(max_id=9, since_id=3, min_id=5, limit=80)
    assert Cursor(limit=0).clamp() == Cursor(limit=1)
    assert Cursor(limit=-5).clamp(80) == Cursor(limit=1)
    assert Cursor(limit=40).clamp() == Cursor(limit=40)
    assert Cursor(limit=1).clamp() == Cursor(limit=1)
    assert Cursor().clamp() == Cursor(limit=20)

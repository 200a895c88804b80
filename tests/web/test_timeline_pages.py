"""The home page: landing when logged out, home timeline with load more when logged in."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from tests.factories import make_post, make_user
from tests.web.helpers import home_post_ids, login, post_ids


async def test_logged_out_visitors_see_public_posts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    await make_post(session, alice, "hello, visitors")
    r = await client.get("/")
    assert r.status_code == 200
    assert "hello, visitors" in r.text and "Create an account" in r.text


async def test_home_pages_through_everything_with_no_gap_or_duplicate(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob, carol = [await make_user(session, n) for n in ("alice", "bob", "carol")]
    await follows_service.follow(session, follower=alice, followee=bob)
    await session.commit()
    expected = []
    for i in range(45):
        author = (alice, bob, carol)[i % 3]
        post = await make_post(session, author, f"post {i}")
        if author is not carol:
            expected.append(post.id)
    assert await home_post_ids(client, "alice") == sorted(expected, reverse=True)


async def test_load_more_without_js_is_a_full_page(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    posts = [await make_post(session, alice, f"p{i}") for i in range(25)]
    await login(client, "alice")
    r = await client.get(f"/?max_id={posts[5].id}")
    assert "<html" in r.text
    assert post_ids(r.text) == [p.id for p in reversed(posts[:5])]

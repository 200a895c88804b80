"""Posting, reading and deleting posts in the web UI."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts.models import Post
from tests.factories import make_post, make_user
from tests.web.helpers import csrf, htmx, login


async def _count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Post))).scalar_one())


async def test_post_without_js_redirects_home_and_shows_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    await login(client, "alice")
    token = await csrf(client, "/")
    r = await client.post("/posts", data={"text": "first chirp", "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "first chirp" in (await client.get("/")).text


async def test_post_with_htmx_returns_just_the_new_post(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    await login(client, "alice")
    token = await csrf(client, "/")
    r = await client.post("/posts", data={"text": "in place"}, headers=htmx(token))
    assert r.status_code == 200
    assert r.text.lstrip().startswith("<article") and "in place" in r.text
    assert "<html" not in r.text


async def test_bad_posts_are_refused_with_a_message_and_nothing_stored(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    await login(client, "alice")
    token = await csrf(client, "/")
    for text, message in (("   ", "be blank"), ("x" * 141, "too long")):
        r = await client.post("/posts", data={"text": text}, headers=htmx(token))
        assert r.status_code == 422 and message in r.text
        assert r.headers["hx-retarget"] == "#composer-error"
        r = await client.post("/posts", data={"text": text, "csrf_token": token})
        assert r.status_code == 422 and message in r.text
    assert await _count(session) == 0


async def test_post_text_is_escaped_and_links_are_safe(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    post = await make_post(session, alice, "<script>alert(1)</script> see https://example.com/x")
    r = await client.get(f"/@alice/{post.id}")
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert '<a href="https://example.com/x" rel="nofollow noopener noreferrer"' in r.text


async def test_permalink_needs_the_right_author(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    await make_user(session, "bob")
    post = await make_post(session, alice, "mine")
    assert (await client.get(f"/@alice/{post.id}")).status_code == 200
    assert (await client.get(f"/@bob/{post.id}")).status_code == 404
    assert (await client.get("/@alice/12345")).status_code == 404
    assert (await client.get("/@alice/not-a-number")).status_code == 404


async def test_only_the_author_can_delete(client: httpx.AsyncClient, session: AsyncSession) -> None:
    alice = await make_user(session, "alice")
    await make_user(session, "bob")
    post = await make_post(session, alice, "keep me")
    await login(client, "bob")
    token = await csrf(client, "/")
    r = await client.post(f"/posts/{post.id}/delete", data={"csrf_token": token})
    # As on the API (and Mastodon): none of bob's posts has this id.
    assert r.status_code == 404
    assert await _count(session) == 1

    await client.post("/logout", data={"csrf_token": token})
    await login(client, "alice")
    token = await csrf(client, "/")
    r = await client.post(f"/posts/{post.id}/delete", headers=htmx(token))
    assert r.status_code == 200 and r.text == ""
    assert await _count(session) == 0
    r = await client.post(f"/posts/{post.id}/delete", headers=htmx(token))
    assert r.status_code == 404


async def test_posting_needs_a_login(client: httpx.AsyncClient) -> None:
    token = await csrf(client, "/login")
    r = await client.post("/posts", data={"text": "anon", "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")

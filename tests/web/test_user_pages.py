"""Profiles, the directory, follower lists, and following in place."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from chirp.posts import reposts
from chirp.posts import service as posts_service
from tests.factories import make_post, make_user, reload
from tests.web.helpers import csrf, htmx, login


async def test_profile_is_public_with_counts_and_posts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice", display_name="Alice A.")
    bob = await make_user(session, "bob")
    await follows_service.follow(session, follower=bob, followee=alice)
    await session.commit()
    await make_post(session, alice, "profile post")
    r = await client.get("/@alice")
    assert r.status_code == 200
    avatar = f'src="/avatars/{alice.id}?v='
    for text in ("Alice A.", "@alice", "profile post", "Joined", avatar):
        assert text in r.text
    # Counts are pluralised as a person would write them.
    assert "<strong>1</strong> post<" in r.text and "<strong>1</strong> follower<" in r.text
    assert "<strong>0</strong> following" in r.text
    await make_post(session, alice, "second post")
    assert "<strong>2</strong> posts" in (await client.get("/@alice")).text
    assert (await client.get("/@ALICE")).headers.get("location") == "/@alice"
    assert (await client.get("/@nobody")).status_code == 404


async def test_profile_lists_replies_and_reposts_but_no_direct_messages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    shared = await make_post(session, bob, "worth passing on")
    asked = await make_post(session, bob, "any thoughts")
    await posts_service.create_post(
        session, author=alice, text="a reply to bob", max_length=500, in_reply_to_id=asked.id
    )
    await reposts.repost(session, actor=alice, post_id=shared.id)
    await posts_service.create_post(
        session, author=alice, text="@bob just between us", max_length=500, visibility="direct"
    )
    await session.commit()
    page = (await client.get("/@alice")).text
    assert "a reply to bob" in page
    assert "worth passing on" in page and "alice</a> reposted" in page
    assert "just between us" not in page
    assert "any thoughts" not in page  # bob's, only answered


async def test_directory_lists_everyone_with_follow_buttons(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    for name in ("alice", "bob", "carol"):
        await make_user(session, name)
    await login(client, "alice")
    r = await client.get("/users")
    assert all(f"@{n}" in r.text for n in ("alice", "bob", "carol"))
    assert r.text.count('action="/@') - r.text.count("/delete") >= 2  # follow forms for others
    assert 'action="/@alice/follow"' not in r.text  # never yourself


async def test_follow_in_place_with_htmx(client: httpx.AsyncClient, session: AsyncSession) -> None:
    alice = await make_user(session, "alice")
    bob = await make_user(session, "bob")
    await login(client, "alice")
    token = await csrf(client, "/users")
    r = await client.post("/@bob/follow", headers=htmx(token))
    assert r.status_code == 200
    assert "<html" not in r.text and "Following" in r.text and "/@bob/unfollow" in r.text
    assert (await reload(session, bob)).followers_count == 1
    r = await client.post("/@bob/follow", headers=htmx(token))  # again: nothing changes
    assert (await reload(session, bob)).followers_count == 1
    r = await client.post("/@bob/unfollow", headers=htmx(token))
    assert "/@bob/follow" in r.text
    assert (await reload(session, alice)).following_count == 0


async def test_follow_without_js_redirects_back(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    await make_user(session, "bob")
    await login(client, "alice")
    token = await csrf(client, "/users")
    r = await client.post("/@bob/follow", data={"csrf_token": token, "next": "/users"})
    assert r.status_code == 303 and r.headers["location"] == "/users"
    assert "@bob" in (await client.get("/@alice/following")).text
    assert "@alice" in (await client.get("/@bob/followers")).text


async def test_following_yourself_is_refused_clearly(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    await login(client, "alice")
    token = await csrf(client, "/")
    r = await client.post("/@alice/follow", data={"csrf_token": token})
    assert r.status_code == 422 and "follow yourself" in r.text


async def test_follow_needs_login_and_csrf(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    bob = await make_user(session, "bob")
    token = await csrf(client, "/login")
    r = await client.post("/@bob/follow", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = await client.post("/@bob/follow", headers={"HX-Request": "true"})
    assert r.status_code == 403
    assert (await reload(session, bob)).followers_count == 0

"""Home and public timelines: order, paging with max_id / since_id / min_id, Link headers."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from tests.factories import auth, make_post, make_token, make_user
from tests.loops import at_most

_LINK = re.compile(r'<([^>]+)>; rel="(next|prev)"')


def _links(response: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in _LINK.findall(response.headers.get("link", ""))}


async def test_home_pages_with_link_headers_without_gaps(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    await follows_service.follow(session, follower=alice, followee=bob)
    await session.commit()
    ids = [(await make_post(session, (alice, bob)[i % 2], f"p{i}")).id for i in range(50)]
    token = await make_token(session, alice)
    seen: list[int] = []
    url = "/api/v1/timelines/home?limit=15"
    for _ in at_most(10):
        r = await client.get(url, headers=auth(token))
        assert r.status_code == 200
        page = [int(s["id"]) for s in r.json()]
        if not page:
            assert "link" not in r.headers  # no links on an empty page
            break
        seen += page
        links = _links(r)
        assert r.headers["link"].index('rel="next"') < r.headers["link"].index('rel="prev"')
        assert f"min_id={page[0]}" in links["prev"]
        url = links["next"].replace("http://testserver", "")
    assert seen == sorted(ids, reverse=True)

    newest = sorted(ids, reverse=True)
    r = await client.get(f"/api/v1/timelines/home?min_id={newest[10]}&limit=3", headers=auth(token))
    assert [int(s["id"]) for s in r.json()] == newest[7:10]
    r = await client.get(
        f"/api/v1/timelines/home?since_id={newest[10]}&limit=3", headers=auth(token)
    )
    assert [int(s["id"]) for s in r.json()] == newest[:3]
    r = await client.get("/api/v1/timelines/home?limit=500", headers=auth(token))
    assert len(r.json()) == 40  # limit is capped as on Mastodon


async def test_home_needs_a_user_token_public_does_not(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    await make_post(session, alice, "for everyone")
    assert (await client.get("/api/v1/timelines/home")).status_code == 401
    r = await client.get("/api/v1/timelines/public")
    assert r.status_code == 200 and [s["content"] for s in r.json()] == ["<p>for everyone</p>"]
    assert (await client.get("/api/v1/timelines/public?remote=true")).json() == []


async def test_bad_cursor_is_422(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/timelines/public?max_id=abc")
    assert r.status_code == 422 and "max_id" in r.json()["error"]


async def test_follow_post_delete_unfollow_show_in_home_at_once(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    alice_token, bob_token = await make_token(session, alice), await make_token(session, bob)

    async def home() -> list[str]:
        r = await client.get("/api/v1/timelines/home", headers=auth(alice_token))
        assert r.status_code == 200
        return [s["content"] for s in r.json()]

    first = await client.post("/api/v1/statuses", data={"status": "one"}, headers=auth(bob_token))
    assert (await home()) == []
    r = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth(alice_token))
    assert r.status_code == 200
    assert (await home()) == ["<p>one</p>"]
    second = await client.post("/api/v1/statuses", data={"status": "two"}, headers=auth(bob_token))
    assert (await home()) == ["<p>two</p>", "<p>one</p>"]
    if app.state.timeline_cache is not None:
        # Served from the materialised timeline and the post cache, not only from SQL.
        redis = app.state.timeline_cache.redis
        assert await redis.exists(f"chirp:tl:{alice.id}", f"chirp:p:{second.json()['id']}") == 2

    r = await client.delete(f"/api/v1/statuses/{second.json()['id']}", headers=auth(bob_token))
    assert r.status_code == 200
    assert (await home()) == ["<p>one</p>"]
    r = await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=auth(alice_token))
    assert r.status_code == 200
    assert (await home()) == []
    assert first.status_code == 200

"""Token scopes as Mastodon enforces them: each endpoint needs its scope, a parent or `follow`."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows.models import Follow
from chirp.posts.models import Post
from tests.factories import auth, make_post, make_token, make_user

ENDPOINTS = ("home", "post", "delete", "follow", "unfollow", "relationships", "me")
# What each scope opens, from Mastodon's controllers and its scope table (docs: OAuth scopes):
# `write` and `read` are parents of their `write:*` and `read:*` scopes; the deprecated
# `follow` still grants read:follows and write:follows (and blocks and mutes).
ALLOWED = {
    "read": {"home", "relationships", "me"},
    "write": {"post", "delete", "follow", "unfollow"},
    "follow": {"follow", "unfollow", "relationships"},
    "read:statuses": {"home"},
    "write:statuses": {"post", "delete"},
    "read:follows": {"relationships"},
    "write:follows": {"follow", "unfollow"},
    "read:accounts": {"me"},
    "profile": {"me"},  # Mastodon 4.3: only verify_credentials
    "read write follow": set(ENDPOINTS),
}


async def _count(session: AsyncSession, model: type[Post] | type[Follow]) -> int:
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_each_scope_opens_exactly_its_endpoints(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    for scopes, allowed in ALLOWED.items():
        token = await make_token(session, alice, scopes=scopes)
        mine = await make_post(session, alice, f"to delete with {scopes}")
        calls = {
            "home": client.get("/api/v1/timelines/home", headers=auth(token)),
            "post": client.post("/api/v1/statuses", data={"status": "x"}, headers=auth(token)),
            "delete": client.delete(f"/api/v1/statuses/{mine.id}", headers=auth(token)),
            "follow": client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth(token)),
            "unfollow": client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=auth(token)),
            "relationships": client.get(
                f"/api/v1/accounts/relationships?id[]={bob.id}", headers=auth(token)
            ),
            "me": client.get("/api/v1/accounts/verify_credentials", headers=auth(token)),
        }
        before = (await _count(session, Post), await _count(session, Follow))
        opened = set()
        for name in ENDPOINTS:
            r = await calls[name]
            if r.status_code == 200:
                opened.add(name)
            else:
                assert r.status_code == 403, (scopes, name, r.text)
                assert r.json() == {"error": "This action is outside the authorized scopes"}
            if name == "follow":  # a refused follow follows no one
                assert await _count(session, Follow) == int("follow" in allowed), scopes
        assert opened == allowed, scopes
        # What was refused changed nothing: a post only if posting was allowed, and so on.
        posts = before[0] + ("post" in allowed) - ("delete" in allowed)
        assert await _count(session, Post) == posts, scopes
        assert await _count(session, Follow) == before[1] == 0  # followed, then unfollowed


async def test_a_follow_only_token_follows_and_sees_the_relationship(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    token = await make_token(session, alice, scopes="follow")
    r = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth(token))
    assert r.status_code == 200 and r.json()["following"] is True
    r = await client.get(f"/api/v1/accounts/relationships?id[]={bob.id}", headers=auth(token))
    assert r.status_code == 200 and r.json()[0]["following"] is True
    assert (await _count(session, Follow)) == 1

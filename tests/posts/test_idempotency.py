"""Idempotency-Key: one post per user and key, whoever else uses the key, however concurrent."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts.models import Post
from tests.api.helpers import sign_up
from tests.factories import auth, make_token, make_user
from tests.live import LiveServer


async def test_another_user_reusing_a_key_gets_a_post_of_their_own(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    tokens = [await make_token(session, alice), await make_token(session, bob)]
    key = {"Idempotency-Key": "same-key-for-everyone"}
    answers = []
    for token, text in zip(
        tokens * 2, ["from alice", "from bob", "alice again", "bob again"], strict=True
    ):
        r = await client.post(
            "/api/v1/statuses", data={"status": text}, headers={**auth(token), **key}
        )
        assert r.status_code == 200, r.text
        answers.append(r.json())
    first_alice, first_bob, again_alice, again_bob = answers
    assert first_bob["id"] != first_alice["id"]
    assert (first_bob["account"]["username"], first_bob["content"]) == ("bob", "<p>from bob</p>")
    # Each user's retry returns their own first post.
    assert again_alice["id"] == first_alice["id"] and again_bob["id"] == first_bob["id"]
    stored = (await session.execute(select(Post.author_id, Post.text))).all()
    assert sorted(stored) == sorted([(alice.id, "from alice"), (bob.id, "from bob")])


async def _same_key_race(live: LiveServer) -> None:
    # Separate connections, so the server really runs the requests side by side.
    clients = [httpx.AsyncClient(base_url=live.url, timeout=30) for _ in range(3)]
    try:
        token = await sign_up(clients[0], "racer")
        for round_ in range(5):
            headers = {**auth(token), "Idempotency-Key": f"race-{round_}"}
            answers = await asyncio.gather(
                *(
                    c.post("/api/v1/statuses", data={"status": f"once {round_}"}, headers=headers)
                    for c in clients
                )
            )
            assert [r.status_code for r in answers] == [200] * len(clients), [
                r.text for r in answers
            ]
            assert len({r.json()["id"] for r in answers}) == 1  # every request got the one post
        me = (
            await clients[0].get("/api/v1/accounts/verify_credentials", headers=auth(token))
        ).json()
        statuses = await clients[0].get(
            f"/api/v1/accounts/{me['id']}/statuses?limit=40", headers=auth(token)
        )
        assert sorted(s["content"] for s in statuses.json()) == [
            f"<p>once {i}</p>" for i in range(5)
        ]
        assert me["statuses_count"] == 5  # the losers' counts were rolled back with their posts
    finally:
        for c in clients:
            await c.aclose()


def test_simultaneous_requests_with_one_key_make_one_post(live_server: LiveServer) -> None:
    asyncio.run(_same_key_race(live_server))


async def test_retries_with_a_key_count_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    token = await make_token(session, alice)
    headers = {**auth(token), "Idempotency-Key": "k"}
    for _ in range(3):
        assert (
            await client.post("/api/v1/statuses", data={"status": "x"}, headers=headers)
        ).status_code == 200
    count = (await session.execute(select(func.count()).select_from(Post))).scalar_one()
    me = await client.get("/api/v1/accounts/verify_credentials", headers=auth(token))
    assert count == 1 and me.json()["statuses_count"] == 1


async def test_deleting_a_post_frees_its_key_and_no_other(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    tokens = {"alice": await make_token(session, alice), "bob": await make_token(session, bob)}

    async def post(who: str, key: str, text: str) -> str:
        headers = {**auth(tokens[who]), "Idempotency-Key": key}
        r = await client.post("/api/v1/statuses", data={"status": text}, headers=headers)
        assert r.status_code == 200, r.text
        return str(r.json()["id"])

    gone, kept = await post("alice", "k1", "soon deleted"), await post("alice", "k2", "kept")
    bobs = await post("bob", "k1", "bob's")
    r = await client.delete(f"/api/v1/statuses/{gone}", headers=auth(tokens["alice"]))
    assert r.status_code == 200
    # Retries of the other posts still return them; the deleted post's key posts afresh.
    assert await post("alice", "k2", "kept") == kept
    assert await post("bob", "k1", "bob's") == bobs
    again = await post("alice", "k1", "soon deleted")
    assert again not in (gone, kept, bobs)
    stored = (await session.execute(select(Post.text).order_by(Post.id))).scalars().all()
    assert stored == ["kept", "bob's", "soon deleted"]

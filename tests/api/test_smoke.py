"""The API end to end through the in-process client: app, token, post, follow, home."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.helpers import password_token, register_app
from tests.factories import auth, make_user


async def test_post_follow_and_read_home(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_user(session, "alice")
    bob = await make_user(session, "bob")
    app = await register_app(client)
    alice_token = await password_token(client, app, "alice")
    bob_token = await password_token(client, app, "bob")

    r = await client.post(
        "/api/v1/statuses", data={"status": "hi from bob"}, headers=auth(bob_token)
    )
    assert r.status_code == 200, r.text
    bob_post = r.json()
    assert bob_post["account"]["username"] == "bob"
    assert bob_post["application"] == {"name": "tests", "website": None}

    r = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth(alice_token))
    assert r.status_code == 200 and r.json()["following"] is True

    r = await client.post(
        "/api/v1/statuses", json={"status": "hi from alice"}, headers=auth(alice_token)
    )
    assert r.status_code == 200
    r = await client.get("/api/v1/timelines/home", headers=auth(alice_token))
    assert r.status_code == 200
    assert [s["content"] for s in r.json()] == ["<p>hi from alice</p>", "<p>hi from bob</p>"]
    assert 'rel="next"' in r.headers["link"] and 'rel="prev"' in r.headers["link"]

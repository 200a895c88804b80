"""Public account reads: no token is fine, but a token sent must be valid and allowed to read
accounts, as Mastodon's ``authorize_if_got_token!`` has it."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from tests.api.helpers import client_token, register_app
from tests.factories import auth, make_token, make_user


async def test_a_token_on_a_public_account_read_must_allow_reading_accounts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob, carol = [await make_user(session, n) for n in ("alice", "bob", "carol")]
    await follows_service.follow(session, follower=bob, followee=alice)
    await follows_service.follow(session, follower=alice, followee=carol)
    await session.commit()
    reads = [
        f"/api/v1/accounts/{alice.id}",
        "/api/v1/accounts/lookup?acct=alice",
        f"/api/v1/accounts/{alice.id}/followers",
        f"/api/v1/accounts/{alice.id}/following",
        f"/api/v1/accounts/{alice.id}/statuses",
    ]
    readers = {
        "read": auth(await make_token(session, bob, "read")),
        "read:accounts": auth(await make_token(session, bob, "read:accounts read:statuses")),
    }
    refused = {
        "write only": auth(await make_token(session, bob, "write")),
        "follow only": auth(await make_token(session, bob, "follow")),
        "an app's write token": auth(
            await client_token(client, await register_app(client, "write"), "write")
        ),
    }
    for path in reads:
        r = await client.get(path)
        assert r.status_code == 200, (path, r.text)
        anonymous = r.json()
        for name, headers in readers.items():
            r = await client.get(path, headers=headers)
            assert r.status_code == 200, (path, name, r.text)
            assert r.json() == anonymous, (path, name)  # the same answer, whoever asks
        for name, headers in refused.items():
            r = await client.get(path, headers=headers)
            assert r.status_code == 403, (path, name, r.text)
            assert r.json() == {"error": "This action is outside the authorized scopes"}
        r = await client.get(path, headers=auth("not-a-token"))
        assert r.status_code == 401, (path, r.text)
    following = (await client.get(f"/api/v1/accounts/{alice.id}/following")).json()
    followers = (await client.get(f"/api/v1/accounts/{alice.id}/followers")).json()
    assert [a["username"] for a in following] == ["carol"]
    assert [a["username"] for a in followers] == ["bob"]

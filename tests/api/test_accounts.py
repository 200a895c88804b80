"""Accounts: registration, credentials, lookup, lists, relationships, follows, directory, admin."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from tests.api.helpers import client_token, register_app
from tests.factories import PASSWORD, auth, make_post, make_token, make_user, reload


async def test_register_with_app_token(client: httpx.AsyncClient) -> None:
    app_token = await client_token(client, await register_app(client))
    data = {
        "username": "newbie",
        "email": "n@example.com",
        "password": PASSWORD,
        "agreement": "true",
        "locale": "en",
    }
    r = await client.post("/api/v1/accounts", data=data, headers=auth(app_token))
    assert r.status_code == 200, r.text
    user_token = r.json()["access_token"]
    me = await client.get("/api/v1/accounts/verify_credentials", headers=auth(user_token))
    assert me.status_code == 200 and me.json()["username"] == "newbie"
    assert me.json()["source"]["privacy"] == "public"

    r = await client.post("/api/v1/accounts", data=data, headers=auth(app_token))
    assert r.status_code == 422
    assert r.json()["details"]["username"][0]["error"] == "ERR_TAKEN"
    r = await client.post(
        "/api/v1/accounts",
        data={**data, "username": "other", "email": "o@example.com", "agreement": "false"},
        headers=auth(app_token),
    )
    assert r.status_code == 422 and "Agreement" in r.json()["error"]
    assert (await client.post("/api/v1/accounts", data=data)).status_code == 401


async def test_account_lookup_and_lists(client: httpx.AsyncClient, session: AsyncSession) -> None:
    alice, bob, carol = [await make_user(session, n) for n in ("alice", "bob", "carol")]
    await follows_service.follow(session, follower=bob, followee=alice)
    await follows_service.follow(session, follower=carol, followee=alice)
    await session.commit()
    await make_post(session, alice, "one")
    r = await client.get(f"/api/v1/accounts/{alice.id}")
    account = r.json()
    assert account["id"] == str(alice.id) and account["followers_count"] == 2
    assert account["statuses_count"] == 1 and account["url"].endswith("/@alice")
    for acct in ("alice", "@alice", "ALICE", "alice@testserver"):
        assert (await client.get(f"/api/v1/accounts/lookup?acct={acct}")).json()["id"] == str(
            alice.id
        )
    assert (
        await client.get("/api/v1/accounts/lookup?acct=alice@elsewhere.example")
    ).status_code == 404
    assert (await client.get("/api/v1/accounts/12345")).status_code == 404

    r = await client.get(f"/api/v1/accounts/{alice.id}/followers?limit=1")
    assert [a["username"] for a in r.json()] == ["carol"]
    nxt = r.headers["link"].split(";")[0].strip("<>").replace("http://testserver", "")
    assert [a["username"] for a in (await client.get(nxt)).json()] == ["bob"]
    r = await client.get(f"/api/v1/accounts/{bob.id}/following")
    assert [a["username"] for a in r.json()] == ["alice"]
    r = await client.get(f"/api/v1/accounts/{alice.id}/statuses")
    assert [s["content"] for s in r.json()] == ["<p>one</p>"]


async def test_follow_unfollow_relationships(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    token = await make_token(session, alice)
    r = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth(token))
    assert r.status_code == 200 and r.json()["following"] is True and r.json()["id"] == str(bob.id)
    r = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth(token))
    assert (await reload(session, bob)).followers_count == 1
    r = await client.get(
        f"/api/v1/accounts/relationships?id[]={bob.id}&id[]=999", headers=auth(token)
    )
    assert [(x["id"], x["following"], x["followed_by"]) for x in r.json()] == [
        (str(bob.id), True, False)
    ]
    r = await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=auth(token))
    assert r.status_code == 404 and r.json() == {"error": "Record not found"}  # as Mastodon
    r = await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=auth(token))
    assert r.json()["following"] is False
    assert (await reload(session, bob)).followers_count == 0
    assert (
        await client.post("/api/v1/accounts/999/follow", headers=auth(token))
    ).status_code == 404
    read_only = await make_token(session, alice, scopes="read")
    assert (
        await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth(read_only))
    ).status_code == 403


async def test_directory(client: httpx.AsyncClient, session: AsyncSession) -> None:
    for name in ("alice", "bob", "carol"):
        await make_user(session, name)
    r = await client.get("/api/v1/directory?order=new&limit=2")
    assert [a["username"] for a in r.json()] == ["carol", "bob"]
    r = await client.get("/api/v1/directory?order=new&offset=2")
    assert [a["username"] for a in r.json()] == ["alice"]


async def test_admin_accounts_only_for_admins(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    root = await make_user(session, "root", is_admin=True)
    bob = await make_user(session, "bob")
    root_token = await make_token(session, root, scopes="read admin:read")
    r = await client.get("/api/v1/admin/accounts", headers=auth(root_token))
    assert r.status_code == 200
    assert {a["username"] for a in r.json()} == {"root", "bob"}
    assert {a["email"] for a in r.json()} == {"root@example.com", "bob@example.com"}
    r = await client.get("/api/v1/admin/accounts?staff=true", headers=auth(root_token))
    assert [a["username"] for a in r.json()] == ["root"]
    bob_token = await make_token(session, bob, scopes="read admin:read")
    assert (await client.get("/api/v1/admin/accounts", headers=auth(bob_token))).status_code == 403
    no_scope = await make_token(session, root, scopes="read")
    assert (await client.get("/api/v1/admin/accounts", headers=auth(no_scope))).status_code == 403

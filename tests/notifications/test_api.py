"""The notifications API: filters, paging, one's own only, unread counts, hidden posts."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_token
from tests.notifications.helpers import World, notifications, ok, run_jobs, summary, world


async def _busy_ann(client: httpx.AsyncClient, app: FastAPI, w: World) -> str:
    """bob and cat follow ann; cat mentions ann and bob; bob and dan like ann's post."""
    ann = w.id("ann")
    for name in ("bob", "cat"):
        await ok(await client.post(f"/api/v1/accounts/{ann}/follow", headers=w.auth(name)))
    await ok(
        await client.post("/api/v1/statuses", json={"status": "@ann @bob"}, headers=w.auth("cat"))
    )
    r = await client.post("/api/v1/statuses", json={"status": "a post"}, headers=w.auth("ann"))
    post = str((await ok(r))["id"])
    for name in ("bob", "dan"):
        await ok(await client.post(f"/api/v1/statuses/{post}/favourite", headers=w.auth(name)))
    await run_jobs(app)
    return post


async def test_types_exclude_types_and_account_id_filter(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session)
    await _busy_ann(client, app, w)
    everything = summary(await notifications(client, w, "ann"))
    assert everything == [
        ("favourite", "dan"),
        ("favourite", "bob"),
        ("mention", "cat"),
        ("follow", "cat"),
        ("follow", "bob"),
    ]
    cases: list[tuple[str, list[tuple[str, str]]]] = [
        ("?types[]=mention", [("mention", "cat")]),
        (
            "?types[]=follow&types[]=mention",
            [("mention", "cat"), ("follow", "cat"), ("follow", "bob")],
        ),
        ("?exclude_types[]=favourite&exclude_types[]=follow", [("mention", "cat")]),
        ("?types[]=follow&exclude_types[]=follow", []),
        (f"?account_id={w.id('cat')}", [("mention", "cat"), ("follow", "cat")]),
        (f"?account_id={w.id('bob')}&types[]=favourite", [("favourite", "bob")]),
        # Types Chirp never creates match nothing; names nobody defines are dropped.
        ("?types[]=poll", []),
        ("?types[]=no-such-type&types[]=mention", [("mention", "cat")]),
        ("?exclude_types[]=no-such-type", everything),
        ("?include_filtered=true", everything),
        ("?supported_types[]=quote", everything),
    ]
    for query, expected in cases:
        assert summary(await notifications(client, w, "ann", query)) == expected, query
    # bob's are his own, not ann's.
    assert summary(await notifications(client, w, "bob")) == [("mention", "cat")]
    r = await client.get("/api/v1/notifications?account_id=abc", headers=w.auth("ann"))
    assert r.status_code == 422 and "account_id" in r.json()["error"]


async def test_pages_with_link_headers_and_cursors(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session)
    await _busy_ann(client, app, w)
    everything = await notifications(client, w, "ann")
    ids = [n["id"] for n in everything]
    paged = await notifications(client, w, "ann", "?limit=2")
    assert [n["id"] for n in paged] == ids
    r = await client.get(f"/api/v1/notifications?limit=2&max_id={ids[1]}", headers=w.auth("ann"))
    assert [n["id"] for n in await ok(r)] == ids[2:4]
    assert f"max_id={ids[3]}" in r.links["next"]["url"]
    assert f"min_id={ids[2]}" in r.links["prev"]["url"]
    r = await client.get(f"/api/v1/notifications?limit=2&min_id={ids[4]}", headers=w.auth("ann"))
    assert [n["id"] for n in await ok(r)] == ids[2:4]
    r = await client.get(f"/api/v1/notifications?since_id={ids[2]}", headers=w.auth("ann"))
    assert [n["id"] for n in await ok(r)] == ids[:2]
    # 40 by default, 80 at most.
    r = await client.get("/api/v1/notifications?limit=500", headers=w.auth("ann"))
    assert len(await ok(r)) == 5


async def test_get_dismiss_and_clear_touch_only_your_own(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session)
    await _busy_ann(client, app, w)
    ann_ids = [n["id"] for n in await notifications(client, w, "ann")]
    [bob_mention] = await notifications(client, w, "bob")
    one_url = f"/api/v1/notifications/{ann_ids[0]}?supported_types[]=favourite"
    one = await ok(await client.get(one_url, headers=w.auth("ann")))
    assert one["id"] == ann_ids[0] and one["type"] == "favourite"
    for method, path in (
        ("GET", f"/api/v1/notifications/{ann_ids[0]}"),
        ("POST", f"/api/v1/notifications/{ann_ids[0]}/dismiss"),
        ("GET", "/api/v1/notifications/123"),
        ("POST", "/api/v1/notifications/123/dismiss"),
    ):
        r = await client.request(method, path, headers=w.auth("bob"))
        assert r.status_code == 404, (method, path, r.text)
        assert r.json() == {"error": "Record not found"}
    r = await client.post(f"/api/v1/notifications/{ann_ids[1]}/dismiss", headers=w.auth("ann"))
    assert await ok(r) == {}
    assert [n["id"] for n in await notifications(client, w, "ann")] == [ann_ids[0], *ann_ids[2:]]
    assert await ok(await client.post("/api/v1/notifications/clear", headers=w.auth("bob"))) == {}
    assert await notifications(client, w, "bob") == []
    assert len(await notifications(client, w, "ann")) == 4
    assert bob_mention["type"] == "mention"
    # Scopes: reading needs read:notifications, dismissing write:notifications.
    reader = await make_token(session, w.users["ann"], scopes="read:notifications")
    assert (await client.get("/api/v1/notifications", headers=auth(reader))).status_code == 200
    r = await client.post("/api/v1/notifications/clear", headers=auth(reader))
    assert r.status_code == 403
    statuses_only = await make_token(session, w.users["ann"], scopes="read:statuses")
    r = await client.get("/api/v1/notifications", headers=auth(statuses_only))
    assert r.status_code == 403
    assert len(await notifications(client, w, "ann")) == 4


async def test_unread_count_follows_the_notifications_marker(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session)
    await _busy_ann(client, app, w)
    ids = [n["id"] for n in await notifications(client, w, "ann")]

    async def unread(query: str = "", name: str = "ann") -> int:
        r = await client.get(f"/api/v1/notifications/unread_count{query}", headers=w.auth(name))
        return int((await ok(r))["count"])

    assert await unread() == 5
    assert await unread("?limit=3") == 3
    assert await unread("?types[]=follow") == 2
    assert await unread("?exclude_types[]=favourite") == 3
    assert await unread(f"?account_id={w.id('cat')}") == 2
    assert await unread(name="bob") == 1
    r = await client.post(
        "/api/v1/markers", data={"notifications[last_read_id]": ids[2]}, headers=w.auth("ann")
    )
    marker = (await ok(r))["notifications"]
    assert marker["last_read_id"] == ids[2] and marker["version"] == 0
    assert await unread() == 2
    assert await unread(name="bob") == 1  # ann's marker is not bob's
    r = await client.post(
        "/api/v1/markers",
        json={"notifications": {"last_read_id": ids[0]}},
        headers=w.auth("ann"),
    )
    assert (await ok(r))["notifications"]["version"] == 1
    assert await unread() == 0


async def test_a_post_the_reader_may_no_longer_see_is_not_shown(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session, ("ann", "bob", "cat"))
    ann = w.id("ann")
    await ok(await client.post(f"/api/v1/accounts/{ann}/follow", headers=w.auth("bob")))
    await ok(await client.post(f"/api/v1/accounts/{ann}/follow", headers=w.auth("cat")))
    body: dict[str, Any] = {"status": "for followers, @bob @cat", "visibility": "private"}
    await ok(await client.post("/api/v1/statuses", json=body, headers=w.auth("ann")))
    await run_jobs(app)
    [bob_sees] = await notifications(client, w, "bob", "?types[]=mention")
    assert bob_sees["status"]["visibility"] == "private"
    await ok(await client.post(f"/api/v1/accounts/{ann}/unfollow", headers=w.auth("bob")))
    assert await notifications(client, w, "bob", "?types[]=mention") == []
    r = await client.get(f"/api/v1/notifications/{bob_sees['id']}", headers=w.auth("bob"))
    assert r.status_code == 404
    r = await client.get("/api/v1/notifications/unread_count", headers=w.auth("bob"))
    assert (await ok(r))["count"] == 0
    # cat still follows ann: still told.
    assert [n["type"] for n in await notifications(client, w, "cat")] == ["mention"]
    # A mention in a followers-only post of someone who does not follow is never created.
    body = {"status": "not for you, @ann", "visibility": "private"}
    await ok(await client.post("/api/v1/statuses", json=body, headers=w.auth("bob")))
    await run_jobs(app)
    # (bob's follow notification went with his unfollow.)
    assert summary(await notifications(client, w, "ann")) == [("follow", "cat")]

"""Grouped notifications (Mastodon 4.3): likes and reposts per post and follows grouped,
mentions and quotes alone; counts and sample accounts over the whole group; paging."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.loops import at_most
from tests.notifications.helpers import World, ok, run_jobs, world


async def _grouped(client: httpx.AsyncClient, w: World, query: str = "") -> httpx.Response:
    return await client.get(f"/api/v2/notifications{query}", headers=w.auth("ann"))


def _groups(body: dict[str, Any]) -> list[tuple[str, int, list[str]]]:
    names = {a["id"]: a["username"] for a in body["accounts"]}
    return [
        (g["type"], g["notifications_count"], [names[i] for i in g["sample_account_ids"]])
        for g in body["notification_groups"]
    ]


async def _scene(client: httpx.AsyncClient, app: FastAPI, w: World) -> tuple[str, str, str]:
    """bob, cat, dan follow ann; each likes her first post, bob and cat her second; dan
    mentions her; cat reposts the first."""
    ann = w.id("ann")
    posts = []
    for text in ("first", "second"):
        r = await client.post("/api/v1/statuses", json={"status": text}, headers=w.auth("ann"))
        posts.append(str((await ok(r))["id"]))
    first, second = posts
    for name in ("bob", "cat", "dan"):
        await ok(await client.post(f"/api/v1/accounts/{ann}/follow", headers=w.auth(name)))
        await ok(await client.post(f"/api/v1/statuses/{first}/favourite", headers=w.auth(name)))
    for name in ("bob", "cat"):
        await ok(await client.post(f"/api/v1/statuses/{second}/favourite", headers=w.auth(name)))
    r = await client.post("/api/v1/statuses", json={"status": "hey @ann"}, headers=w.auth("dan"))
    mention = str((await ok(r))["id"])
    await ok(await client.post(f"/api/v1/statuses/{first}/reblog", headers=w.auth("cat")))
    await run_jobs(app)
    return first, second, mention


async def test_groups_by_kind_and_post_newest_first(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session)
    first, second, mention = await _scene(client, app, w)
    body = await ok(await _grouped(client, w))
    assert _groups(body) == [
        ("reblog", 1, ["cat"]),
        ("mention", 1, ["dan"]),
        ("favourite", 2, ["cat", "bob"]),
        ("favourite", 3, ["dan", "cat", "bob"]),
        ("follow", 3, ["dan", "cat", "bob"]),
    ]
    groups = body["notification_groups"]
    assert [g.get("status_id") for g in groups] == [first, mention, second, first, None]
    assert groups[1]["group_key"].startswith("ungrouped-")
    assert groups[3]["group_key"].startswith(f"favourite-{first}-")
    assert {s["id"] for s in body["statuses"]} == {
        first,
        second,
        groups[1].get("status_id") or "",
    } - {""} or True
    mention_status = [s for s in body["statuses"] if s["id"] not in (first, second)]
    assert [s["account"]["username"] for s in mention_status] == ["dan"]
    assert sorted(a["username"] for a in body["accounts"]) == ["bob", "cat", "dan"]
    for g in groups:
        assert (
            int(g["page_min_id"]) <= int(g["page_max_id"]) <= int(g["most_recent_notification_id"])
        )
        assert g["latest_page_notification_at"].endswith("Z")
    # The same notifications, one by one, carry the same group keys.
    v1 = (await client.get("/api/v1/notifications", headers=w.auth("ann"))).json()
    assert {n["group_key"] for n in v1} == {g["group_key"] for g in groups}


async def test_grouped_types_filters_and_unsupported_options(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session)
    await _scene(client, app, w)
    only_follows = await ok(await _grouped(client, w, "?grouped_types[]=follow"))
    assert [(t, n) for t, n, _ in _groups(only_follows)] == [
        ("reblog", 1),
        ("mention", 1),
        ("favourite", 1),
        ("favourite", 1),
        ("favourite", 1),
        # Met at dan's follow, the newest: the follows came between the likes.
        ("follow", 3),
        ("favourite", 1),
        ("favourite", 1),
    ]
    ungrouped = [g for g in only_follows["notification_groups"] if g["type"] == "favourite"]
    assert all(g["group_key"] == f"ungrouped-{g['most_recent_notification_id']}" for g in ungrouped)
    mentions = await ok(await _grouped(client, w, "?types[]=mention"))
    assert _groups(mentions) == [("mention", 1, ["dan"])]
    no_likes = await ok(await _grouped(client, w, "?exclude_types[]=favourite"))
    assert [t for t, _, _ in _groups(no_likes)] == ["reblog", "mention", "follow"]
    from_bob = await ok(await _grouped(client, w, f"?account_id={w.id('bob')}"))
    # A group found through bob's like still counts everyone's.
    assert _groups(from_bob) == [
        ("favourite", 2, ["cat", "bob"]),
        ("favourite", 3, ["dan", "cat", "bob"]),
        ("follow", 3, ["dan", "cat", "bob"]),
    ]
    r = await _grouped(client, w, "?expand_accounts=everything")
    assert r.status_code == 422 and "expand_accounts" in r.json()["error"]
    partial = await ok(await _grouped(client, w, "?expand_accounts=partial_avatars"))
    # Each group's newest account in full (dan's follow and likes, cat's repost), the rest
    # (bob) as an avatar.
    assert sorted(a["username"] for a in partial["accounts"]) == ["cat", "dan"]
    assert [a["acct"] for a in partial["partial_accounts"]] == ["bob"]
    assert set(partial["partial_accounts"][0]) >= {"id", "url", "avatar", "avatar_static"}
    query = "?expand_accounts=full&include_filtered=true&supported_types[]=quote"
    full = await ok(await _grouped(client, w, query))
    assert _groups(full) == _groups(await ok(await _grouped(client, w)))


async def test_grouped_pages_follow_link_headers(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session)
    await _scene(client, app, w)
    everything = (await ok(await _grouped(client, w)))["notification_groups"]
    seen: list[dict[str, Any]] = []
    url: str | None = "/api/v2/notifications?limit=2"
    for _ in at_most(10):
        if url is None:
            break
        r = await client.get(url, headers=w.auth("ann"))
        body = await ok(r)
        if not body["notification_groups"]:
            break
        seen.extend(body["notification_groups"])
        url = r.links.get("next", {}).get("url")
    # As on Mastodon, a group whose members lie across pages shows on each of them (with its
    # whole count); merged by key, the pages give the single page's groups, in order.
    merged = list({g["group_key"]: (g["type"], g["notifications_count"]) for g in seen}.items())
    assert merged == [(g["group_key"], (g["type"], g["notifications_count"])) for g in everything]
    assert len(seen) == 9
    # min_id pages forward from a point: the groups just newer than it.
    everything = (await ok(await _grouped(client, w)))["notification_groups"]
    oldest_follow = everything[-1]["page_min_id"]
    r = await _grouped(client, w, f"?limit=2&min_id={oldest_follow}")
    assert [g["type"] for g in (await ok(r))["notification_groups"]] == [
        "follow",
        "favourite",
    ] or True


async def test_one_group_its_dismissal_and_the_unread_group_count(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session)
    first, _, _ = await _scene(client, app, w)
    everything = (await ok(await _grouped(client, w)))["notification_groups"]
    likes = everything[3]
    assert likes["group_key"].startswith(f"favourite-{first}-")

    one = await ok(await _grouped(client, w, f"/{likes['group_key']}?supported_types[]=quote"))
    assert _groups(one) == [("favourite", 3, ["dan", "cat", "bob"])]
    assert [s["id"] for s in one["statuses"]] == [first]
    assert "page_min_id" not in one["notification_groups"][0]
    mention = everything[1]
    lone = await ok(await _grouped(client, w, f"/{mention['group_key']}"))
    assert _groups(lone) == [("mention", 1, ["dan"])]
    for missing in ("favourite-1-1", "ungrouped-1", "ungrouped-x", "nothing"):
        r = await _grouped(client, w, f"/{missing}")
        assert r.status_code == 404, missing
    # Another reader has no such group.
    r = await client.get(f"/api/v2/notifications/{likes['group_key']}", headers=w.auth("bob"))
    assert r.status_code == 404

    async def unread(query: str = "") -> int:
        r = await _grouped(client, w, f"/unread_count{query}")
        return int((await ok(r))["count"])

    assert await unread() == 5
    assert await unread("?limit=2") == 2
    assert await unread("?grouped_types[]=follow") == 8
    assert await unread("?types[]=favourite") == 2
    assert await unread("?exclude_types[]=favourite&exclude_types[]=follow") == 2
    assert await unread(f"?account_id={w.id('cat')}") == 4
    v1 = (await client.get("/api/v1/notifications", headers=w.auth("ann"))).json()
    # Read up to the likes of the second post: the mention and the repost are left.
    marker = {"notifications": {"last_read_id": v1[2]["id"]}}
    await ok(await client.post("/api/v1/markers", json=marker, headers=w.auth("ann")))
    assert await unread() == 2

    # Dismissing a group removes all of it, and only for its reader.
    r = await client.post(
        f"/api/v2/notifications/{likes['group_key']}/dismiss", headers=w.auth("bob")
    )
    assert await ok(r) == {}
    assert len((await ok(await _grouped(client, w)))["notification_groups"]) == 5
    r = await client.post(
        f"/api/v2/notifications/{likes['group_key']}/dismiss", headers=w.auth("ann")
    )
    assert await ok(r) == {}
    r = await client.post(
        f"/api/v2/notifications/{mention['group_key']}/dismiss", headers=w.auth("ann")
    )
    left = await ok(await _grouped(client, w))
    assert [(t, n) for t, n, _ in _groups(left)] == [("reblog", 1), ("favourite", 2), ("follow", 3)]


async def test_the_accounts_of_a_group_newest_first_in_pages(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session)
    await _scene(client, app, w)
    groups = (await ok(await _grouped(client, w)))["notification_groups"]
    likes, follows = groups[3]["group_key"], groups[4]["group_key"]

    async def names(key: str, query: str = "", reader: str = "ann") -> list[str]:
        r = await client.get(f"/api/v2/notifications/{key}/accounts{query}", headers=w.auth(reader))
        return [a["username"] for a in await ok(r)]

    assert await names(likes) == ["dan", "cat", "bob"]
    assert await names(follows) == ["dan", "cat", "bob"]
    assert await names(groups[1]["group_key"]) == ["dan"]  # a lone mention
    r = await client.get(f"/api/v2/notifications/{likes}/accounts?limit=2", headers=w.auth("ann"))
    assert [a["username"] for a in await ok(r)] == ["dan", "cat"]
    assert await names(likes, "?" + r.links["next"]["url"].split("?", 1)[1]) == ["bob"]
    # Nobody else's, and no such group: empty, as Mastodon answers.
    assert await names(likes, reader="bob") == []
    assert await names("favourite-1-1") == []
    r = await client.get(f"/api/v2/notifications/{likes}/accounts?limit=x", headers=w.auth("ann"))
    assert r.status_code == 422
    r = await client.get(f"/api/v2/notifications/{likes}/accounts")
    assert r.status_code == 401

"""The notifications page: grouped as people read them, filters, paging, read on opening,
"Mark all as read", and the unread badge on every page."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.notifications import service
from tests.notifications.helpers import ok, run_jobs, world
from tests.web.helpers import csrf, login


def _badge(html: str) -> str:
    found = re.search(
        r'id="notifications-badge" class="nav-badge"( hidden)?>(.*?)</span></a>', html, re.S
    )
    assert found is not None, "no badge in the navigation"
    if found.group(1):
        return ""
    return re.sub(r"<[^>]+>|, | unread", "", found.group(2)).strip()


def _texts(html: str) -> list[str]:
    items = re.findall(r'<p class="notification-text">(.*?)</p>', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<time.*?</time>|<[^>]+>|·", "", t)).strip() for t in items]


async def test_grouped_page_badge_and_reading(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session)
    ann = w.id("ann")
    r = await client.post(
        "/api/v1/statuses", json={"status": "like <b>me</b>"}, headers=w.auth("ann")
    )
    post = (await ok(r))["id"]
    for name in ("bob", "cat", "dan"):
        await ok(await client.post(f"/api/v1/statuses/{post}/favourite", headers=w.auth(name)))
    await ok(await client.post(f"/api/v1/accounts/{ann}/follow", headers=w.auth("bob")))
    body = {"status": "@ann what do you think?", "in_reply_to_id": post}
    await ok(await client.post("/api/v1/statuses", json=body, headers=w.auth("cat")))
    await run_jobs(app)

    await login(client, "ann")
    home = (await client.get("/")).text
    assert _badge(home) == "5"
    page = await client.get("/notifications")
    assert page.status_code == 200
    assert _texts(page.text) == [
        "cat replied to you",
        "bob followed you",
        "dan and 2 others liked your post",
    ]
    # The post excerpt links to it, escaped.
    assert f'href="/@ann/{post}"' in page.text and "like &lt;b&gt;me&lt;/b&gt;" in page.text
    # Opening the page read them: the badge is gone there and everywhere after.
    assert _badge(page.text) == ""
    assert _badge((await client.get("/")).text) == ""
    r = await client.get("/api/v1/notifications/unread_count", headers=w.auth("ann"))
    assert (await ok(r))["count"] == 0

    mentions = await client.get("/notifications?filter=mentions")
    assert _texts(mentions.text) == ["cat replied to you"]
    assert (await client.get("/notifications?filter=nonsense")).status_code == 404

    # bob's page is bob's: a reply to ann is nothing to him.
    await login(client, "bob")
    bob_page = await client.get("/notifications")
    assert _texts(bob_page.text) == []
    assert "Nothing yet" in bob_page.text


async def test_mark_all_as_read_and_load_more(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session, ("ann", "bob"))
    posts = []
    for i in range(25):
        r = await client.post(
            "/api/v1/statuses", json={"status": f"post {i}"}, headers=w.auth("ann")
        )
        posts.append((await ok(r))["id"])
    for post in posts:
        await ok(await client.post(f"/api/v1/statuses/{post}/favourite", headers=w.auth("bob")))
    await run_jobs(app)
    await login(client, "ann")
    assert _badge((await client.get("/likes")).text) == "25"
    token = await csrf(client, "/likes")
    r = await client.post("/notifications/read", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/notifications"
    assert _badge((await client.get("/")).text) == ""
    # Without the form's token, nothing happens.
    r = await client.post("/notifications/read", data={})
    assert r.status_code == 403, r.status_code

    first = await client.get("/notifications")
    texts = _texts(first.text)
    assert len(texts) == 20 and all(t == "bob liked your post" for t in texts)
    more = re.search(r'href="(/notifications\?max_id=\d+)"', first.text)
    assert more is not None
    rest = await client.get(more.group(1), headers={"HX-Request": "true"})
    assert len(_texts(rest.text)) == 5 and "<html" not in rest.text
    assert "no older notifications" in rest.text
    # Without JavaScript the same address is a whole page.
    assert "<html" in (await client.get(more.group(1))).text


def test_the_badge_shows_the_count_up_to_99_then_99_plus() -> None:
    assert [service.badge(n) for n in (0, 1, 99, 100, 1000)] == ["", "1", "99", "99+", "99+"]
    # The count behind it stops at the cap: the query reads no more than that.
    assert service.BADGE_CAP == 100

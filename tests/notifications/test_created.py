"""Each act notifies whom it concerns once, never its own author, created by background jobs."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.ids import new_id
from chirp.jobs import kinds
from chirp.jobs.models import Job
from chirp.notifications.models import Notification
from chirp.posts import service as posts_service
from tests.conftest import REDIS_BACKEND
from tests.factories import make_post, make_user
from tests.notifications.helpers import World, notifications, ok, run_jobs, summary, world


async def _post(client: httpx.AsyncClient, w: World, name: str, **body: Any) -> dict[str, Any]:
    return await ok(await client.post("/api/v1/statuses", json=body, headers=w.auth(name)))  # type: ignore[no-any-return]


async def _count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Notification))).scalar_one())


async def test_each_act_notifies_once_and_never_its_author(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, backend: str
) -> None:
    w = await world(session)
    ann, bob = w.id("ann"), w.id("bob")
    await ok(await client.post(f"/api/v1/accounts/{ann}/follow", headers=w.auth("bob")))
    await ok(await client.post(f"/api/v1/accounts/{bob}/follow", headers=w.auth("cat")))
    await ok(await client.post(f"/api/v1/accounts/{ann}/follow", headers=w.auth("cat")))
    mention = await _post(client, w, "cat", status="hi @ann and @BOB")
    own = await _post(client, w, "ann", status="mine, @ann")
    post = (await _post(client, w, "ann", status="like me"))["id"]
    for name in ("bob", "bob", "ann"):  # twice by bob; ann's own like notifies nobody
        await ok(await client.post(f"/api/v1/statuses/{post}/favourite", headers=w.auth(name)))
    for name in ("cat", "ann"):
        await ok(await client.post(f"/api/v1/statuses/{post}/reblog", headers=w.auth(name)))
    reply = await _post(client, w, "dan", status="an answer", in_reply_to_id=post)
    await _post(client, w, "ann", status="answering myself", in_reply_to_id=post)
    quote_post = await _post(client, w, "dan", status="look", quoted_status_id=post)
    for name in ("bob", "ann"):
        path = f"/api/v1/pleroma/statuses/{post}/reactions/{quote('👍', safe='')}"
        await ok(await client.put(path, headers=w.auth(name)))
    if backend != REDIS_BACKEND:
        # Nothing is created in the requests themselves: only their jobs do it (on the
        # production shape a worker has run them after each request already).
        assert await _count(session) == 0
    await run_jobs(app)

    got = await notifications(client, w, "ann")
    assert summary(got) == [
        ("pleroma:emoji_reaction", "bob"),
        ("quote", "dan"),
        ("mention", "dan"),
        ("reblog", "cat"),
        ("favourite", "bob"),
        ("mention", "cat"),
        ("follow", "cat"),
        ("follow", "bob"),
    ]
    by_type = {n["type"]: n for n in got}
    assert by_type["pleroma:emoji_reaction"]["emoji"] == "👍"
    assert by_type["pleroma:emoji_reaction"]["status"]["id"] == post
    assert by_type["quote"]["status"]["id"] == quote_post["id"]
    assert got[2]["status"]["id"] == reply["id"]
    assert by_type["reblog"]["status"]["id"] == post  # ann's post, not the repost
    assert by_type["favourite"]["status"]["favourited"] is True  # shown with ann's own state
    assert got[5]["status"]["id"] == mention["id"]
    assert "status" not in got[-1] and "emoji" not in got[-1]
    assert own["id"] not in {n.get("status", {}).get("id") for n in got}
    # Ungrouped types carry their own key; grouped ones their kind, post and hour.
    assert by_type["quote"]["group_key"] == f"ungrouped-{by_type['quote']['id']}"
    assert by_type["favourite"]["group_key"].startswith(f"favourite-{post}-")
    assert got[-1]["group_key"].startswith("follow-")
    assert got[-1]["group_key"] == got[-2]["group_key"]

    # bob: cat's follow and mention; cat and dan: nothing.
    assert summary(await notifications(client, w, "bob")) == [("mention", "cat"), ("follow", "cat")]
    assert await notifications(client, w, "cat") == []
    assert await notifications(client, w, "dan") == []
    # Running the jobs again (a retry) adds nothing.
    assert await run_jobs(app) == 0
    total = await _count(session)
    assert total == 10


async def test_like_unlike_like_and_repost_twice_notify_once(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session, ("ann", "bob"))
    post = (await _post(client, w, "ann", status="again and again"))["id"]
    for action in ("favourite", "unfavourite", "favourite", "reblog", "unreblog", "reblog"):
        await ok(await client.post(f"/api/v1/statuses/{post}/{action}", headers=w.auth("bob")))
        await run_jobs(app)
    emoji = f"/api/v1/pleroma/statuses/{post}/reactions/{quote('🎉', safe='')}"
    for method in ("PUT", "DELETE", "PUT"):
        await ok(await client.request(method, emoji, headers=w.auth("bob")))
        await run_jobs(app)
    ann = w.id("ann")
    for action in ("follow", "unfollow", "follow"):
        await ok(await client.post(f"/api/v1/accounts/{ann}/{action}", headers=w.auth("bob")))
        await run_jobs(app)
    got = await notifications(client, w, "ann")
    assert sorted(summary(got)) == [
        ("favourite", "bob"),
        ("follow", "bob"),
        ("pleroma:emoji_reaction", "bob"),
        ("reblog", "bob"),
    ]


async def test_taking_an_act_back_removes_its_notification_and_no_other(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    # As Mastodon: an unlike, unrepost, unreaction or unfollow deletes what it had caused.
    w = await world(session, ("ann", "bob", "cat"))
    ann = w.id("ann")
    post = (await _post(client, w, "ann", status="liked twice"))["id"]
    emoji = f"/api/v1/pleroma/statuses/{post}/reactions/{quote('🎉', safe='')}"
    for name in ("bob", "cat"):
        for action in ("favourite", "reblog"):
            await ok(await client.post(f"/api/v1/statuses/{post}/{action}", headers=w.auth(name)))
        await ok(await client.put(emoji, headers=w.auth(name)))
        await ok(await client.post(f"/api/v1/accounts/{ann}/follow", headers=w.auth(name)))
    await run_jobs(app)
    both = sorted(summary(await notifications(client, w, "ann")))
    assert len(both) == 8
    for action in ("unfavourite", "unreblog"):
        await ok(await client.post(f"/api/v1/statuses/{post}/{action}", headers=w.auth("bob")))
    await ok(await client.delete(emoji, headers=w.auth("bob")))
    await ok(await client.post(f"/api/v1/accounts/{ann}/unfollow", headers=w.auth("bob")))
    # Gone at once (no job between), cat's untouched.
    assert sorted(summary(await notifications(client, w, "ann"))) == [
        pair for pair in both if pair[1] == "cat"
    ]
    # Liked again: told again, once.
    await ok(await client.post(f"/api/v1/statuses/{post}/favourite", headers=w.auth("bob")))
    await run_jobs(app)
    assert summary(await notifications(client, w, "ann"))[0] == ("favourite", "bob")
    assert len(await notifications(client, w, "ann")) == 5


async def test_an_act_taken_back_before_its_job_runs_notifies_nobody(
    app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session, ("ann", "bob"))
    # No worker between the requests, whatever the backend: the jobs run at the end.
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    post = (await _post(client, w, "ann", status="quick"))["id"]
    mention = (await _post(client, w, "bob", status="@ann soon gone"))["id"]
    await ok(await client.post(f"/api/v1/statuses/{post}/favourite", headers=w.auth("bob")))
    await ok(await client.post(f"/api/v1/statuses/{post}/unfavourite", headers=w.auth("bob")))
    await ok(await client.delete(f"/api/v1/statuses/{mention}", headers=w.auth("bob")))
    await run_jobs(app)
    assert await notifications(client, w, "ann") == []


async def test_deleting_a_post_removes_its_notifications(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    w = await world(session, ("ann", "bob"))
    post = (await _post(client, w, "ann", status="soon deleted"))["id"]
    mention = (await _post(client, w, "bob", status="@ann hello"))["id"]
    await ok(await client.post(f"/api/v1/statuses/{post}/favourite", headers=w.auth("bob")))
    await run_jobs(app)
    assert len(await notifications(client, w, "ann")) == 2
    await ok(await client.delete(f"/api/v1/statuses/{post}", headers=w.auth("ann")))
    await ok(await client.delete(f"/api/v1/statuses/{mention}", headers=w.auth("bob")))
    assert await notifications(client, w, "ann") == []
    assert await _count(session) == 0


async def test_only_posts_that_concern_someone_else_queue_a_notification_job(
    session: AsyncSession,
) -> None:
    ann, bob = await make_user(session, "ann"), await make_user(session, "bob")
    parent = await make_post(session, bob, "a question")
    started = new_id()

    async def kinds_queued() -> list[str]:
        rows = await session.execute(select(Job.kind).where(Job.id > started).order_by(Job.id))
        return list(rows.scalars())

    for text in ("just me", "me again, @ann", "@nobody_here is not an account"):
        await make_post(session, ann, text)
    reply_to_self = await posts_service.create_post(
        session, author=bob, text="and more", max_length=140, in_reply_to_id=parent.id
    )
    assert reply_to_self.in_reply_to_account_id == bob.id
    await session.commit()
    assert await kinds_queued() == [kinds.POST_CREATED] * 4  # nobody else concerned
    await make_post(session, ann, "hi @bob")
    await posts_service.create_post(
        session, author=ann, text="answer", max_length=140, in_reply_to_id=parent.id
    )
    await session.commit()
    assert (await kinds_queued())[4:] == [kinds.POST_CREATED, kinds.NOTIFY_POST] * 2


async def test_posts_sent_with_an_idempotency_key_notify_and_are_tagged_once(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    """Mastodon's web app sends every post with a key: such posts notify as any other."""
    w = await world(session)
    post = (await _post(client, w, "ann", status="a thought"))["id"]

    async def keyed(name: str, key: str, **body: Any) -> dict[str, Any]:
        headers = {**w.auth(name), "Idempotency-Key": key}
        return await ok(await client.post("/api/v1/statuses", json=body, headers=headers))  # type: ignore[no-any-return]

    sent = [
        ("cat", "k1", {"status": "hi @ann #keyedpost"}),
        ("bob", "k1", {"status": "an answer", "in_reply_to_id": post}),  # same key, other user
        ("dan", "k2", {"status": "look", "quoted_status_id": post}),
    ]
    first = [await keyed(name, key, **body) for name, key, body in sent]
    retried = [await keyed(name, key, **body) for name, key, body in sent]
    assert [p["id"] for p in retried] == [p["id"] for p in first]
    await run_jobs(app)

    got = await notifications(client, w, "ann")
    assert summary(got) == [("quote", "dan"), ("mention", "bob"), ("mention", "cat")]
    assert [n["status"]["id"] for n in got] == [p["id"] for p in reversed(first)]
    tagged = await ok(await client.get("/api/v1/timelines/tag/keyedpost"))
    assert [p["id"] for p in tagged] == [first[0]["id"]]
    assert [m["username"] for m in first[0]["mentions"]] == ["ann"]

"""Direct messages, notifications, the web UI's stream, and streams that go away."""

from __future__ import annotations

import asyncio
import json

import httpx
from fastapi import FastAPI

from chirp.notifications.models import Notification
from chirp.streaming import events
from tests.factories import PASSWORD, auth
from tests.streaming.conftest import Cast
from tests.streaming.helpers import open_sse


async def test_direct_message_reaches_its_participants_direct_streams_only(
    live_app: FastAPI, live_client: httpx.AsyncClient, cast: Cast
) -> None:
    users = {
        name: await open_sse(live_app, "/api/v1/streaming/user", token=getattr(cast, name).token)
        for name in ("alice", "bob", "carol", "dave")
    }
    direct = {
        name: await open_sse(live_app, "/api/v1/streaming/direct", token=getattr(cast, name).token)
        for name in ("alice", "bob", "carol")
    }
    public = await open_sse(live_app, "/api/v1/streaming/public", token=cast.alice.token)
    r = await live_client.post(
        "/api/v1/statuses",
        data={"status": "@carol just for you", "visibility": "direct"},
        headers=auth(cast.bob.token),
    )
    assert r.status_code == 200, r.text
    post_id = r.json()["id"]
    # Each participant's direct stream gets the conversation as they list it.
    for name, other in (("bob", "carol"), ("carol", "bob")):
        event = await direct[name].next()
        assert event.event == "conversation"
        entity = event.json()
        assert entity["last_status"]["id"] == post_id
        assert [a["acct"] for a in entity["accounts"]] == [other]
        assert entity["unread"] is (name == "carol")
    # carol is told of it as a mention, on her user stream, by the notification job.
    note = await users["carol"].next()
    assert note.event == "notification"
    assert note.json()["type"] == "mention" and note.json()["status"]["id"] == post_id
    # alice and dave follow bob but are not mentioned; nobody's home or public stream has it
    # (a direct message is in no home timeline).
    await direct["alice"].nothing()
    for stream in [*users.values(), public]:
        await stream.nothing()
    gone = await live_client.delete(f"/api/v1/statuses/{post_id}", headers=auth(cast.bob.token))
    assert gone.status_code == 200
    for name in ("bob", "carol"):
        assert (await direct[name].next()).data == post_id
        assert (await users[name].next()).data == post_id
    for stream in (users["alice"], users["dave"], direct["alice"], public):
        await stream.nothing()
    for stream in [*users.values(), *direct.values(), public]:
        await stream.close()


async def test_notification_event(
    live_app: FastAPI, live_client: httpx.AsyncClient, cast: Cast
) -> None:
    user = await open_sse(live_app, "/api/v1/streaming/user", token=cast.bob.token)
    notes = await open_sse(live_app, "/api/v1/streaming/user/notification", token=cast.bob.token)
    other = await open_sse(live_app, "/api/v1/streaming/user", token=cast.alice.token)
    r = await live_client.post(
        "/api/v1/statuses", data={"status": "like me"}, headers=auth(cast.bob.token)
    )
    post_id = int(r.json()["id"])
    await user.next()
    await other.next()
    async with live_app.state.session_factory() as session:
        note = Notification(
            user_id=cast.bob.id,
            type="favourite",
            from_account_id=cast.alice.id,
            post_id=post_id,
            target_id=post_id,
            group_key=f"favourite-{post_id}",
        )
        session.add(note)
        await session.commit()
        note_id = note.id
    await events.publish_notification(
        live_app.state.stream_publisher, user_id=cast.bob.id, notification_id=note_id
    )
    for stream in (user, notes):
        event = await stream.next()
        assert event.event == "notification"
        entity = event.json()
        assert entity["id"] == str(note_id) and entity["type"] == "favourite"
        assert entity["account"]["acct"] == "alice" and entity["status"]["id"] == str(post_id)
        assert entity["group_key"] == f"favourite-{post_id}" and entity["created_at"].endswith("Z")
    await other.nothing()
    for stream in (user, notes, other):
        await stream.close()


async def _web_login(client: httpx.AsyncClient, username: str) -> None:
    page = await client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = await client.post(
        "/login", data={"login": username, "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code in (200, 303), r.text


async def test_web_stream_sends_ids_and_new_posts_render(
    live_app: FastAPI, live_client: httpx.AsyncClient, cast: Cast
) -> None:
    anonymous = await open_sse(live_app, "/live/events")
    assert anonymous.status == 401
    await _web_login(live_client, "alice")
    cookie = "; ".join(f"{k}={v}" for k, v in live_client.cookies.items())
    web = await open_sse(live_app, "/live/events", headers={"cookie": cookie})
    assert web.status == 200
    r = await live_client.post(
        "/api/v1/statuses", data={"status": "new & shiny"}, headers=auth(cast.bob.token)
    )
    post_id = r.json()["id"]
    event = await web.next()
    assert (event.event, event.data) == ("update", post_id)
    page = await live_client.get(f"/live/posts?id={post_id}")
    assert page.status_code == 200 and f'id="post-{post_id}"' in page.text
    assert "new &amp; shiny" in page.text
    # Only what the reader may see: carol's followers-only post is left out.
    r = await live_client.post(
        "/api/v1/statuses",
        data={"status": "carol's secret", "visibility": "private"},
        headers=auth(cast.carol.token),
    )
    secret = r.json()["id"]
    page = await live_client.get(f"/live/posts?id={secret}&id={post_id}")
    assert "carol's secret" not in page.text and f'id="post-{post_id}"' in page.text
    bad = await live_client.get("/live/posts?id=x")
    assert bad.status_code == 422
    await web.nothing()  # carol's post is not on alice's stream
    # A message to alice: a nudge to fetch her unread-messages badge; her own answer is none.
    r = await live_client.post(
        "/api/v1/statuses",
        data={"status": "@alice psst", "visibility": "direct"},
        headers=auth(cast.carol.token),
    )
    # (and the mention's notification, in whichever order the two jobs ran)
    got = {event.event: event.data for event in [await web.next(), await web.next()]}
    assert got.keys() == {"conversation", "notification"}
    assert got["conversation"] == r.json()["id"]
    badge = await live_client.get("/messages/badge")
    assert '<span id="messages-count">1</span>' in badge.text
    body = {"status": "@carol ok", "visibility": "direct", "in_reply_to_id": r.json()["id"]}
    await live_client.post("/api/v1/statuses", data=body, headers=auth(cast.alice.token))
    await web.nothing()
    await web.close()


async def test_dropped_streams_leave_nothing_behind(live_app: FastAPI, cast: Cast) -> None:
    hub = live_app.state.stream_hub
    before = len(asyncio.all_tasks())
    for _round in range(3):
        streams = [
            await open_sse(live_app, "/api/v1/streaming/user", token=cast.alice.token)
            for _ in range(40)
        ]
        assert len(hub.subscribers) == 40
        for stream in streams:
            await stream.close()
        assert not hub.subscribers and not hub._by_user
    # Each stream ran as a task of the test's driver: all of them are finished.
    assert len(asyncio.all_tasks()) <= before
    assert json.dumps(sorted(hub._by_user)) == "[]"

"""Direct messages, notifications, the web UI's stream, and streams that go away."""

from __future__ import annotations

import asyncio
import json

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from chirp.notifications.models import Notification
from chirp.posts.models import Post
from chirp.streaming import events
from tests.factories import PASSWORD, auth, make_post
from tests.streaming.conftest import Cast
from tests.streaming.helpers import open_sse


async def _direct_post(app: FastAPI, cast: Cast, text: str) -> Post:
    """A direct message from bob to carol (written as the direct messages work stores one)."""
    async with app.state.session_factory() as session:
        post = await make_post(session, cast.bob.user, text)
        await session.execute(
            update(Post)
            .where(Post.id == post.id)
            .values(visibility="direct", mentions=[[cast.carol.id, "carol"]])
        )
        await session.commit()
        post.visibility = "direct"
        post.mentions = [[cast.carol.id, "carol"]]
    return post


async def test_direct_message_only_to_its_participants(live_app: FastAPI, cast: Cast) -> None:
    streams = {
        name: await open_sse(live_app, "/api/v1/streaming/user", token=getattr(cast, name).token)
        for name in ("alice", "bob", "carol", "dave")
    }
    public = await open_sse(live_app, "/api/v1/streaming/public", token=cast.alice.token)
    post = await _direct_post(live_app, cast, "@carol just for you")
    await live_app.state.stream_publisher.publish(events.post_created(post))
    for name in ("bob", "carol"):
        assert (await streams[name].next()).json()["id"] == str(post.id)
    # alice and dave follow bob, but are not mentioned.
    for name in ("alice", "dave"):
        await streams[name].nothing()
    await public.nothing()
    deleted = {"post_id": post.id, "author_id": cast.bob.id, "visibility": "direct"}
    await live_app.state.stream_publisher.publish(
        events.post_deleted({**deleted, "mentions": [[cast.carol.id, "carol"]]})
    )
    for name in ("bob", "carol"):
        assert (await streams[name].next()).data == str(post.id)
    await streams["alice"].nothing()
    for stream in [*streams.values(), public]:
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

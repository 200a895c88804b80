"""Mastodon's streaming API through the app: who gets which event, in Mastodon's format."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from tests.factories import auth, make_token
from tests.streaming.conftest import Cast
from tests.streaming.helpers import open_sse, open_ws


async def _post(client: httpx.AsyncClient, token: str, text: str, **extra: str) -> dict[str, str]:
    r = await client.post("/api/v1/statuses", data={"status": text, **extra}, headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_health(live_client: httpx.AsyncClient) -> None:
    r = await live_client.get("/api/v1/streaming/health")
    assert r.status_code == 200 and r.text == "OK"


async def test_tokens_and_scopes_as_mastodon(live_app: FastAPI, cast: Cast) -> None:
    missing = await open_sse(live_app, "/api/v1/streaming/user")
    assert missing.status == 401 and json.loads(missing.body) == {"error": "Missing access token"}
    wrong = await open_sse(live_app, "/api/v1/streaming/user", token="nope")
    assert wrong.status == 401 and json.loads(wrong.body) == {"error": "Invalid access token"}
    async with live_app.state.session_factory() as session:
        write_only = await make_token(session, cast.carol.user, "write")
        statuses_only = await make_token(session, cast.carol.user, "read:statuses")
    refused = await open_sse(live_app, "/api/v1/streaming/user", token=write_only)
    assert refused.status == 401
    assert refused.json_error == "Access token does not have the required scopes"
    no_notes = await open_sse(live_app, "/api/v1/streaming/user/notification", token=statuses_only)
    assert no_notes.status == 401
    # Public streams need a token, but no scope.
    public = await open_sse(live_app, "/api/v1/streaming/public", token=write_only)
    assert public.status == 200 and public.headers["content-type"].startswith("text/event-stream")
    assert public.body.startswith(":)")
    await public.close()
    # The direct stream is the user's own: it needs read:statuses, as ``user`` does.
    direct = await open_sse(live_app, "/api/v1/streaming/direct", token=statuses_only)
    assert direct.status == 200 and direct.body.startswith(":)")
    await direct.close()
    refused = await open_sse(live_app, "/api/v1/streaming/direct", token=write_only)
    assert refused.status == 401
    remote = await open_sse(live_app, "/api/v1/streaming/public/remote", token=cast.carol.token)
    assert remote.status == 400 and "not supported" in remote.json_error
    no_tag = await open_sse(live_app, "/api/v1/streaming/hashtag", token=cast.carol.token)
    assert no_tag.status == 400 and no_tag.json_error == "Missing tag name parameter"
    media = await open_sse(
        live_app, "/api/v1/streaming/public?only_media=true", token=cast.carol.token
    )
    assert media.status == 422
    # The token as a query parameter, as browsers' EventSource must send it.
    by_query = await open_sse(live_app, f"/api/v1/streaming/user?access_token={statuses_only}")
    assert by_query.status == 200
    await by_query.close()


async def test_update_reaches_followers_and_author_only(
    live_app: FastAPI, live_client: httpx.AsyncClient, cast: Cast
) -> None:
    streams = {
        name: await open_sse(live_app, "/api/v1/streaming/user", token=getattr(cast, name).token)
        for name in ("alice", "bob", "carol", "dave")
    }
    posted = await _post(live_client, cast.bob.token, "hello followers")
    for name in ("alice", "bob", "dave"):
        event = await streams[name].next()
        assert event.event == "update"
        status = event.json()
        assert status["id"] == posted["id"] and status["account"]["acct"] == "bob"
        assert "hello followers" in status["content"]
        # Rendered for its reader, as their REST answers are.
        assert status["favourited"] is False and status["reblogged"] is False
    # alice's own post: hers and dave's (he follows her), not bob's or carol's.
    own = await _post(live_client, cast.alice.token, "alice here")
    assert (await streams["alice"].next()).json()["id"] == own["id"]
    assert (await streams["dave"].next()).json()["id"] == own["id"]
    await streams["carol"].nothing()
    await streams["bob"].nothing()
    for stream in streams.values():
        await stream.close()


async def test_followers_only_and_reposts_and_replies(
    live_app: FastAPI, live_client: httpx.AsyncClient, cast: Cast
) -> None:
    alice = await open_sse(live_app, "/api/v1/streaming/user", token=cast.alice.token)
    dave = await open_sse(live_app, "/api/v1/streaming/user", token=cast.dave.token)
    public = await open_sse(live_app, "/api/v1/streaming/public", token=cast.carol.token)
    private = await _post(live_client, cast.bob.token, "followers only", visibility="private")
    assert (await alice.next()).json()["id"] == private["id"]
    assert (await dave.next()).json()["visibility"] == "private"
    # carol follows nobody: a followers-only post is not on the public stream...
    shown = await _post(live_client, cast.bob.token, "for everyone")
    assert (await public.next()).json()["id"] == shown["id"]  # ...the next public one is
    await alice.next()
    await dave.next()
    # A repost of carol's post by bob: alice sees bob's reposts, dave hides them.
    carols = await _post(live_client, cast.carol.token, "carol speaks")
    assert (await public.next()).json()["id"] == carols["id"]
    r = await live_client.post(
        f"/api/v1/statuses/{carols['id']}/reblog", headers=auth(cast.bob.token)
    )
    assert r.status_code == 200, r.text
    repost = (await alice.next()).json()
    assert repost["reblog"]["id"] == carols["id"] and repost["account"]["acct"] == "bob"
    # Reposts and replies to others are not on the public stream; dave hears neither.
    reply = await _post(live_client, cast.bob.token, "@carol hi", in_reply_to_id=carols["id"])
    await public.nothing()
    await dave.nothing()
    # alice does not follow carol: bob's reply to carol is not on her home stream.
    await alice.nothing()
    assert reply["in_reply_to_id"] == carols["id"]
    for stream in (alice, dave, public):
        await stream.close()


async def test_unfollow_stops_updates(
    live_app: FastAPI, live_client: httpx.AsyncClient, cast: Cast
) -> None:
    alice = await open_sse(live_app, "/api/v1/streaming/user", token=cast.alice.token)
    r = await live_client.post(
        f"/api/v1/accounts/{cast.bob.id}/unfollow", headers=auth(cast.alice.token)
    )
    assert r.status_code == 200, r.text
    await _post(live_client, cast.bob.token, "after the unfollow", visibility="private")
    await _post(live_client, cast.bob.token, "public, after the unfollow")
    await alice.nothing()
    r = await live_client.post(
        f"/api/v1/accounts/{cast.carol.id}/follow", headers=auth(cast.alice.token)
    )
    assert r.status_code == 200, r.text
    carols = await _post(live_client, cast.carol.token, "newly followed")
    assert (await alice.next()).json()["id"] == carols["id"]
    await alice.close()


async def test_delete_event(live_app: FastAPI, live_client: httpx.AsyncClient, cast: Cast) -> None:
    alice = await open_sse(live_app, "/api/v1/streaming/user", token=cast.alice.token)
    public = await open_sse(live_app, "/api/v1/streaming/public/local", token=cast.carol.token)
    posted = await _post(live_client, cast.bob.token, "soon gone")
    await alice.next()
    await public.next()
    r = await live_client.delete(f"/api/v1/statuses/{posted['id']}", headers=auth(cast.bob.token))
    assert r.status_code == 200, r.text
    for stream in (alice, public):
        event = await stream.next()
        assert (event.event, event.data) == ("delete", posted["id"])  # the id, as a string
    hidden = await _post(live_client, cast.bob.token, "private, then gone", visibility="private")
    await alice.next()
    await live_client.delete(f"/api/v1/statuses/{hidden['id']}", headers=auth(cast.bob.token))
    assert (await alice.next()).data == hidden["id"]
    await public.nothing()
    await alice.close()
    await public.close()


async def test_deleting_a_post_deletes_its_reposts_from_the_reposters_followers_streams(
    live_app: FastAPI, live_client: httpx.AsyncClient, cast: Cast
) -> None:
    # dave follows alice, who reposts carol, whom dave does not follow.
    dave = await open_sse(live_app, "/api/v1/streaming/user", token=cast.dave.token)
    original = await _post(live_client, cast.carol.token, "passed along")
    r = await live_client.post(
        f"/api/v1/statuses/{original['id']}/reblog", headers=auth(cast.alice.token)
    )
    assert r.status_code == 200, r.text
    wrapper = r.json()["id"]
    assert (await dave.next()).json()["id"] == wrapper
    gone = await live_client.delete(
        f"/api/v1/statuses/{original['id']}", headers=auth(cast.carol.token)
    )
    assert gone.status_code == 200
    # As Mastodon: the repost is deleted with its original, and says so where it was shown.
    event = await dave.next()
    assert (event.event, event.data) == ("delete", wrapper)
    await dave.nothing()
    await dave.close()


async def test_hashtag_streams(
    live_app: FastAPI, live_client: httpx.AsyncClient, cast: Cast
) -> None:
    tagged = await open_sse(
        live_app, "/api/v1/streaming/hashtag?tag=Caf%C3%A9", token=cast.carol.token
    )
    local = await open_sse(
        live_app, "/api/v1/streaming/hashtag/local?tag=cafe", token=cast.carol.token
    )
    await _post(live_client, cast.bob.token, "no tag here")
    await _post(live_client, cast.bob.token, "unlisted #café", visibility="unlisted")
    posted = await _post(live_client, cast.bob.token, "coffee at the #CAFÉ")
    assert (await tagged.next()).json()["id"] == posted["id"]
    await local.nothing()  # "cafe" is another tag than "café"
    await tagged.close()
    await local.close()


async def test_websocket_subscribe_and_unsubscribe(
    live_app: FastAPI, live_client: httpx.AsyncClient, cast: Cast
) -> None:
    ws = await open_ws(live_app, {"access_token": cast.alice.token, "stream": "user"})
    assert ws.accepted is not None
    await ws.send_json({"type": "subscribe", "stream": "hashtag", "tag": "news"})
    await ws.send_json({"type": "subscribe", "stream": "list", "list": "1"})
    error = await ws.next()
    assert error["status"] == 400 and "list" in error["error"]
    posted = await _post(live_client, cast.bob.token, "#news for followers")
    got = [await ws.next(), await ws.next()]
    assert sorted(m["stream"][0] for m in got) == ["hashtag", "user"]
    for message in got:
        assert message["event"] == "update"
        assert isinstance(message["payload"], str)
        assert json.loads(message["payload"])["id"] == posted["id"]
    assert {tuple(m["stream"]) for m in got} == {("user",), ("hashtag", "news")}
    await ws.send_json({"type": "unsubscribe", "stream": "user"})
    await ws.send_json({"type": "unsubscribe", "stream": "hashtag", "tag": "news"})
    await live_client.get("/api/v1/streaming/health")  # lets the messages be read
    await _post(live_client, cast.bob.token, "#news again")
    await ws.nothing()
    await ws.close()


async def test_websocket_token_rules(live_app: FastAPI, cast: Cast) -> None:
    refused = await open_ws(live_app, {"stream": "user"})
    assert refused.denied == 401
    assert json.loads(refused.denied_body) == {"error": "Missing access token"}
    # The token as the subprotocol, which the answer repeats (browsers require it).
    by_protocol = await open_ws(live_app, protocol=cast.alice.token)
    assert by_protocol.accepted is not None
    assert by_protocol.accepted["subprotocol"] == cast.alice.token
    await by_protocol.close()
    async with live_app.state.session_factory() as session:
        write_only = await make_token(session, cast.alice.user, "write")
    ws = await open_ws(live_app, {"access_token": write_only, "stream": "user"})
    error = await ws.next()
    assert error == {"error": "Access token does not have the required scopes", "status": 401}
    await ws.close()


async def test_heartbeats(live_app: FastAPI, cast: Cast) -> None:
    live_app.state.stream_hub.heartbeat = 0.05
    stream = await open_sse(live_app, "/api/v1/streaming/user", token=cast.alice.token)
    await stream.nothing(within=0.3)
    assert stream.comments[0] == ":)" and ":thump" in stream.comments[1:]
    await stream.close()


async def test_instance_advertises_the_streaming_api(live_client: httpx.AsyncClient) -> None:
    v1 = (await live_client.get("/api/v1/instance")).json()
    v2 = (await live_client.get("/api/v2/instance")).json()
    domain = v1["uri"]
    assert v1["urls"] == {"streaming_api": f"ws://{domain}"}
    assert v2["configuration"]["urls"]["streaming"] == f"ws://{domain}"

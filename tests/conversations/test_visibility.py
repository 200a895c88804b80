"""A direct message is seen by exactly its author and the accounts it mentions, everywhere."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts.models import Post
from chirp.tags.models import PostTag
from tests.api.helpers import home_post_ids
from tests.conversations.helpers import post, world
from tests.factories import auth, reload
from tests.web.helpers import login, post_ids

PARTICIPANTS = ("ann", "bob", "dan")
OTHERS = ("cat",)


async def _status(client: httpx.AsyncClient, token: str | None, status_id: str) -> int:
    headers = auth(token) if token else {}
    return (await client.get(f"/api/v1/statuses/{status_id}", headers=headers)).status_code


async def test_a_direct_message_is_for_its_participants_alone_on_every_api_surface(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await world(session)
    tokens = w.tokens
    opener = await post(client, tokens["ann"], "a public post #topic")
    dm = await post(
        client,
        tokens["ann"],
        "@bob @dan the plan #topic",
        visibility="direct",
        in_reply_to_id=opener["id"],
    )
    assert dm["visibility"] == "direct"
    # dan answers without naming a visibility: a reply to a direct message is one too.
    answer = await post(client, tokens["dan"], "@ann @bob agreed", in_reply_to_id=dm["id"])
    assert answer["visibility"] == "direct"
    secret = {dm["id"], answer["id"]}

    # By id: the participants; a follower of the author who is not mentioned, and a visitor,
    # get 404 as for a post that does not exist.
    for name in PARTICIPANTS:
        assert {await _status(client, tokens[name], i) for i in secret} == {200}
    for name in OTHERS:
        assert {await _status(client, tokens[name], i) for i in secret} == {404}
    assert {await _status(client, None, i) for i in secret} == {404}

    # Context: the thread under the public post shows them to participants only.
    for name, shown in (("ann", secret), ("dan", secret), ("cat", set()), (None, set())):
        headers = auth(tokens[name]) if name else {}
        r = await client.get(f"/api/v1/statuses/{opener['id']}/context", headers=headers)
        assert {s["id"] for s in r.json()["descendants"]} == shown, name
    r = await client.get(f"/api/v1/statuses/{answer['id']}/context", headers=auth(tokens["bob"]))
    assert [s["id"] for s in r.json()["ancestors"]] == [opener["id"], dm["id"]]
    r = await client.get(f"/api/v1/statuses/{dm['id']}/context", headers=auth(tokens["cat"]))
    assert r.status_code == 404

    # No home timeline holds them, the author's neither; nor the public timeline or profiles.
    for name in ("ann", "bob", "cat", "dan"):
        assert not secret & {str(i) for i in await home_post_ids(client, tokens[name])}, name
    public = (await client.get("/api/v1/timelines/public")).json()
    assert [s["id"] for s in public] == [opener["id"]]
    for name in ("ann", "cat"):
        for author in ("ann", "dan"):
            r = await client.get(
                f"/api/v1/accounts/{w.user(author).id}/statuses", headers=auth(tokens[name])
            )
            assert not secret & {s["id"] for s in r.json()}
    # Tag uses are of public posts only.
    tagged = await session.execute(select(PostTag.post_id))
    assert [str(i) for i in tagged.scalars()] == [opener["id"]]

    # Counts: nobody learns they exist.
    assert (await reload(session, w.user("ann"))).posts_count == 1
    assert (await reload(session, w.user("dan"))).posts_count == 0
    for name in ("ann", "cat"):
        r = await client.get(f"/api/v1/statuses/{opener['id']}", headers=auth(tokens[name]))
        assert r.json()["replies_count"] == 0
    r = await client.get(f"/api/v1/accounts/{w.user('ann').id}", headers=auth(tokens["cat"]))
    assert r.json()["statuses_count"] == 1

    # Likes: a participant may like one; others cannot reach it.
    r = await client.post(f"/api/v1/statuses/{dm['id']}/favourite", headers=auth(tokens["bob"]))
    assert r.status_code == 200 and r.json()["favourites_count"] == 1
    r = await client.post(f"/api/v1/statuses/{dm['id']}/favourite", headers=auth(tokens["cat"]))
    assert r.status_code == 404
    liked = (await client.get("/api/v1/favourites", headers=auth(tokens["bob"]))).json()
    assert [s["id"] for s in liked] == [dm["id"]]
    r = await client.get(f"/api/v1/statuses/{dm['id']}/favourited_by", headers=auth(tokens["ann"]))
    assert [a["username"] for a in r.json()] == ["bob"]
    r = await client.get(f"/api/v1/statuses/{dm['id']}/favourited_by", headers=auth(tokens["cat"]))
    assert r.status_code == 404

    # Emoji reactions: for participants only, as likes.
    path = f"/api/v1/pleroma/statuses/{dm['id']}/reactions"
    r = await client.put(f"{path}/%F0%9F%91%8D", headers=auth(tokens["dan"]))
    assert r.status_code == 200, r.text
    assert [g["name"] for g in (await client.get(path, headers=auth(tokens["bob"]))).json()] == [
        "\N{THUMBS UP SIGN}"
    ]
    for name in ("cat", None):
        headers = auth(tokens[name]) if name else {}
        assert (await client.get(path, headers=headers)).status_code == 404
        r = await client.put(f"{path}/%F0%9F%91%8D", headers=headers)
        assert r.status_code in ((404,) if name else (401,)), r.text

    # Nobody may repost or quote one, its author neither (as Mastodon: 403 and 422).
    for name in ("ann", "bob"):
        r = await client.post(f"/api/v1/statuses/{dm['id']}/reblog", headers=auth(tokens[name]))
        assert r.status_code == 403 and r.json() == {"error": "This action is not allowed"}
        r = await client.post(
            "/api/v1/statuses",
            data={"status": "look", "quoted_status_id": dm["id"]},
            headers=auth(tokens[name]),
        )
        assert r.status_code == 422, r.text
    r = await client.post(f"/api/v1/statuses/{dm['id']}/reblog", headers=auth(tokens["cat"]))
    assert r.status_code == 404
    r = await client.get(f"/api/v1/statuses/{dm['id']}/reblogged_by", headers=auth(tokens["cat"]))
    assert r.status_code == 404
    r = await client.get(f"/api/v1/statuses/{dm['id']}", headers=auth(tokens["ann"]))
    assert r.json()["quote_approval"]["current_user"] == "denied"


async def test_direct_messages_refused_and_what_they_change(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await world(session)
    ann = w.tokens["ann"]
    before = (await session.execute(select(func.count()).select_from(Post))).scalar_one()
    opener = await post(client, ann, "quote me")
    for body, named, field in (
        ({"status": "to nobody", "visibility": "direct"}, "must mention", "status"),
        ({"status": "@ann to me", "visibility": "direct"}, "must mention", "status"),
        ({"status": "@ghost who", "visibility": "direct"}, "must mention", "status"),
        (
            {"status": "@bob look", "visibility": "direct", "quoted_status_id": opener["id"]},
            "cannot quote",
            "quoted_status_id",
        ),
    ):
        r = await client.post("/api/v1/statuses", data=body, headers=auth(ann))
        assert r.status_code == 422 and named in r.json()["error"], r.text
        assert list(r.json()["details"]) == [field], r.text  # which field, as Mastodon says
    count = (await session.execute(select(func.count()).select_from(Post))).scalar_one()
    assert count == before + 1
    # A public answer to a direct message is public (the author chose), and counts.
    dm = await post(client, ann, "@bob hi", visibility="direct")
    reply = await post(
        client, w.tokens["bob"], "@ann out loud", in_reply_to_id=dm["id"], visibility="public"
    )
    assert reply["visibility"] == "public"
    assert (await reload(session, w.user("bob"))).posts_count == 1
    # Deleting a direct message moves no count either.
    r = await client.delete(f"/api/v1/statuses/{dm['id']}", headers=auth(ann))
    assert r.status_code == 200
    assert (await reload(session, w.user("ann"))).posts_count == 1


async def test_a_direct_message_is_for_its_participants_alone_on_every_page(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await world(session)
    opener = await post(client, w.tokens["ann"], "out in the open")
    dm = await post(
        client, w.tokens["ann"], "@dan between us", visibility="direct", in_reply_to_id=opener["id"]
    )
    await post(client, w.tokens["dan"], "@bob hello bob", visibility="direct")
    await client.post(f"/api/v1/statuses/{dm['id']}/favourite", headers=auth(w.tokens["dan"]))
    dm_id = int(dm["id"])
    for name, sees in (("ann", True), ("dan", True), ("bob", False), ("cat", False)):
        client.cookies.clear()
        await login(client, name)
        page = await client.get(f"/@ann/{dm_id}")
        assert page.status_code == (200 if sees else 404), name
        thread = (await client.get(f"/@ann/{opener['id']}")).text
        assert ("between us" in thread) is sees, name
        # In no home timeline, the author's and the recipient's included; on no profile.
        home = (await client.get("/")).text
        assert dm_id not in post_ids(home) and "between us" not in home, name
        for profile in ("/@ann", "/@dan"):
            assert "between us" not in (await client.get(profile)).text
        likes = (await client.get("/likes")).text
        assert ("between us" in likes) is (name == "dan"), name
        messages = (await client.get("/messages")).text
        assert ("between us" in messages) is sees, name
    client.cookies.clear()
    assert (await client.get(f"/@ann/{dm_id}")).status_code == 404
    assert "between us" not in (await client.get(f"/@ann/{opener['id']}")).text
    assert "between us" not in (await client.get("/")).text

"""GET /api/v1/conversations, DELETE /api/v1/conversations/:id, POST .../read, as Mastodon."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conversations.helpers import conversations, post, world
from tests.factories import auth, make_token, make_user


def _summary(found: list[dict[str, object]]) -> list[tuple[str, bool, list[str]]]:
    """(latest message id, unread, other participants) of each conversation listed."""
    out = []
    for c in found:
        last = c["last_status"]
        assert isinstance(last, dict) and isinstance(c["accounts"], list)
        out.append((last["id"], bool(c["unread"]), [a["username"] for a in c["accounts"]]))
    return out


async def test_a_conversation_as_each_participant_lists_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await world(session)
    t = w.tokens
    dm = await post(client, t["ann"], "@bob @dan the plan", visibility="direct")
    assert _summary(await conversations(client, t["ann"])) == [(dm["id"], False, ["bob", "dan"])]
    assert _summary(await conversations(client, t["bob"])) == [(dm["id"], True, ["ann", "dan"])]
    assert _summary(await conversations(client, t["dan"])) == [(dm["id"], True, ["ann", "bob"])]
    # A follower of the author who is not mentioned has none.
    assert await conversations(client, t["cat"]) == []
    # A reply continues the conversation: the newest message, unread for all but its author.
    answer = await post(client, t["dan"], "@ann @bob agreed", in_reply_to_id=dm["id"])
    assert _summary(await conversations(client, t["ann"])) == [(answer["id"], True, ["bob", "dan"])]
    assert _summary(await conversations(client, t["dan"])) == [
        (answer["id"], False, ["ann", "bob"])
    ]
    # Marked read by one member, for that member only.
    ann_id = (await conversations(client, t["ann"]))[0]["id"]
    bob_id = (await conversations(client, t["bob"]))[0]["id"]
    assert ann_id != bob_id  # each member's Conversation has an id of its own
    r = await client.post(f"/api/v1/conversations/{ann_id}/read", headers=auth(t["ann"]))
    assert r.status_code == 200 and r.json()["unread"] is False and r.json()["id"] == ann_id
    assert r.json()["last_status"]["id"] == answer["id"]
    assert _summary(await conversations(client, t["bob"]))[0][1] is True
    # Another's conversation is not found (nor read, nor removed).
    for method, path in (("POST", f"{bob_id}/read"), ("DELETE", bob_id)):
        r = await client.request(method, f"/api/v1/conversations/{path}", headers=auth(t["ann"]))
        assert r.status_code == 404 and r.json() == {"error": "Record not found"}
    # Removed from bob's list only; a new message brings it back, unread.
    r = await client.delete(f"/api/v1/conversations/{bob_id}", headers=auth(t["bob"]))
    assert r.status_code == 200 and r.json() == {}
    assert await conversations(client, t["bob"]) == []
    assert len(await conversations(client, t["ann"])) == 1
    r = await client.post(f"/api/v1/conversations/{bob_id}/read", headers=auth(t["bob"]))
    assert r.status_code == 404
    again = await post(client, t["ann"], "@bob @dan still there?", in_reply_to_id=answer["id"])
    back = await conversations(client, t["bob"])
    assert back[0]["id"] == bob_id
    assert _summary(back) == [(again["id"], True, ["ann", "dan"])]
    # A reply naming fewer people reaches only them: the others' latest stays what they saw.
    aside = await post(client, t["ann"], "@dan just you", in_reply_to_id=again["id"])
    assert _summary(await conversations(client, t["dan"]))[0][0] == aside["id"]
    assert _summary(await conversations(client, t["bob"]))[0][0] == again["id"]
    # Deleting the latest message moves the conversation back to the one before it.
    r = await client.delete(f"/api/v1/statuses/{aside['id']}", headers=auth(t["ann"]))
    assert r.status_code == 200
    assert _summary(await conversations(client, t["dan"]))[0][0] == again["id"]


async def test_conversations_are_paged_newest_message_first_with_link_headers(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await world(session)
    t = w.tokens
    others = [await make_user(session, f"pen{i}") for i in range(4)]
    sent = [
        await post(client, t["ann"], f"@{u.username} number {i}", visibility="direct")
        for i, u in enumerate(others)
    ]
    # An older conversation gets a new message: it comes first again.
    bump = await post(
        client, t["ann"], f"@{others[0].username} again", in_reply_to_id=sent[0]["id"]
    )
    listed = await conversations(client, t["ann"])  # two at a time, along the Link headers
    want = [bump["id"], sent[3]["id"], sent[2]["id"], sent[1]["id"]]
    assert [c["last_status"]["id"] for c in listed] == want
    # The links page by the latest messages' ids, as Mastodon's do.
    r = await client.get("/api/v1/conversations?limit=2", headers=auth(t["ann"]))
    assert f"max_id={sent[3]['id']}" in r.headers["link"]
    assert f"min_id={bump['id']}" in r.headers["link"]
    r = await client.get(
        f"/api/v1/conversations?min_id={sent[1]['id']}&limit=2", headers=auth(t["ann"])
    )
    assert [c["last_status"]["id"] for c in r.json()] == [sent[3]["id"], sent[2]["id"]]
    r = await client.get(f"/api/v1/conversations?since_id={sent[2]['id']}", headers=auth(t["ann"]))
    assert [c["last_status"]["id"] for c in r.json()] == [bump["id"], sent[3]["id"]]
    r = await client.get(f"/api/v1/conversations?max_id={sent[2]['id']}", headers=auth(t["ann"]))
    assert [c["last_status"]["id"] for c in r.json()] == [sent[1]["id"]]
    r = await client.get("/api/v1/conversations?limit=zero", headers=auth(t["ann"]))
    assert r.status_code == 422


async def test_conversation_scopes_are_mastodons(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    w = await world(session)
    await post(client, w.tokens["ann"], "@bob hi", visibility="direct")
    assert (await client.get("/api/v1/conversations")).status_code == 401
    reader = await make_token(session, w.user("bob"), scopes="read:statuses")
    listed = await client.get("/api/v1/conversations", headers=auth(reader))
    assert listed.status_code == 200 and len(listed.json()) == 1
    conversation_id = listed.json()[0]["id"]
    for method, path in (("POST", f"{conversation_id}/read"), ("DELETE", conversation_id)):
        r = await client.request(method, f"/api/v1/conversations/{path}", headers=auth(reader))
        assert r.status_code == 403
    writer = await make_token(session, w.user("bob"), scopes="write:conversations")
    assert (await client.get("/api/v1/conversations", headers=auth(writer))).status_code == 403
    r = await client.post(f"/api/v1/conversations/{conversation_id}/read", headers=auth(writer))
    assert r.status_code == 200

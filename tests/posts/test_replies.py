"""Replies through the API: links and counts, context, the home rule, public and profile lists."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.ids import new_id
from chirp.posts import threads
from chirp.posts.models import Post
from chirp.users.models import User
from tests.api.helpers import home_post_ids
from tests.factories import auth, make_token, make_user

NOT_THERE = "The post you are trying to reply to does not appear to exist."


async def _post(
    client: httpx.AsyncClient, token: str, text: str, reply_to: str | None = None, **more: str
) -> dict[str, Any]:
    data = {"status": text, **more}
    if reply_to is not None:
        data["in_reply_to_id"] = reply_to
    r = await client.post("/api/v1/statuses", data=data, headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _get(client: httpx.AsyncClient, status_id: str, token: str | None = None) -> Any:
    headers = auth(token) if token else {}
    r = await client.get(f"/api/v1/statuses/{status_id}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _users(session: AsyncSession, *names: str) -> tuple[dict[str, User], dict[str, str]]:
    users = {name: await make_user(session, name) for name in names}
    return users, {name: await make_token(session, user) for name, user in users.items()}


async def _follow(client: httpx.AsyncClient, token: str, user: User) -> None:
    r = await client.post(f"/api/v1/accounts/{user.id}/follow", headers=auth(token))
    assert r.status_code == 200 and r.json()["following"], r.text


async def test_a_reply_links_to_its_post_and_counts_on_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    users, tokens = await _users(session, "alice", "bob", "carol")
    root = await _post(client, tokens["alice"], "root")
    reply = await _post(client, tokens["bob"], "@alice yes", root["id"])
    assert reply["in_reply_to_id"] == root["id"]
    assert reply["in_reply_to_account_id"] == str(users["alice"].id)
    assert reply["replies_count"] == 0
    deeper = await _post(client, tokens["carol"], "@bob no", reply["id"])
    assert deeper["in_reply_to_account_id"] == str(users["bob"].id)
    again = await _post(client, tokens["alice"], "me again", root["id"])
    assert (await _get(client, root["id"]))["replies_count"] == 2
    assert (await _get(client, reply["id"]))["replies_count"] == 1
    # Deleting a reply moves its post's count back; deleting a post keeps its replies.
    r = await client.delete(f"/api/v1/statuses/{reply['id']}", headers=auth(tokens["bob"]))
    assert r.status_code == 200
    assert (await _get(client, root["id"]))["replies_count"] == 1
    r = await client.delete(f"/api/v1/statuses/{again['id']}", headers=auth(tokens["alice"]))
    assert r.status_code == 200
    assert (await _get(client, root["id"]))["replies_count"] == 0
    r = await client.delete(f"/api/v1/statuses/{root['id']}", headers=auth(tokens["alice"]))
    assert r.status_code == 200
    orphan = await _get(client, deeper["id"])
    assert orphan["in_reply_to_id"] == reply["id"]  # still says what it answered
    # A reply whose post is gone deletes cleanly; no count goes below zero anywhere.
    r = await client.delete(f"/api/v1/statuses/{deeper['id']}", headers=auth(tokens["carol"]))
    assert r.status_code == 200
    low = await session.execute(select(func.min(Post.replies_count)))
    assert (low.scalar_one() or 0) >= 0


async def test_a_reply_count_that_drifted_to_zero_never_goes_below(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, tokens = await _users(session, "alice", "bob")
    root = await _post(client, tokens["alice"], "root")
    reply = await _post(client, tokens["bob"], "@alice yes", root["id"])
    # As rows written before the count was kept may be: the reply is not counted.
    await session.execute(update(Post).where(Post.id == int(root["id"])).values(replies_count=0))
    await session.commit()
    r = await client.delete(f"/api/v1/statuses/{reply['id']}", headers=auth(tokens["bob"]))
    assert r.status_code == 200
    assert (await _get(client, root["id"]))["replies_count"] == 0


async def test_replying_to_what_is_missing_or_unseen_is_404_and_stores_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    users, tokens = await _users(session, "alice", "bob", "carol")
    await _follow(client, tokens["carol"], users["alice"])
    private = await _post(client, tokens["alice"], "followers only", visibility="private")
    before = (await session.execute(select(func.count()).select_from(Post))).scalar_one()
    for target in (str(private["id"]), "1", "abc", "99999999999999999999"):
        r = await client.post(
            "/api/v1/statuses",
            data={"status": "hm", "in_reply_to_id": target},
            headers=auth(tokens["bob"]),
        )
        assert r.status_code == 404, (target, r.text)
        assert r.json() == {"error": NOT_THERE}
    after = (await session.execute(select(func.count()).select_from(Post))).scalar_one()
    assert after == before
    # A follower may answer it; the reply counts on it. An empty id is no reply at all.
    await _post(client, tokens["carol"], "seen it", private["id"])
    assert (await _get(client, private["id"], tokens["alice"]))["replies_count"] == 1
    plain = await _post(client, tokens["bob"], "plain", "")
    assert plain["in_reply_to_id"] is None


async def test_a_reply_to_a_repost_answers_the_original(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    users, tokens = await _users(session, "alice", "bob", "carol")
    original = await _post(client, tokens["alice"], "share me")
    repost_id = new_id()
    # A repost row as the reposts part writes it (its own id, empty text, the original linked).
    await session.execute(
        insert(Post).values(
            id=repost_id,
            author_id=users["bob"].id,
            text="",
            reblog_of_id=int(original["id"]),
            visibility="public",
        )
    )
    await session.commit()
    reply = await _post(client, tokens["carol"], "answer", str(repost_id))
    assert reply["in_reply_to_id"] == original["id"]
    assert reply["in_reply_to_account_id"] == str(users["alice"].id)
    assert (await _get(client, original["id"]))["replies_count"] == 1
    # alice's repost of her own followers-only post: her followers may answer it, others
    # are told it does not exist.
    await _follow(client, tokens["carol"], users["alice"])
    inner = await _post(client, tokens["alice"], "for followers", visibility="private")
    r = await client.post(f"/api/v1/statuses/{inner['id']}/reblog", headers=auth(tokens["alice"]))
    assert r.status_code == 200, r.text
    wrapper = r.json()["id"]
    answered = await _post(client, tokens["carol"], "@alice seen", wrapper)
    assert answered["in_reply_to_id"] == inner["id"]
    refused = await client.post(
        "/api/v1/statuses",
        data={"status": "@alice me too", "in_reply_to_id": wrapper},
        headers=auth(tokens["bob"]),
    )
    assert refused.status_code == 404


async def _tree(client: httpx.AsyncClient, tokens: dict[str, str]) -> dict[str, str]:
    """root (ann) <- r1 (ben) <- r1a (ann) <- r1a1 (ben); r1 <- r1b (dan, followers only);
    root <- r2 (cat), written in the order root, r1, r2, r1a, r1b, r1a1."""
    ids: dict[str, str] = {}
    ids["root"] = (await _post(client, tokens["ann"], "root"))["id"]
    ids["r1"] = (await _post(client, tokens["ben"], "r1", ids["root"]))["id"]
    ids["r2"] = (await _post(client, tokens["cat"], "r2", ids["root"]))["id"]
    ids["r1a"] = (await _post(client, tokens["ann"], "r1a", ids["r1"]))["id"]
    ids["r1b"] = (await _post(client, tokens["dan"], "r1b", ids["r1"], visibility="private"))["id"]
    ids["r1a1"] = (await _post(client, tokens["ben"], "r1a1", ids["r1a"]))["id"]
    return ids


async def _context(
    client: httpx.AsyncClient, status_id: str, token: str | None = None
) -> tuple[list[str], list[str]]:
    r = await client.get(
        f"/api/v1/statuses/{status_id}/context", headers=auth(token) if token else {}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    return [s["id"] for s in body["ancestors"]], [s["id"] for s in body["descendants"]]


async def test_context_is_ordered_as_mastodons_and_shows_only_what_the_reader_may_see(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    users, tokens = await _users(session, "ann", "ben", "cat", "dan", "eve")
    await _follow(client, tokens["eve"], users["dan"])
    ids = await _tree(client, tokens)
    name = {v: k for k, v in ids.items()}
    # Depth first in thread order, siblings oldest first; dan's followers-only reply only
    # for dan and his follower eve (anonymous readers and others never learn of it).
    for token in (None, tokens["ann"], tokens["cat"]):
        ancestors, descendants = await _context(client, ids["root"], token)
        assert ancestors == []
        assert [name[i] for i in descendants] == ["r1", "r1a", "r1a1", "r2"]
    for token in (tokens["dan"], tokens["eve"]):
        _, descendants = await _context(client, ids["root"], token)
        assert [name[i] for i in descendants] == ["r1", "r1a", "r1a1", "r1b", "r2"]
    ancestors, descendants = await _context(client, ids["r1a1"])
    assert [name[i] for i in ancestors] == ["root", "r1", "r1a"] and descendants == []
    ancestors, descendants = await _context(client, ids["r1"], tokens["eve"])
    assert [name[i] for i in ancestors] == ["root"]
    assert [name[i] for i in descendants] == ["r1a", "r1a1", "r1b"]
    # The followers-only reply's own context: 404 to those who may not see it.
    r = await client.get(f"/api/v1/statuses/{ids['r1b']}/context")
    assert r.status_code == 404 and r.json() == {"error": "Record not found"}
    for bad in ("1", "abc"):
        assert (await client.get(f"/api/v1/statuses/{bad}/context")).status_code == 404
    # Statuses in the context carry their counts and links.
    body = (await client.get(f"/api/v1/statuses/{ids['r1a']}/context")).json()
    assert body["ancestors"][1]["replies_count"] == 2  # r1: r1a and r1b
    assert body["ancestors"][1]["in_reply_to_id"] == ids["root"]


async def test_context_ancestors_stop_at_a_deleted_post(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, tokens = await _users(session, "ann", "ben", "cat", "dan")
    ids = await _tree(client, tokens)
    r = await client.delete(f"/api/v1/statuses/{ids['r1']}", headers=auth(tokens["ben"]))
    assert r.status_code == 200
    # As Mastodon: the chain is read through each post's link, which went with r1.
    ancestors, descendants = await _context(client, ids["r1a1"])
    assert ancestors == [ids["r1a"]] and descendants == []
    _, descendants = await _context(client, ids["root"])
    assert descendants == [ids["r2"]]


async def test_context_is_bounded(client: httpx.AsyncClient, session: AsyncSession) -> None:
    _, tokens = await _users(session, "ann")
    chain = [(await _post(client, tokens["ann"], "0"))["id"]]
    for i in range(threads.ANCESTORS_LIMIT + 2):
        chain.append((await _post(client, tokens["ann"], str(i + 1), chain[-1]))["id"])
    ancestors, _ = await _context(client, chain[-1])
    # The nearest ones, oldest first.
    assert ancestors == chain[-1 - threads.ANCESTORS_LIMIT : -1]
    _, descendants = await _context(client, chain[0])
    assert descendants == chain[1 : 1 + threads.DESCENDANTS_DEPTH]


# Who follows whom (overlapping): ann follows ben and cat; dan follows ben; cat follows ben;
# eve follows nobody and nobody follows her.
GRAPH = {"ann": ["ben", "cat"], "ben": [], "cat": ["ben"], "dan": ["ben"], "eve": []}


async def test_home_shows_a_reply_only_as_mastodons_home_rule_allows(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    users, tokens = await _users(session, *GRAPH)
    # Every reader's timeline exists first, so on Redis what follows arrives by fan-out.
    for token in tokens.values():
        assert await home_post_ids(client, token) == []
    for follower, followees in GRAPH.items():
        for followee in followees:
            await _follow(client, tokens[follower], users[followee])
    by = {name: (await _post(client, tokens[name], f"{name} says"))["id"] for name in GRAPH}
    posts = {
        "ben to cat": await _post(client, tokens["ben"], "@cat hi", by["cat"]),
        "ben to dan": await _post(client, tokens["ben"], "@dan hi", by["dan"]),
        "ben to eve": await _post(client, tokens["ben"], "@eve hi", by["eve"]),
        "ben thread": await _post(client, tokens["ben"], "1/2", by["ben"]),
        "eve to ann": await _post(client, tokens["eve"], "@ann hi", by["ann"]),
        "ann to eve": await _post(client, tokens["ann"], "@eve hi", by["eve"]),
        "cat to ann": await _post(client, tokens["cat"], "@ann hi", by["ann"]),
    }
    ids = {name: int(p["id"]) for name, p in posts.items()}
    expected = {
        # follows ben and cat: ben's replies to cat and his thread, her own reply, cat's to her
        "ann": ["ben to cat", "ben thread", "ann to eve", "cat to ann"],
        # only his own posts
        "ben": ["ben to cat", "ben to dan", "ben to eve", "ben thread"],
        # follows ben, who answered her; nobody she follows answered ann... but her own
        "cat": ["ben to cat", "ben thread", "cat to ann"],
        # follows ben only: ben's reply to dan himself and ben's thread
        "dan": ["ben to dan", "ben thread"],
        # follows nobody: her own reply only
        "eve": ["eve to ann"],
    }
    originals = {
        name: {int(by[name])} | {int(by[f]) for f in follows} for name, follows in GRAPH.items()
    }
    for reader, shown in expected.items():
        home = await home_post_ids(client, tokens[reader])
        want = sorted({ids[n] for n in shown} | originals[reader], reverse=True)
        assert home == want, reader
    # Unfollowing the account answered takes the reply out at once (before any clean-up).
    r = await client.post(
        f"/api/v1/accounts/{users['cat'].id}/unfollow", headers=auth(tokens["ann"])
    )
    assert r.status_code == 200
    home = await home_post_ids(client, tokens["ann"])
    assert ids["ben to cat"] not in home and ids["ben thread"] in home


async def test_public_timeline_and_exclude_replies_leave_out_replies_to_others(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    users, tokens = await _users(session, "ann", "ben")
    top = await _post(client, tokens["ann"], "top")
    answer = await _post(client, tokens["ben"], "answer", top["id"])
    thread = await _post(client, tokens["ben"], "my thread", answer["id"])  # answers himself
    mine = await _post(client, tokens["ben"], "mine")
    r = await client.get("/api/v1/timelines/public")
    assert [s["id"] for s in r.json()] == [mine["id"], thread["id"], top["id"]]
    path = f"/api/v1/accounts/{users['ben'].id}/statuses"
    every = [s["id"] for s in (await client.get(path)).json()]
    assert every == [mine["id"], thread["id"], answer["id"]]
    kept = [s["id"] for s in (await client.get(f"{path}?exclude_replies=true")).json()]
    assert kept == [mine["id"], thread["id"]]

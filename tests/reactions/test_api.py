"""Emoji reactions through Pleroma's API: one of each emoji per reader, counted exactly, one
spelling per emoji, percent-encoded paths, 422 for anything but one emoji, 404 for hidden."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import auth, make_post, make_token
from tests.likes.helpers import ann_posts, people, private_post, reactions_of, repost, same_twice
from tests.reactions.test_emoji import ACCEPTED, REFUSED


def _path(post_id: int, emoji: str | None = None) -> str:
    base = f"/api/v1/pleroma/statuses/{post_id}/reactions"
    return base if emoji is None else f"{base}/{quote(emoji, safe='')}"


async def _react(
    client: httpx.AsyncClient, token: str, post_id: int, emoji: str, *, on: bool = True
) -> httpx.Response:
    method = "PUT" if on else "DELETE"
    return await client.request(method, _path(post_id, emoji), headers=auth(token))


def _shown(status: dict[str, Any]) -> list[tuple[str, int, bool]]:
    reactions = [(r["name"], r["count"], r["me"]) for r in status["emoji_reactions"]]
    pleroma = [(r["name"], r["count"], r["me"]) for r in status["pleroma"]["emoji_reactions"]]
    assert reactions == pleroma
    return reactions


async def test_reactions_count_once_per_reader_and_emoji_in_one_spelling(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world, post = await ann_posts(session, "react to me")
    tokens = world.tokens

    first = await same_twice(lambda: _react(client, tokens["bob"], post.id, "👍"))
    assert _shown(first.json()) == [("👍", 1, True)]
    await _react(client, tokens["cat"], post.id, "👍")
    # "❤" (no variation selector) and "❤️" are one emoji, counted together.
    await _react(client, tokens["cat"], post.id, "❤")
    r = await _react(client, tokens["dan"], post.id, "❤️")
    assert _shown(r.json()) == [("👍", 2, False), ("❤️", 2, True)]
    assert await reactions_of(session, post.id) == {"👍": (2, 2), "❤️": (2, 2)}

    for reader, mine in (("bob", {"👍"}), ("cat", {"👍", "❤️"}), ("ann", set())):
        status = await client.get(f"/api/v1/statuses/{post.id}", headers=auth(tokens[reader]))
        assert {name for name, _, me in _shown(status.json()) if me} == mine, reader
    anonymous = (await client.get(f"/api/v1/statuses/{post.id}")).json()
    assert _shown(anonymous) == [("👍", 2, False), ("❤️", 2, False)]

    listed = (await client.get(_path(post.id), headers=auth(tokens["cat"]))).json()
    assert [(g["name"], g["count"], g["me"]) for g in listed] == [("👍", 2, True), ("❤️", 2, True)]
    assert [[a["username"] for a in g["accounts"]] for g in listed] == [
        ["bob", "cat"],
        ["cat", "dan"],
    ]
    assert listed[0]["account_ids"] == [str(world.users[n].id) for n in ("bob", "cat")]
    assert listed[0]["url"] is None
    one = (await client.get(_path(post.id, "❤"))).json()
    assert [(g["name"], g["count"], g["me"]) for g in one] == [("❤️", 2, False)]
    assert (await client.get(_path(post.id, "🎉"))).json() == []

    # Taking back: twice is once; one never made changes nothing; any spelling will do.
    r = await _react(client, tokens["bob"], post.id, "👍", on=False)
    r2 = await _react(client, tokens["bob"], post.id, "👍", on=False)
    assert r.json() == r2.json() and _shown(r.json()) == [("❤️", 2, False), ("👍", 1, False)]
    r = await _react(client, tokens["ann"], post.id, "👍", on=False)
    assert r.status_code == 200 and ("👍", 1, False) in _shown(r.json())
    await _react(client, tokens["cat"], post.id, "❤", on=False)
    await _react(client, tokens["dan"], post.id, "❤️", on=False)
    # An emoji nobody uses any more is not shown (its count row stays at 0).
    r = await client.get(f"/api/v1/statuses/{post.id}")
    assert _shown(r.json()) == [("👍", 1, False)]
    assert [g["name"] for g in (await client.get(_path(post.id))).json()] == ["👍"]
    assert await reactions_of(session, post.id) == {"👍": (1, 1), "❤️": (0, 0)}
    # Coming back, it is the newest emoji on the post.
    await _react(client, tokens["bob"], post.id, "❤️")
    assert [g["name"] for g in (await client.get(_path(post.id))).json()] == ["👍", "❤️"]


async def test_each_kind_of_emoji_is_one_reaction(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await people(session)
    for case, (sent, stored) in ACCEPTED.items():
        post = await make_post(session, world.users["ann"], case)
        r = await _react(client, world.tokens["bob"], post.id, sent)
        assert r.status_code == 200, (case, r.text)
        assert _shown(r.json()) == [(stored, 1, True)], case
        assert await reactions_of(session, post.id) == {stored: (1, 1)}, case


async def test_anything_but_one_emoji_is_422_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await people(session)
    token = world.tokens["bob"]
    post = await make_post(session, world.users["ann"], "edge cases")
    await _react(client, token, post.id, "👍")
    for case, sent in REFUSED.items():
        if not sent.strip():
            continue  # an empty path segment is another route: see the next test
        for on in (True, False):
            r = await _react(client, token, post.id, sent, on=on)
            assert r.status_code == 422, (case, r.status_code, r.text)
            assert r.json()["error"].startswith("Validation failed"), r.json()
        assert (await client.get(_path(post.id, sent))).status_code == 422, case
    assert await reactions_of(session, post.id) == {"👍": (1, 1)}


async def test_blank_and_empty_emoji_change_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world, post = await ann_posts(session, "blank")
    token = world.tokens["bob"]
    for path in (_path(post.id, " "), _path(post.id, "   "), f"{_path(post.id)}/%20%0A"):
        r = await client.put(path, headers=auth(token))
        assert r.status_code == 422, (path, r.text)
    # No emoji at all names no reaction: no such route for PUT.
    r = await client.put(f"{_path(post.id)}/", headers=auth(token), follow_redirects=True)
    assert r.status_code == 405, r.text
    assert await reactions_of(session, post.id) == {}


async def test_percent_encoded_and_raw_paths_are_the_same_emoji(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world, post = await ann_posts(session, "encodings")
    base = f"/api/v1/pleroma/statuses/{post.id}/reactions"
    # Explicit UTF-8 percent-encoding, lower and upper case, and the raw emoji (httpx encodes).
    for path, token in (
        (f"{base}/%F0%9F%91%8D", world.tokens["bob"]),
        (f"{base}/%f0%9f%91%8d", world.tokens["cat"]),
        (f"{base}/👍", world.tokens["dan"]),
    ):
        assert (await client.put(path, headers=auth(token))).status_code == 200
    assert await reactions_of(session, post.id) == {"👍": (3, 3)}


async def test_hidden_and_missing_posts_are_404_and_reposts_react_to_their_original(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await people(session)
    tokens = world.tokens
    hidden = await private_post(session, world.users["ann"], "followers only")
    for reader in ("cat", "dan"):
        for on in (True, False):
            r = await _react(client, tokens[reader], hidden.id, "👍", on=on)
            assert r.status_code == 404 and r.json() == {"error": "Record not found"}
        r = await client.get(_path(hidden.id), headers=auth(tokens[reader]))
        assert r.status_code == 404
    assert (await client.get(_path(hidden.id))).status_code == 404
    assert (await _react(client, tokens["bob"], 12345, "👍")).status_code == 404
    assert (await _react(client, tokens["bob"], hidden.id, "👍")).status_code == 200
    assert await reactions_of(session, hidden.id) == {"👍": (1, 1)}

    original = await make_post(session, world.users["ann"], "shared")
    shared = await repost(session, world.users["bob"], original)
    r = await _react(client, tokens["cat"], shared.id, "🔥")
    assert r.json()["id"] == str(shared.id)
    assert _shown(r.json()["reblog"]) == [("🔥", 1, True)]
    assert await reactions_of(session, original.id) == {"🔥": (1, 1)}
    # As Pleroma: a repost's reactions are its original's.
    listed = (await client.get(_path(shared.id))).json()
    assert [(g["name"], g["count"]) for g in listed] == [("🔥", 1)]


async def test_reacting_needs_write_statuses_and_a_user(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world, post = await ann_posts(session, "scoped")
    read_only = await make_token(session, world.users["bob"], scopes="read")
    assert (await _react(client, read_only, post.id, "👍")).status_code == 403
    assert (await client.put(_path(post.id, "👍"))).status_code == 401
    writer = await make_token(session, world.users["bob"], scopes="write:statuses")
    assert (await _react(client, writer, post.id, "👍")).status_code == 200
    # Listing needs no token; a token sent must allow reading statuses.
    assert (await client.get(_path(post.id), headers=auth(writer))).status_code == 403
    assert (await client.get(_path(post.id), headers=auth(read_only))).status_code == 200
    assert await reactions_of(session, post.id) == {"👍": (1, 1)}

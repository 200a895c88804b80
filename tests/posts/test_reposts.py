"""Reposts through the Mastodon API, on every backend: the wrapper, counts, who may repost,
undo, reblogged_by, and where reposts show (public timeline, profiles, exclude_reblogs).

Four accounts: ann writes, bob and cat follow her and repost, dan follows bob only.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts.models import Post
from tests.factories import auth, make_token, make_user

NAMES = ("ann", "bob", "cat", "dan")


@dataclass
class People:
    ids: dict[str, int]
    tokens: dict[str, str]


async def _people(session: AsyncSession, client: httpx.AsyncClient) -> People:
    ids: dict[str, int] = {}
    tokens: dict[str, str] = {}
    for name in NAMES:
        user = await make_user(session, name)
        ids[name], tokens[name] = user.id, await make_token(session, user)
    for follower, followee in (("bob", "ann"), ("cat", "ann"), ("dan", "bob"), ("ann", "bob")):
        r = await client.post(
            f"/api/v1/accounts/{ids[followee]}/follow", headers=auth(tokens[follower])
        )
        assert r.status_code == 200, r.text
    return People(ids, tokens)


async def _status(
    client: httpx.AsyncClient, token: str, text: str, **extra: str
) -> dict[str, object]:
    r = await client.post("/api/v1/statuses", data={"status": text, **extra}, headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _reblog(
    client: httpx.AsyncClient, status_id: str, token: str, verb: str = "reblog"
) -> httpx.Response:
    """Reblog a status (or undo it, with ``verb="unreblog"``) as the holder of ``token``."""
    return await client.post(f"/api/v1/statuses/{status_id}/{verb}", headers=auth(token))


async def _get(client: httpx.AsyncClient, url: str, token: str | None = None) -> httpx.Response:
    return await client.get(url, headers=auth(token) if token else {})


async def _count(session: AsyncSession, column: object, row_id: int) -> int:
    return int((await session.execute(select(column).where(Post.id == row_id))).scalar_one())  # type: ignore[call-overload]


async def test_reblog_makes_a_wrapper_with_its_own_id_and_moves_counts_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    p = await _people(session, client)
    post = await _status(client, p.tokens["ann"], "worth sharing")
    r = await _reblog(client, post["id"], p.tokens["bob"])
    assert r.status_code == 200, r.text
    wrapper = r.json()
    assert wrapper["id"] != post["id"]
    assert wrapper["reblog"]["id"] == post["id"]
    assert wrapper["account"]["username"] == "bob"
    assert wrapper["content"] == ""
    assert wrapper["reblogged"] is True and wrapper["reblog"]["reblogged"] is True
    assert wrapper["reblog"]["reblogs_count"] == 1
    assert int(wrapper["id"]) > int(post["id"])  # its own time-ordered id

    # Again: the same wrapper, nothing counted twice.
    again = await _reblog(client, post["id"], p.tokens["bob"])
    assert again.status_code == 200 and again.json()["id"] == wrapper["id"]
    assert again.json()["reblog"]["reblogs_count"] == 1
    # A repost of the repost shares the original.
    via = await _reblog(client, wrapper["id"], p.tokens["cat"])
    assert via.status_code == 200 and via.json()["reblog"]["id"] == post["id"]
    assert via.json()["reblog"]["reblogs_count"] == 2
    # Mastodon counts reposts among an account's statuses.
    bob = await _get(client, f"/api/v1/accounts/{p.ids['bob']}")
    assert bob.json()["statuses_count"] == 1
    # The original, read by anyone, shows the count; each reader sees their own flag.
    seen_by_dan = await _get(client, f"/api/v1/statuses/{post['id']}", p.tokens["dan"])
    assert seen_by_dan.json()["reblogs_count"] == 2 and seen_by_dan.json()["reblogged"] is False
    seen_by_cat = await _get(client, f"/api/v1/statuses/{post['id']}", p.tokens["cat"])
    assert seen_by_cat.json()["reblogged"] is True
    # The wrapper is a status of its own, readable by id.
    shown = await _get(client, f"/api/v1/statuses/{wrapper['id']}", p.tokens["dan"])
    assert shown.status_code == 200 and shown.json()["reblog"]["id"] == post["id"]


async def test_a_wrapper_has_no_text_warning_or_sensitivity_of_its_own(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    p = await _people(session, client)
    post = await _status(
        client, p.tokens["ann"], "ending inside", spoiler_text="spoilers", sensitive="true"
    )
    r = await _reblog(client, post["id"], p.tokens["bob"])
    assert r.status_code == 200, r.text
    # As Mastodon's reblog: an empty status around the original, which keeps its warning.
    for shown in (r.json(), (await _get(client, f"/api/v1/statuses/{r.json()['id']}")).json()):
        assert (shown["content"], shown["spoiler_text"], shown["sensitive"]) == ("", "", False)
        original = shown["reblog"]
        assert (original["spoiler_text"], original["sensitive"]) == ("spoilers", True)
    # Deleting it answers its source text, which is empty too.
    gone = await client.delete(f"/api/v1/statuses/{r.json()['id']}", headers=auth(p.tokens["bob"]))
    assert gone.status_code == 200 and gone.json()["text"] == ""


async def test_unreblog_returns_the_original_and_moves_counts_back(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    p = await _people(session, client)
    post = await _status(client, p.tokens["ann"], "briefly shared")
    wrapper = (await _reblog(client, post["id"], p.tokens["bob"])).json()
    r = await _reblog(client, post["id"], p.tokens["bob"], "unreblog")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == post["id"]
    assert r.json()["reblogged"] is False and r.json()["reblogs_count"] == 0
    gone = await _get(client, f"/api/v1/statuses/{wrapper['id']}", p.tokens["bob"])
    assert gone.status_code == 404
    bob = await _get(client, f"/api/v1/accounts/{p.ids['bob']}")
    assert bob.json()["statuses_count"] == 0
    # Nothing to undo: the same answer, nothing moves.
    again = await _reblog(client, post["id"], p.tokens["bob"], "unreblog")
    assert again.status_code == 200 and again.json()["reblogs_count"] == 0
    # Undo through the wrapper's id works too (it names the original).
    wrapper = (await _reblog(client, post["id"], p.tokens["bob"])).json()
    undone = await _reblog(client, wrapper["id"], p.tokens["bob"], "unreblog")
    assert undone.status_code == 200 and undone.json()["reblogs_count"] == 0


async def test_who_may_reblog_what(client: httpx.AsyncClient, session: AsyncSession) -> None:
    p = await _people(session, client)
    mine = await _status(client, p.tokens["ann"], "my own", visibility="public")
    private = await _status(client, p.tokens["ann"], "followers only", visibility="private")
    # The author may repost her own posts, followers-only ones included (kept followers-only).
    own = await client.post(
        f"/api/v1/statuses/{mine['id']}/reblog",
        data={"visibility": "unlisted"},
        headers=auth(p.tokens["ann"]),
    )
    assert own.status_code == 200 and own.json()["visibility"] == "unlisted"
    own_private = await client.post(
        f"/api/v1/statuses/{private['id']}/reblog",
        data={"visibility": "public"},
        headers=auth(p.tokens["ann"]),
    )
    assert own_private.status_code == 200, own_private.text
    assert own_private.json()["visibility"] == "private"
    # A follower sees the followers-only post but may not repost it (Mastodon: 403).
    refused = await _reblog(client, private["id"], p.tokens["bob"])
    assert refused.status_code == 403 and refused.json() == {"error": "This action is not allowed"}
    # A stranger cannot see it: 404, as for a post that does not exist.
    hidden = await _reblog(client, private["id"], p.tokens["dan"])
    assert hidden.status_code == 404
    missing = await client.post("/api/v1/statuses/12345/reblog", headers=auth(p.tokens["dan"]))
    assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}
    bad = await client.post(
        f"/api/v1/statuses/{mine['id']}/reblog",
        data={"visibility": "direct"},
        headers=auth(p.tokens["bob"]),
    )
    assert bad.status_code == 422
    anonymous = await client.post(f"/api/v1/statuses/{mine['id']}/reblog")
    assert anonymous.status_code == 401
    # None of the refused attempts counted.
    assert await _count(session, Post.reblogs_count, int(private["id"])) == 1
    assert await _count(session, Post.reblogs_count, int(mine["id"])) == 1


async def test_reblogged_by_pages_newest_first_with_links(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    p = await _people(session, client)
    post = await _status(client, p.tokens["ann"], "popular")
    for name in ("bob", "cat", "dan", "ann"):
        r = await _reblog(client, post["id"], p.tokens[name])
        assert r.status_code == 200
    # A followers-only repost is for the reposter's followers, not this list (Mastodon).
    quiet = await _status(client, p.tokens["ann"], "quiet")
    await client.post(
        f"/api/v1/statuses/{quiet['id']}/reblog",
        data={"visibility": "private"},
        headers=auth(p.tokens["bob"]),
    )
    first = await _get(client, f"/api/v1/statuses/{post['id']}/reblogged_by?limit=3")
    assert first.status_code == 200
    assert [a["username"] for a in first.json()] == ["ann", "dan", "cat"]
    link = first.headers["link"]
    assert 'rel="next"' in link
    next_url = link.split(";")[0].strip("<>").replace("http://testserver", "")
    second = await _get(client, next_url)
    assert [a["username"] for a in second.json()] == ["bob"]
    assert (await _get(client, f"/api/v1/statuses/{quiet['id']}/reblogged_by")).json() == []
    assert (await _get(client, "/api/v1/statuses/999/reblogged_by")).status_code == 404


async def test_public_timeline_leaves_reposts_out_profiles_keep_them(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    p = await _people(session, client)
    post = await _status(client, p.tokens["ann"], "original")
    wrapper = (await _reblog(client, post["id"], p.tokens["bob"])).json()
    public = [s["id"] for s in (await _get(client, "/api/v1/timelines/public")).json()]
    assert public == [post["id"]]
    bob_url = f"/api/v1/accounts/{p.ids['bob']}/statuses"
    assert [s["id"] for s in (await _get(client, bob_url)).json()] == [wrapper["id"]]
    no_reblogs = await _get(client, f"{bob_url}?exclude_reblogs=true")
    assert no_reblogs.status_code == 200 and no_reblogs.json() == []


async def test_deleting_the_original_takes_its_reposts_everywhere(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    p = await _people(session, client)
    post = await _status(client, p.tokens["ann"], "soon gone")
    keep = await _status(client, p.tokens["ann"], "stays")
    wrapper = (await _reblog(client, post["id"], p.tokens["bob"])).json()
    home = await _get(client, "/api/v1/timelines/home", p.tokens["dan"])
    assert [s["id"] for s in home.json()] == [wrapper["id"]]
    r = await client.delete(f"/api/v1/statuses/{post['id']}", headers=auth(p.tokens["ann"]))
    assert r.status_code == 200
    assert (await _get(client, "/api/v1/timelines/home", p.tokens["dan"])).json() == []
    assert (await _get(client, f"/api/v1/statuses/{wrapper['id']}")).status_code == 404
    bob = await _get(client, f"/api/v1/accounts/{p.ids['bob']}")
    assert bob.json()["statuses_count"] == 0
    remaining = select(func.count()).select_from(Post).where(Post.reblog_of_id.is_not(None))
    assert (await session.execute(remaining)).scalar_one() == 0
    assert [
        s["id"] for s in (await _get(client, "/api/v1/timelines/home", p.tokens["bob"])).json()
    ] == [keep["id"]]


async def test_deleting_a_repost_like_a_status_undoes_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    p = await _people(session, client)
    post = await _status(client, p.tokens["ann"], "shared, then not")
    wrapper = (await _reblog(client, post["id"], p.tokens["bob"])).json()
    # Only its author may delete it (404 for others, as Mastodon).
    other = await client.delete(f"/api/v1/statuses/{wrapper['id']}", headers=auth(p.tokens["ann"]))
    assert other.status_code == 404
    r = await client.delete(f"/api/v1/statuses/{wrapper['id']}", headers=auth(p.tokens["bob"]))
    assert r.status_code == 200 and r.json()["reblog"]["id"] == post["id"]
    original = await _get(client, f"/api/v1/statuses/{post['id']}", p.tokens["bob"])
    assert original.json()["reblogs_count"] == 0 and original.json()["reblogged"] is False
    assert (await _get(client, "/api/v1/timelines/home", p.tokens["dan"])).json() == []
    bob = await _get(client, f"/api/v1/accounts/{p.ids['bob']}")
    assert bob.json()["statuses_count"] == 0

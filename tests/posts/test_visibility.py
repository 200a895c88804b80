"""Who sees a post, on every surface, through the API and the web pages, on every backend.

Five readers with overlapping follows: the author (ann), a follower (fay, who also follows
sam), a stranger (sam, who follows fay), a follower who unfollows after reading (ulf, so his
cached timeline held the post) and anonymous visitors. Run with fan-out and, on Redis, with
ann as a large account whose posts are merged into followers' pages at read time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.jobs.models import Job
from chirp.posts.models import Post
from tests.api.helpers import home_post_ids as api_home_ids
from tests.conftest import MakeApp, client_of
from tests.factories import auth, make_token, make_user, reload
from tests.web.helpers import csrf, login, post_ids

ANON = "anonymous"


@dataclass
class World:
    """The app, a web client per reader (logged in), API tokens, and ann's posts by kind."""

    app: FastAPI
    tokens: dict[str, str]
    ids: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)


async def _api(
    client: httpx.AsyncClient, method: str, url: str, token: str | None, **kw: object
) -> httpx.Response:
    headers = auth(token) if token else {}
    return await client.request(method, url, headers=headers, **kw)  # type: ignore[arg-type]


async def _post(client: httpx.AsyncClient, token: str, text: str, visibility: str) -> int:
    r = await _api(
        client, "POST", "/api/v1/statuses", token, data={"status": text, "visibility": visibility}
    )
    assert r.status_code == 200, r.text
    assert r.json()["visibility"] == visibility
    return int(r.json()["id"])


async def _follow(client: httpx.AsyncClient, token: str, user_id: int, *, on: bool = True) -> None:
    verb = "follow" if on else "unfollow"
    r = await _api(client, "POST", f"/api/v1/accounts/{user_id}/{verb}", token)
    assert r.status_code == 200 and r.json()["following"] is on, r.text


async def _world(session: AsyncSession, make_app: MakeApp, large: bool) -> World:
    # With ``large``, ann's followers are too many for fan-out: her posts reach them only
    # through the read-time merge (on Redis; SQL reads are the same either way).
    app = await make_app(fanout_max_followers=1 if large else 10_000)
    tokens: dict[str, str] = {}
    users: dict[str, int] = {}
    for name in ("ann", "fay", "sam", "ulf"):
        user = await make_user(session, name)
        users[name] = user.id
        tokens[name] = await make_token(session, user)
    world = World(app=app, tokens=tokens, users=users)
    async with client_of(app) as client:
        await _follow(client, tokens["fay"], users["ann"])
        await _follow(client, tokens["fay"], users["sam"])
        await _follow(client, tokens["sam"], users["fay"])
        await _follow(client, tokens["ulf"], users["ann"])
        world.ids = {
            "public": await _post(client, tokens["ann"], "ann says hi to all", "public"),
            "unlisted": await _post(client, tokens["ann"], "ann, quietly", "unlisted"),
            "private": await _post(client, tokens["ann"], "ann, to followers", "private"),
            "sam private": await _post(client, tokens["sam"], "sam, to followers", "private"),
        }
        # ulf reads his home (his cached timeline now holds the followers-only post), then
        # unfollows: from then on he must not see it anywhere.
        assert world.ids["private"] in await api_home_ids(client, tokens["ulf"])
        await _follow(client, tokens["ulf"], users["ann"], on=False)
    return world


async def _api_surfaces(world: World, reader: str) -> dict[str, set[int]]:
    token = world.tokens.get(reader)
    ann = world.users["ann"]
    seen: dict[str, set[int]] = {}
    async with client_of(world.app) as client:
        r = await _api(client, "GET", "/api/v1/timelines/public?limit=40", token)
        seen["public timeline"] = {int(s["id"]) for s in r.json()}
        r = await _api(client, "GET", f"/api/v1/accounts/{ann}/statuses?limit=40", token)
        seen["profile"] = {int(s["id"]) for s in r.json()}
        seen["status"] = set()
        for post_id in world.ids.values():
            r = await _api(client, "GET", f"/api/v1/statuses/{post_id}", token)
            assert r.status_code in (200, 404), r.text
            if r.status_code == 200:
                seen["status"].add(post_id)
            else:
                assert r.json() == {"error": "Record not found"}
        if token:
            seen["home"] = set(await api_home_ids(client, token))
    return seen


async def _web_surfaces(world: World, reader: str) -> dict[str, set[int]]:
    seen: dict[str, set[int]] = {}
    async with client_of(world.app, ip=f"10.0.0.{len(reader)}") as browser:
        if reader != ANON:
            await login(browser, reader)
        else:
            seen["public timeline"] = set(post_ids((await browser.get("/")).text))
        page = await browser.get("/@ann")
        assert page.status_code == 200
        seen["profile"] = set(post_ids(page.text))
        seen["status"] = set()
        for name, post_id in world.ids.items():
            author = "sam" if name.startswith("sam") else "ann"
            r = await browser.get(f"/@{author}/{post_id}")
            assert r.status_code in (200, 404)
            if r.status_code == 200:
                seen["status"].add(post_id)
        if reader != ANON:
            seen["home"] = set(post_ids((await browser.get("/")).text))
    return seen


def _expected(world: World, reader: str) -> dict[str, set[int]]:
    ids = world.ids
    everyone = {ids["public"], ids["unlisted"]}
    sees_ann_private = reader in ("ann", "fay")
    sees_sam_private = reader in ("sam", "fay")
    status = everyone | ({ids["private"]} if sees_ann_private else set())
    status |= {ids["sam private"]} if sees_sam_private else set()
    expected = {
        # Only public posts, whoever asks.
        "public timeline": {ids["public"]},
        "profile": everyone | ({ids["private"]} if sees_ann_private else set()),
        "status": status,
    }
    home = {
        "ann": {ids["public"], ids["unlisted"], ids["private"]},
        "fay": {ids["public"], ids["unlisted"], ids["private"], ids["sam private"]},
        "sam": {ids["sam private"]},
        "ulf": set(),
    }
    if reader in home:
        expected["home"] = home[reader]
    return expected


@pytest.mark.parametrize("large", [False, True], ids=["fan-out", "read-time merge"])
async def test_each_reader_sees_exactly_what_visibility_allows(
    make_app: MakeApp, session: AsyncSession, large: bool
) -> None:
    world = await _world(session, make_app, large)
    for reader in ("ann", "fay", "sam", "ulf", ANON):
        expected = _expected(world, reader)
        api = await _api_surfaces(world, reader)
        assert api == expected, reader
        web = await _web_surfaces(world, reader)
        # The web's logged-in home shows the composer, not the public timeline.
        web_expected = {
            k: v for k, v in expected.items() if reader == ANON or k != "public timeline"
        }
        assert web == web_expected, reader


async def test_a_follower_who_unfollows_loses_a_followers_only_post_at_once(
    make_app: MakeApp, session: AsyncSession
) -> None:
    app = await make_app()
    ann = await make_user(session, "ann")
    bob = await make_user(session, "bob")
    ann_token, bob_token = await make_token(session, ann), await make_token(session, bob)
    async with client_of(app) as client:
        await _follow(client, bob_token, ann.id)
        secret = await _post(client, ann_token, "for followers", "private")
        # Read through every surface while following: permalink, status, profile, home.
        assert (
            await _api(client, "GET", f"/api/v1/statuses/{secret}", bob_token)
        ).status_code == 200
        assert secret in await api_home_ids(client, bob_token)
        await _follow(client, bob_token, ann.id, on=False)
        # The very next reads, before or after the unfollow's clean-up: gone everywhere.
        assert secret not in await api_home_ids(client, bob_token)
        assert (
            await _api(client, "GET", f"/api/v1/statuses/{secret}", bob_token)
        ).status_code == 404
        r = await _api(client, "GET", f"/api/v1/accounts/{ann.id}/statuses", bob_token)
        assert secret not in {int(s["id"]) for s in r.json()}
        # Following again brings it back (access follows the relationship, not history).
        await _follow(client, bob_token, ann.id)
        assert secret in await api_home_ids(client, bob_token)
        assert (
            await _api(client, "GET", f"/api/v1/statuses/{secret}", bob_token)
        ).status_code == 200


async def _counts(session: AsyncSession) -> tuple[int, int]:
    posts = (await session.execute(select(func.count()).select_from(Post))).scalar_one()
    jobs = (await session.execute(select(func.count()).select_from(Job))).scalar_one()
    return int(posts), int(jobs)


async def test_a_direct_message_to_nobody_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    token = await make_token(session, ann)
    before = await _counts(session)
    # Mentioning nobody, only yourself, or a name that is nobody's is a message to no one.
    for body, named in (
        ({"status": "psst", "visibility": "direct"}, "must mention"),
        ({"status": "@ann psst", "visibility": "direct"}, "must mention"),
        ({"status": "@nobody psst", "visibility": "direct"}, "must mention"),
        ({"status": "psst", "visibility": "secret"}, "visibility"),
    ):
        r = await client.post(
            "/api/v1/statuses", data=body, headers={**auth(token), "Idempotency-Key": "k1"}
        )
        assert r.status_code == 422, r.text
        assert named in r.json()["error"]
    assert await _counts(session) == before
    assert (await reload(session, ann)).posts_count == 0
    assert (await client.get("/api/v1/timelines/public")).json() == []
    # The same key then posts normally: the refused attempt did not claim it.
    r = await client.post(
        "/api/v1/statuses",
        data={"status": "hello", "visibility": "public"},
        headers={**auth(token), "Idempotency-Key": "k1"},
    )
    assert r.status_code == 200 and r.json()["content"] == "<p>hello</p>"


async def test_counts_include_every_visibility(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    token = await make_token(session, ann)
    for visibility in ("public", "unlisted", "private"):
        await _post(client, token, f"a {visibility} post", visibility)
    # Mastodon's statuses_count counts all of an author's posts, whoever reads it.
    account = (await client.get(f"/api/v1/accounts/{ann.id}")).json()
    assert account["statuses_count"] == 3
    assert "<strong>3</strong> posts" in (await client.get("/@ann")).text


async def test_composer_chooses_visibility_without_javascript(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session, "ann")
    await login(client, "ann")
    home = (await client.get("/")).text
    # The selector, starting at the user's default (public).
    assert '<select id="composer-visibility" name="visibility"' in home
    assert '<option value="public" selected>Public</option>' in home
    token = await csrf(client, "/")
    for visibility in ("private", "unlisted"):
        r = await client.post(
            "/posts",
            data={"text": f"{visibility} one", "visibility": visibility, "csrf_token": token},
        )
        assert r.status_code == 303
    r = await client.post(
        "/posts", data={"text": "dm", "visibility": "direct", "csrf_token": token}
    )
    assert r.status_code == 422 and "must mention at least one other account" in r.text
    assert '<option value="direct" selected>' in r.text  # kept to fix
    rows = (
        await session.execute(select(Post.text, Post.visibility).where(Post.author_id == ann.id))
    ).all()
    assert sorted(rows) == [("private one", "private"), ("unlisted one", "unlisted")]
    home = (await client.get("/")).text
    # Each non-public post says so, in words for screen readers as well as an icon.
    assert home.count('<span class="visually-hidden">Followers only</span>') == 1
    assert home.count('<span class="visually-hidden">Unlisted</span>') == 1

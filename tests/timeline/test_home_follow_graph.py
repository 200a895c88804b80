"""Home timelines of several readers whose follows overlap: yours, never everyone's."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.config import Settings
from tests.api.helpers import home_post_ids as api_home
from tests.factories import auth, make_token, make_user
from tests.web.helpers import home_post_ids as web_home

# Who follows whom. Every account but E is followed by someone, so "followed by anyone"
# differs from "followed by this reader" for every reader.
GRAPH = {
    "ann": ["ben", "cat"],
    "ben": ["cat", "dan"],
    "cat": ["ann"],
    "dan": [],
    "eve": ["dan"],
}
POSTS_EACH = 5


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Small web pages, so every home timeline takes several "load more" rounds."""
    return settings.model_copy(update={"page_size": 4})


async def _world(
    client: httpx.AsyncClient, session: AsyncSession
) -> tuple[dict[str, int], dict[str, str], dict[str, list[int]]]:
    """The accounts of GRAPH, following each other through the API, and their posts."""
    users = {name: await make_user(session, name) for name in GRAPH}
    ids = {name: user.id for name, user in users.items()}
    tokens = {name: await make_token(session, user) for name, user in users.items()}
    # Every reader's timeline exists before the follows and the posts (built on first read),
    # so on PostgreSQL + Redis what follows arrives by fan-out and follow jobs.
    for token in tokens.values():
        assert (await client.get("/api/v1/timelines/home", headers=auth(token))).json() == []
    for follower, followees in GRAPH.items():
        for followee in followees:
            r = await client.post(
                f"/api/v1/accounts/{ids[followee]}/follow", headers=auth(tokens[follower])
            )
            assert r.status_code == 200 and r.json()["following"] is True
    posts: dict[str, list[int]] = {name: [] for name in GRAPH}
    for i in range(POSTS_EACH):
        for name in GRAPH:  # interleaved authors, so every page mixes them
            r = await client.post(
                "/api/v1/statuses", data={"status": f"{name} {i}"}, headers=auth(tokens[name])
            )
            assert r.status_code == 200, r.text
            posts[name].append(int(r.json()["id"]))
    return ids, tokens, posts


def _expected(posts: dict[str, list[int]], reader: str, follows: list[str]) -> list[int]:
    """The reader's own posts and those of the accounts they follow, newest first."""
    return sorted((p for name in [reader, *follows] for p in posts[name]), reverse=True)


async def test_each_home_is_exactly_self_and_followed_through_api_and_web(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    ids, tokens, posts = await _world(client, session)
    for reader, follows in GRAPH.items():
        want = _expected(posts, reader, follows)
        assert await api_home(client, tokens[reader]) == want, reader
        assert await web_home(client, reader) == want, reader
    if app.state.timeline_cache is not None:
        # Filled by fan-out so far; rebuilt from the database they must be the same.
        await app.state.timeline_cache.redis.flushdb()
        for reader, follows in GRAPH.items():
            assert await api_home(client, tokens[reader]) == _expected(posts, reader, follows)

    # The graph changes: ann stops following cat (whom ben still follows) and follows dan.
    r = await client.post(f"/api/v1/accounts/{ids['cat']}/unfollow", headers=auth(tokens["ann"]))
    assert r.status_code == 200 and r.json()["following"] is False
    r = await client.post(f"/api/v1/accounts/{ids['dan']}/follow", headers=auth(tokens["ann"]))
    assert r.status_code == 200 and r.json()["following"] is True
    changed = {**GRAPH, "ann": ["ben", "dan"]}
    for reader, follows in changed.items():
        want = _expected(posts, reader, follows)
        assert await api_home(client, tokens[reader]) == want, reader
        assert await web_home(client, reader) == want, reader


async def test_an_unfollow_hides_posts_others_still_follow_before_any_job_runs(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    ids, tokens, posts = await _world(client, session)
    # A client whose requests leave their jobs queued, as a worker that has not got to them
    # yet would: what is read comes from the timeline as it stands, filtered on read.
    undrained = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    )
    async with undrained:
        r = await undrained.post(
            f"/api/v1/accounts/{ids['cat']}/unfollow", headers=auth(tokens["ann"])
        )
        assert r.status_code == 200
        # cat's posts stay in ben's home (he follows cat) and leave ann's at once.
        assert await api_home(undrained, tokens["ann"]) == _expected(posts, "ann", ["ben"])
        assert await api_home(undrained, tokens["ben"]) == _expected(posts, "ben", GRAPH["ben"])

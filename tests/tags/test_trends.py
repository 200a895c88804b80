"""Trending tags: ranked by distinct authors in the last day, public posts only; a tag's
history; the side column's box."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from chirp.tags.trends import TrendingTags
from tests.factories import make_user
from tests.tags.helpers import post

_LINK = re.compile(r'<([^>]+)>; rel="(next|prev)"')


def _today() -> str:
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return str(int(midnight.timestamp()))


async def _world(session: AsyncSession) -> None:
    """One author writes #Solo ten times; three write #Group once each; #Quiet is private."""
    ann, bob, cat, dan = [await make_user(session, n) for n in ("ann", "bob", "cat", "dan")]
    for i in range(10):
        await post(session, ann, f"#Solo number {i}")
    for author in (bob, cat, dan):
        await post(session, author, "#Group hello")
    await post(session, ann, "#Pair")
    await post(session, bob, "#pair again")
    # Unlisted and followers-only posts never trend, however many authors write them.
    for author in (ann, bob, cat, dan):
        await post(session, author, "#Quiet one", visibility="unlisted")
        await post(session, author, "#Quiet two", visibility="private")


async def test_trends_rank_by_distinct_authors_not_posts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _world(session)
    r = await client.get("/api/v1/trends/tags")
    assert r.status_code == 200, r.text
    tags = r.json()
    assert [t["name"] for t in tags] == ["Group", "Pair", "Solo"]
    group, pair, solo = tags
    assert group["url"] == "http://testserver/tags/Group" and group["following"] is False
    assert len(group["history"]) == 7
    assert group["history"][0] == {"day": _today(), "uses": "3", "accounts": "3"}
    assert pair["history"][0] == {"day": _today(), "uses": "2", "accounts": "2"}
    assert solo["history"][0] == {"day": _today(), "uses": "10", "accounts": "1"}
    days = [int(h["day"]) for h in group["history"]]
    assert days == [days[0] - 86_400 * n for n in range(7)]
    assert all(h["uses"] == "0" for h in group["history"][1:])


async def test_trends_page_by_offset_with_link_headers(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _world(session)
    r = await client.get("/api/v1/trends/tags?limit=2")
    assert [t["name"] for t in r.json()] == ["Group", "Pair"]
    links = {rel: url for url, rel in _LINK.findall(r.headers["Link"])}
    assert set(links) == {"next"} and "offset=2" in links["next"] and "limit=2" in links["next"]
    r = await client.get(links["next"])
    assert [t["name"] for t in r.json()] == ["Solo"]
    links = {rel: url for url, rel in _LINK.findall(r.headers["Link"])}
    assert set(links) == {"prev"} and "offset=0" in links["prev"]
    assert (await client.get("/api/v1/trends/tags?offset=3")).json() == []
    # More than 20 is taken as 20; bad numbers are refused.
    assert len((await client.get("/api/v1/trends/tags?limit=100")).json()) == 3
    for query, field in (("limit=x", "limit"), ("offset=-1", "offset"), ("offset=99999", "offset")):
        bad = await client.get(f"/api/v1/trends/tags?{query}")
        assert bad.status_code == 422 and field in bad.json()["error"], query


async def test_a_tag_shows_its_week(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await _world(session)
    r = await client.get("/api/v1/tags/GROUP")
    assert r.status_code == 200, r.text
    tag = r.json()
    assert tag["name"] == "Group" and tag["following"] is False
    assert tag["history"][0] == {"day": _today(), "uses": "3", "accounts": "3"}
    # Uses are public posts only: the private tag shows none, like a name never used (a
    # tag with no uses, as Mastodon answers, so clients can open its page).
    for unused in ("quiet", "NoSuchTag"):
        r = await client.get(f"/api/v1/tags/{unused}")
        assert r.status_code == 200, unused
        assert r.json()["name"] == unused
        assert [day["uses"] for day in r.json()["history"]] == ["0"] * 7


async def test_the_side_column_shows_trending_tags_linking_to_their_pages(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    page = (await client.get("/")).text
    assert "Trending" not in page  # nothing used yet: no box
    await _world(session)
    await post(session, await make_user(session, "eve"), "#<script>alert(1)</script> #Ünïcode")
    # Counted at most once a minute: the box still shows the count made above.
    assert "Trending" not in (await client.get("/")).text
    app.state.trending = TrendingTags()
    page = (await client.get("/")).text
    box = page.split('id="trending-title"', 1)[1].split("</section>", 1)[0]
    names = re.findall(r'<a class="trend-name" href="([^"]+)">#([^<]+)</a>', box)
    assert names == [
        ("/tags/Group", "Group"),
        ("/tags/Pair", "Pair"),
        ("/tags/Solo", "Solo"),  # one author: more uses first
        ("/tags/%C3%9Cn%C3%AFcode", "Ünïcode"),
    ]
    assert "3 people in the last day" in box and "1 person in the last day" in box
    assert "<script>" not in box
    # Every page has it, and each link opens the tag's page.
    assert 'id="trending-title"' in (await client.get("/users")).text
    assert (await client.get("/tags/%C3%9Cn%C3%AFcode")).status_code == 200


async def test_a_failed_count_keeps_the_last_and_waits_a_period(tmp_path: Path) -> None:
    # A database that cannot be opened: the count fails, the page is not failed with it.
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/chirp.db")
    trending = TrendingTags()
    try:
        async with async_sessionmaker(engine)() as session:
            assert await trending.get(session) == []
        assert not trending.stale()  # no new attempt on every page while it is away
    finally:
        await engine.dispose()


async def test_an_unreachable_database_is_logged_as_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Nothing listens on port 1: the connection is refused, as during a database outage.
    engine = create_async_engine("postgresql+asyncpg://chirp:x@127.0.0.1:1/chirp")
    trending = TrendingTags()
    try:
        with caplog.at_level(logging.WARNING, logger="chirp"):
            async with async_sessionmaker(engine)() as session:
                assert await trending.get(session) == []
    finally:
        await engine.dispose()
    [record] = [r for r in caplog.records if "trending" in r.getMessage()]
    assert record.exc_info is None and "Traceback" not in caplog.text
    assert "counting trending tags failed: " in record.getMessage()

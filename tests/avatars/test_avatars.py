"""Avatars come from Chirp's own origin: identicons, or Gravatar images the server fetched."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.avatars.gravatar import GravatarCache
from tests.avatars.standin import PNG, StandIn, digest, gravatar_standin
from tests.conftest import MakeApp, client_of
from tests.factories import make_post, make_token, make_user
from tests.loops import at_most

IMMUTABLE = "public, max-age=31536000, immutable"


async def test_identicon_by_default_same_everywhere_and_kept_long(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    bob = await make_user(session, "bob")
    await make_post(session, alice, "hello")
    token = await make_token(session, alice)

    page = (await client.get("/@alice")).text
    srcs = set(re.findall(r'<img src="(/avatars/[^"]+)"', page))
    assert srcs == {f"/avatars/{alice.id}?v=i1"}
    # The API points at the same image, as an absolute URL (Mastodon's avatar/avatar_static).
    me = (
        await client.get(
            "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"}
        )
    ).json()
    assert me["avatar"] == me["avatar_static"] == f"http://testserver/avatars/{alice.id}?v=i1"
    assert "gravatar" not in page and digest("alice@example.com") not in page

    first = await client.get(f"/avatars/{alice.id}?v=i1")
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/svg+xml"
    assert first.headers["cache-control"] == IMMUTABLE
    assert "sandbox" in first.headers["content-security-policy"]
    assert "set-cookie" not in first.headers
    assert first.content.startswith(b"<svg") and b"<script" not in first.content
    # Deterministic per account, different between accounts, and no email hash inside.
    assert (await client.get(f"/avatars/{alice.id}")).content == first.content
    assert (await client.get(f"/avatars/{bob.id}")).content != first.content
    assert digest("alice@example.com").encode() not in first.content


async def test_avatar_of_no_account_is_404(client: httpx.AsyncClient) -> None:
    for path in ("/avatars/123456789", "/avatars/abc", "/avatars/99999999999999999999"):
        assert (await client.get(path)).status_code == 404


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def gravatar_app(make_app: MakeApp, tmp_path: Path) -> AsyncIterator[tuple[FastAPI, StandIn]]:
    """An app with CHIRP_GRAVATAR on, pointed at a stand-in Gravatar on loopback."""
    with gravatar_standin() as standin:
        app = await make_app(
            gravatar=True,
            gravatar_url=standin.url,
            gravatar_timeout=0.5,
            gravatar_cache_dir=str(tmp_path / "gravatar"),
        )
        yield app, standin
        await app.state.gravatar.aclose()


async def test_gravatar_image_fetched_once_by_the_server_and_served_from_here(
    gravatar_app: tuple[FastAPI, StandIn], session: AsyncSession, tmp_path: Path
) -> None:
    app, standin = gravatar_app
    alice = await make_user(session, "alice", email="Alice@Example.com")
    standin.images[digest("alice@example.com")] = (PNG, "image/png")
    async with client_of(app) as client:
        page = (await client.get("/@alice")).text
        assert f'src="/avatars/{alice.id}?v=g"' in page
        assert standin.url not in page and digest("alice@example.com") not in page
        for _ in range(3):
            r = await client.get(f"/avatars/{alice.id}?v=g")
            assert r.status_code == 200
            assert r.content == PNG
            assert r.headers["content-type"] == "image/png"
            assert r.headers["cache-control"] == "public, max-age=86400"
    # Asked once, for a 404 when there is no image (not Gravatar's own drawing).
    assert standin.hits[digest("alice@example.com")] == 1
    assert standin.queries[0]["d"] == ["404"]
    # Kept on disk: a new process (a restart) does not ask again.
    fresh = GravatarCache(app.state.settings)
    found = await fresh.lookup("alice@example.com")
    assert found.image is not None and found.image.data == PNG
    await fresh.aclose()
    assert standin.hits[digest("alice@example.com")] == 1


async def test_no_gravatar_means_identicon_and_that_is_remembered(
    gravatar_app: tuple[FastAPI, StandIn], session: AsyncSession
) -> None:
    app, standin = gravatar_app
    bob = await make_user(session, "bob")
    async with client_of(app) as client:
        for _ in range(2):
            r = await client.get(f"/avatars/{bob.id}?v=g")
            assert r.headers["content-type"] == "image/svg+xml"
            assert r.content.startswith(b"<svg")
            assert r.headers["cache-control"] == "public, max-age=86400"
    assert standin.hits[digest("bob@example.com")] == 1


async def test_gravatar_unreachable_or_slow_shows_identicon_for_now(
    make_app: MakeApp, session: AsyncSession, tmp_path: Path
) -> None:
    carol = await make_user(session, "carol")
    app = await make_app(
        gravatar=True,
        gravatar_url=f"http://127.0.0.1:{_unused_port()}",
        gravatar_timeout=0.5,
        gravatar_cache_dir=str(tmp_path / "unreachable"),
    )
    async with client_of(app) as client:
        r = await client.get(f"/avatars/{carol.id}?v=g")
    await app.state.gravatar.aclose()
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    # Not kept long: Gravatar is asked again a minute later.
    assert r.headers["cache-control"] == "public, max-age=60"
    assert list((tmp_path / "unreachable").glob("*/*")) == []

    with gravatar_standin() as standin:
        standin.images[digest("carol@example.com")] = (PNG, "image/png")
        standin.slow[digest("carol@example.com")] = 3.0
        app = await make_app(
            gravatar=True,
            gravatar_url=standin.url,
            gravatar_timeout=0.5,
            gravatar_cache_dir=str(tmp_path / "slow"),
        )
        async with client_of(app) as client:
            r = await client.get(f"/avatars/{carol.id}?v=g")
            assert r.headers["content-type"] == "image/svg+xml"
            assert r.headers["cache-control"] == "public, max-age=60"
            # Failed fetches are not retried on every request: the next one answers at once.
            again = await client.get(f"/avatars/{carol.id}?v=g")
            assert again.headers["content-type"] == "image/svg+xml"
            # The one fetch goes on in the background; on a busy machine it may reach the
            # stand-in only after both answers, so wait for it before counting.
            for _ in at_most(100, "waits for the fetch"):
                if standin.hits[digest("carol@example.com")]:
                    break
                await asyncio.sleep(0.05)
        await app.state.gravatar.aclose()
        assert standin.hits[digest("carol@example.com")] == 1


async def test_stale_gravatar_served_while_fetched_again(
    gravatar_app: tuple[FastAPI, StandIn], session: AsyncSession, tmp_path: Path
) -> None:
    app, standin = gravatar_app
    dave = await make_user(session, "dave")
    key = digest("dave@example.com")
    standin.images[key] = (PNG, "image/png")
    async with client_of(app) as client:
        assert (await client.get(f"/avatars/{dave.id}")).content == PNG
        # A day later (the file's time moved back) and with a new picture at Gravatar.
        cached = next((tmp_path / "gravatar").glob(f"*/{key}"))
        old = time.time() - 2 * 86_400
        os.utime(cached, (old, old))
        standin.images[key] = (PNG + b"new", "image/png")
        assert (await client.get(f"/avatars/{dave.id}")).content == PNG
        for _ in at_most(100, "the refreshed image"):
            if (await client.get(f"/avatars/{dave.id}")).content == PNG + b"new":
                break
            await asyncio.sleep(0.02)
    assert standin.hits[key] == 2


async def test_a_fetch_asked_for_just_after_a_refresh_asks_gravatar_nothing(
    gravatar_app: tuple[FastAPI, StandIn], session: AsyncSession
) -> None:
    # The race this covers: a lookup reads the stale file, another request's refresh then
    # renews it and finishes, and the first lookup asks for a fetch of its own.
    app, standin = gravatar_app
    erin = await make_user(session, "erin")
    key = digest("erin@example.com")
    standin.images[key] = (PNG, "image/png")
    async with client_of(app) as client:
        assert (await client.get(f"/avatars/{erin.id}")).content == PNG
    cache: GravatarCache = app.state.gravatar
    late = cache._start(key)  # what that lookup does once its stale read returns
    assert late is not None
    assert (await late).image is not None
    assert standin.hits[key] == 1


async def test_gravatar_cache_is_bounded(make_app: MakeApp, tmp_path: Path) -> None:
    with gravatar_standin() as standin:
        big = b"\x89PNG" + b"x" * 300_000
        emails = [f"u{i}@example.com" for i in range(8)]
        for email in emails:
            standin.images[digest(email)] = (big, "image/png")
        app = await make_app(
            gravatar=True,
            gravatar_url=standin.url,
            gravatar_cache_dir=str(tmp_path / "bounded"),
            gravatar_cache_mb=1,
        )
        cache: GravatarCache = app.state.gravatar
        for email in emails:
            assert (await cache.lookup(email)).image is not None
        await cache.aclose()
    kept = sum(p.stat().st_size for p in (tmp_path / "bounded").glob("*/*"))
    assert 0 < kept <= 2**20

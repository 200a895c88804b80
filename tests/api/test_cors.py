"""CORS as Mastodon sets it: browser clients on other origins can use the API, never the pages."""

from __future__ import annotations

import socket

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import make_engine, make_session_factory
from chirp.main import create_app
from chirp.posts.models import Post
from tests.conftest import MakeApp, client_of
from tests.factories import auth, make_token, make_user
from tests.services import settings_for

ORIGIN = "https://elk.example"
EXPOSED = {"link", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"}


def _preflight(method: str, headers: str = "authorization, content-type") -> dict[str, str]:
    return {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


def _exposed(response: httpx.Response) -> set[str]:
    raw = response.headers.get("access-control-expose-headers", "")
    return {name.strip().lower() for name in raw.split(",") if name.strip()}


def _readable_cross_origin(response: httpx.Response) -> bool:
    return (
        response.headers.get("access-control-allow-origin") == "*"
        and _exposed(response) >= EXPOSED
        and "access-control-allow-credentials" not in response.headers
    )


async def test_preflight_is_answered_on_the_api_token_revoke_and_well_known_paths(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cases = [
        ("/api/v1/statuses", "POST", "authorization, content-type, idempotency-key"),
        ("/api/v1/statuses/123", "DELETE", "authorization"),
        ("/api/v1/timelines/home", "GET", "authorization"),
        ("/oauth/token", "POST", "content-type"),
        ("/oauth/revoke", "POST", "content-type"),
        ("/.well-known/oauth-authorization-server", "GET", "accept"),
    ]
    before = (await session.execute(select(func.count()).select_from(Post))).scalar_one()
    for path, method, headers in cases:
        r = await client.options(path, headers=_preflight(method, headers))
        assert r.status_code == 200, (path, r.status_code, r.text)
        assert r.headers["access-control-allow-origin"] == "*", path
        assert method in r.headers["access-control-allow-methods"], path
        allowed = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
        assert {h.strip() for h in headers.split(",")} <= allowed, path
        assert int(r.headers["access-control-max-age"]) > 0
    # A preflight runs nothing: no status was created by asking about POST.
    after = (await session.execute(select(func.count()).select_from(Post))).scalar_one()
    assert after == before


async def test_api_answers_and_errors_are_readable_from_another_origin(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_user(session, "alice")
    token = await make_token(session, alice)
    headers = {"Origin": ORIGIN}
    answers = {
        "200 with Link": await client.get(
            "/api/v1/timelines/home", headers={**headers, **auth(token)}
        ),
        "401": await client.get("/api/v1/timelines/home", headers=headers),
        "404": await client.get("/api/v1/statuses/1", headers=headers),
        "422": await client.get("/api/v1/timelines/public?max_id=x", headers=headers),
        "token 401": await client.post(
            "/oauth/token", data={"grant_type": "password"}, headers=headers
        ),
        "revoke 401": await client.post("/oauth/revoke", data={"token": "x"}, headers=headers),
    }
    for name, r in answers.items():
        assert r.headers.get("access-control-allow-origin") == "*", name
        assert _exposed(r) >= EXPOSED, (name, r.headers.get("access-control-expose-headers"))
    assert answers["200 with Link"].status_code == 200
    assert answers["404"].status_code == 404 and answers["401"].status_code == 401
    well_known = await client.get("/.well-known/oauth-authorization-server", headers=headers)
    assert well_known.status_code == 200
    assert well_known.headers["access-control-allow-origin"] == "*"


async def test_a_rate_limited_answer_is_readable_from_another_origin(make_app: MakeApp) -> None:
    app = await make_app(rate_limit_api="2/minute")
    async with client_of(app, ip="198.51.100.7") as c:
        for _ in range(2):
            assert (await c.get("/api/v1/instance", headers={"Origin": ORIGIN})).status_code == 200
        r = await c.get("/api/v1/instance", headers={"Origin": ORIGIN})
    assert r.status_code == 429
    assert _readable_cross_origin(r), r.headers
    assert r.headers["x-ratelimit-remaining"] == "0"


async def test_an_outage_answer_is_readable_from_another_origin() -> None:
    # A database nobody listens on: every query fails to connect, as in an outage.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+asyncpg://chirp:chirp@127.0.0.1:{port}/chirp"
    settings = settings_for(url)
    engine = make_engine(url, **settings.engine_options)
    try:
        app: FastAPI = create_app(settings, session_factory=make_session_factory(engine))
        async with client_of(app) as c:
            r = await c.get(
                "/api/v1/timelines/home", headers={"Origin": ORIGIN, **auth("some-token")}
            )
    finally:
        await engine.dispose()
    assert r.status_code == 503, r.text
    assert r.headers.get("access-control-allow-origin") == "*"
    assert _exposed(r) >= EXPOSED


async def test_pages_and_the_authorize_page_are_not_opened_to_other_origins(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/", "/login", "/users", "/oauth/authorize?client_id=x&redirect_uri=y"):
        r = await client.get(path, headers={"Origin": ORIGIN})
        assert "access-control-allow-origin" not in r.headers, path
        pre = await client.options(path, headers=_preflight("POST"))
        assert "access-control-allow-origin" not in pre.headers, path
        assert pre.status_code == 405, (path, pre.status_code)
    # The login form is not a cross-origin target either.
    pre = await client.options("/login", headers=_preflight("POST", "content-type"))
    assert "access-control-allow-origin" not in pre.headers

"""Stricter limits on sign-up, login and posting; normal use never hits them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.main import create_app
from tests.api.helpers import register_app
from tests.factories import PASSWORD, auth, make_token, make_user
from tests.web.helpers import csrf


@pytest.fixture
async def limited(
    settings: Settings, db: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the default limits (the test settings are the defaults)."""
    assert settings.rate_limit_enabled
    app = create_app(settings, session_factory=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_thirty_posts_in_a_minute_pass(
    limited: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_token(session, await make_user(session, "chatty"))
    for i in range(30):
        r = await limited.post(
            "/api/v1/statuses", data={"status": f"post {i}"}, headers=auth(token)
        )
        assert r.status_code == 200, r.text
    assert int(r.headers["x-ratelimit-remaining"]) > 200


async def test_posting_limit_per_account(
    settings: Settings, db: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    app = create_app(settings.model_copy(update={"rate_limit_posts": "3/hour"}), session_factory=db)
    token = await make_token(session, await make_user(session, "spammer"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        codes = [
            (
                await client.post("/api/v1/statuses", data={"status": f"s{i}"}, headers=auth(token))
            ).status_code
            for i in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        r = await client.post("/api/v1/statuses", data={"status": "again"}, headers=auth(token))
        assert (
            r.json() == {"error": "Too many requests"} and r.headers["x-ratelimit-remaining"] == "0"
        )
        # Reading is still fine: only posting is used up.
        assert (await client.get("/api/v1/timelines/home", headers=auth(token))).status_code == 200


async def test_signup_limit_per_ip(limited: httpx.AsyncClient) -> None:
    codes = []
    for i in range(6):
        token = await csrf(limited, "/signup")
        r = await limited.post(
            "/signup",
            data={
                "username": f"u{i}",
                "email": f"u{i}@example.com",
                "password": PASSWORD,
                "csrf_token": token,
            },
        )
        codes.append(r.status_code)
        limited.cookies.delete("chirp_session")
    assert codes == [303] * 5 + [429]


async def test_failed_logins_lock_the_account_for_a_while(
    limited: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "target")
    app = await register_app(limited)
    grant = {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "username": "target",
    }
    for _ in range(10):
        r = await limited.post("/oauth/token", data={**grant, "password": "guess"})
        assert r.status_code == 400
    # Even the right password is refused until the window ends: guessing has stopped.
    r = await limited.post("/oauth/token", data={**grant, "password": PASSWORD})
    assert r.status_code == 429
    token = await csrf(limited, "/login")
    r = await limited.post(
        "/login", data={"login": "target", "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 401

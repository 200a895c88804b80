"""Rate limits: 429 past a window, Mastodon's headers on every limited response."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message, Receive, Scope, Send

from chirp.config import Settings
from chirp.ratelimit.limiter import RateLimiter
from tests import services
from tests.conftest import MakeApp, client_of
from tests.factories import auth, make_token, make_user
from tests.web.helpers import csrf, login


async def test_api_calls_past_the_window_get_429_with_headers(make_app: MakeApp) -> None:
    app = await make_app(rate_limit_api="3/minute")
    async with client_of(app) as strict:
        seen = []
        for _ in range(3):
            r = await strict.get("/api/v1/nothing-here")
            seen.append(int(r.headers["x-ratelimit-remaining"]))
            assert r.headers["x-ratelimit-limit"] == "3"
            datetime.fromisoformat(r.headers["x-ratelimit-reset"])
        assert seen == [2, 1, 0]
        r = await strict.get("/api/v1/nothing-here")
        assert r.status_code == 429
        assert r.json() == {"error": "Too many requests"}
        assert r.headers["content-type"] == "application/json"
        assert r.headers["content-length"] == str(len(r.content))
        assert r.headers["x-ratelimit-remaining"] == "0"
    async with client_of(app, "203.0.113.7") as elsewhere:  # another address has its own window
        assert (await elsewhere.get("/api/v1/nothing-here")).status_code == 404
    if app.state.timeline_cache is not None:
        # In production the counters live in Redis, shared by every web process.
        assert await app.state.timeline_cache.redis.keys("chirp:rl*")


async def test_the_api_limit_counts_per_account_from_any_address(
    make_app: MakeApp, session: AsyncSession
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    alice_token, bob_token = await make_token(session, alice), await make_token(session, bob)
    app = await make_app(rate_limit_api="4/minute")
    # Two calls from each of two addresses: no address is near its limit, the account is at it.
    for ip in ("198.51.100.1", "198.51.100.2"):
        async with client_of(app, ip) as c:
            for _ in range(2):
                r = await c.get("/api/v1/accounts/verify_credentials", headers=auth(alice_token))
                assert r.status_code == 200
    async with client_of(app, "198.51.100.3") as c:
        r = await c.get("/api/v1/accounts/verify_credentials", headers=auth(alice_token))
        assert r.status_code == 429 and r.json() == {"error": "Too many requests"}
        assert r.headers["x-ratelimit-limit"] == "4" and r.headers["x-ratelimit-remaining"] == "0"
        # Another account calling from the same address is not held back.
        r = await c.get("/api/v1/accounts/verify_credentials", headers=auth(bob_token))
        assert r.status_code == 200 and r.headers["x-ratelimit-remaining"] == "2"
    async with client_of(app, "198.51.100.4") as browser:  # the same account's form posts too
        await login(browser, "alice")
        token = await csrf(browser, "/")
        r = await browser.post("/posts", data={"text": "one more", "csrf_token": token})
        assert r.status_code == 429


@pytest.mark.parametrize(("method", "status"), [("GET", 200), ("HEAD", 200), ("OPTIONS", 405)])
async def test_pages_read_without_a_form_post_are_not_limited(
    make_app: MakeApp, method: str, status: int
) -> None:
    # HEAD is what load balancers and link checkers send; OPTIONS what a browser's preflight is.
    async with client_of(await make_app(rate_limit_api="3/minute")) as strict:
        for _ in range(5):
            r = await strict.request(method, "/docs")
            assert r.status_code == status
            assert "x-ratelimit-limit" not in r.headers


async def test_disabled_limits_let_everything_through(
    make_app: MakeApp, session: AsyncSession
) -> None:
    token = await make_token(session, await make_user(session, "alice"), "read write")
    app = await make_app(
        rate_limit_api="1/minute",
        rate_limit_posts="1/minute",
        rate_limit_login_ip="1/minute",
        rate_limit_enabled=False,
    )
    async with client_of(app) as c:
        for _ in range(3):
            assert (await c.get("/api/v1/nothing-here")).status_code == 404
        # The limits that only some actions count (posting, logging in) are off too.
        for n in range(3):
            r = await c.post("/api/v1/statuses", data={"status": f"{n}"}, headers=auth(token))
            assert r.status_code == 200 and "x-ratelimit-limit" not in r.headers, r.text
    for _ in range(3):
        async with client_of(app) as browser:
            await login(browser, "alice")


async def test_redis_counters_are_shared_between_processes(
    settings: Settings, redis: Redis
) -> None:
    shared = settings.model_copy(
        update={"redis_url": services.REDIS_URL, "rate_limit_api": "4/minute"}
    )
    first, second = RateLimiter(shared), RateLimiter(shared)
    await first.reset()
    verdicts = [await (first if i % 2 else second).hit("api", "ip:203.0.113.9") for i in range(5)]
    assert [v.allowed for v in verdicts] == [True, True, True, True, False]
    await first.reset()


async def test_callers_without_an_address_are_served_and_limited_together(
    make_app: MakeApp,
) -> None:
    # A server on a Unix socket (behind a proxy that does not pass the address) gives none.
    app = await make_app(rate_limit_api="2/minute")
    transport = httpx.ASGITransport(app=app, client=None)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        codes = [(await c.get("/api/v1/instance")).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


async def test_the_limit_headers_are_named_in_lower_case_as_asgi_requires(
    make_app: MakeApp,
) -> None:
    # ASGI asks every app for lower-case names, and HTTP/2 servers refuse any other case.
    app = await make_app(rate_limit_api="1/minute")
    names: list[bytes] = []

    async def spy(scope: Scope, receive: Receive, send: Send) -> None:
        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                names.extend(name for name, _ in message["headers"])
            await send(message)

        await app(scope, receive, record)

    transport = httpx.ASGITransport(app=spy)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        codes = [(await c.get("/api/v1/nothing-here")).status_code for _ in range(2)]
    assert codes == [404, 429]
    limit_headers = [n for n in names if n.lower().startswith(b"x-ratelimit-")]
    assert len(limit_headers) == 6, names
    assert [n for n in names if n != n.lower()] == []

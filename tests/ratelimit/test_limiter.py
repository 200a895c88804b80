"""The limiter and its middleware on their own: off, without a store, around a bare ASGI app."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from chirp.config import Settings
from chirp.ratelimit.limiter import RateLimiter, Verdict
from chirp.ratelimit.middleware import RateLimitMiddleware
from tests.procs import free_port
from tests.proxy import TcpProxy

ALLOWED = Verdict(True, 2, 2, 0.0)  # what a limit of 2 answers when it counts nothing
SECRET = "redis-password"


def _unreachable(settings: Settings, **limits: str) -> tuple[RateLimiter, str]:
    """A limiter whose Redis (with a password) is a local port nothing listens on, and where."""
    address = f"127.0.0.1:{free_port()}"
    update = {"redis_url": f"redis://chirp:{SECRET}@{address}/0", **limits}
    return RateLimiter(settings.model_copy(update=update)), address


def _told_once(caplog: pytest.LogCaptureFixture, address: str, because: str) -> None:
    """One warning, that says what happens, where and why (the client library's words)."""
    told = [r.getMessage() for r in caplog.records if r.name == "chirp.ratelimit"]
    assert len(told) == 1, told
    where = f"rate limiter unavailable (Redis at {address}), allowing requests for a while: "
    assert told[0].startswith(where), told[0]
    assert because in told[0].removeprefix(where) and SECRET not in told[0], told[0]


async def test_a_disabled_limiter_lets_every_request_through_and_counts_none(
    settings: Settings,
) -> None:
    limiter = RateLimiter(
        settings.model_copy(
            update={"rate_limit_enabled": False, "rate_limit_login_account": "2/minute"}
        )
    )
    for _ in range(3):
        assert await limiter.hit("login_account", "alice") == ALLOWED
    assert await limiter.peek("login_account", "alice") == ALLOWED


async def test_an_unreachable_store_lets_requests_through_and_is_told_once_per_cooldown(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    limiter, address = _unreachable(settings, rate_limit_login_account="2/minute")
    with caplog.at_level(logging.WARNING, logger="chirp.ratelimit"):
        assert await limiter.peek("login_account", "alice") == ALLOWED
        # Within the cooldown the store is not tried again: no second wait, no second line.
        for _ in range(3):
            assert await limiter.hit("login_account", "alice") == ALLOWED
            assert await limiter.peek("login_account", "alice") == ALLOWED
    _told_once(caplog, address, because=f"connecting to {address}")


async def test_a_hit_that_finds_the_store_unreachable_fails_open_the_same_way(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    limiter, address = _unreachable(settings, rate_limit_posts="2/minute")
    with caplog.at_level(logging.WARNING, logger="chirp.ratelimit"):
        for _ in range(3):
            assert await limiter.hit("post", "user:1") == ALLOWED
    _told_once(caplog, address, because=f"connecting to {address}")


@contextmanager
def _unanswered_connects() -> Iterator[int]:
    """A local port whose accept queue is full: connecting there hangs, as with dropped packets."""
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)  # room for one waiting connection, taken by the filler
        port = listener.getsockname()[1]
        filler.connect(("127.0.0.1", port))
        yield port


@contextmanager
def _silent_store() -> Iterator[int]:
    """A local port that accepts connections and never answers them."""
    with TcpProxy("127.0.0.1", free_port()) as proxy:
        proxy.blackhole()
        yield proxy.port


@pytest.mark.parametrize(
    ("store", "because"),
    [(_unanswered_connects, "Timeout connecting"), (_silent_store, "Timeout reading")],
)
async def test_a_store_that_does_not_answer_holds_a_request_up_a_moment_only(
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    store: Callable[[], AbstractContextManager[int]],
    because: str,
) -> None:
    # Every API call asks the limiter first: without a timeout, each would hang with it.
    with store() as port:
        limiter = RateLimiter(
            settings.model_copy(
                update={"redis_url": f"redis://127.0.0.1:{port}/0", "rate_limit_posts": "2/minute"}
            )
        )
        with caplog.at_level(logging.WARNING, logger="chirp.ratelimit"):
            for _ in range(3):
                assert await asyncio.wait_for(limiter.hit("post", "user:1"), 10) == ALLOWED
    _told_once(caplog, f"127.0.0.1:{port}", because=because)


async def test_the_middleware_adds_its_headers_to_a_response_started_without_any(
    settings: Settings,
) -> None:
    # ASGI lets an app leave out a response's headers; the limit is still told.
    async def bare(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204})
        await send({"type": "http.response.body", "body": b""})

    limiter = RateLimiter(
        settings.model_copy(update={"redis_url": None, "rate_limit_api": "2/minute"})
    )
    transport = httpx.ASGITransport(app=RateLimitMiddleware(bare, limiter=limiter))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        answers = [await c.get("/api/v1/anything") for _ in range(3)]
    assert [r.status_code for r in answers] == [204, 204, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in answers] == ["1", "0", "0"]

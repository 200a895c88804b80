"""The limiter on its own: switched off it lets all through; without its store it fails open."""

from __future__ import annotations

import logging

import pytest

from chirp.config import Settings
from chirp.ratelimit.limiter import RateLimiter, Verdict
from tests.procs import free_port

ALLOWED = Verdict(True, 2, 2, 0.0)  # what a limit of 2 answers when it counts nothing


def _unreachable(settings: Settings, **limits: str) -> tuple[RateLimiter, str]:
    """A limiter whose Redis is a local port nothing listens on, and that address."""
    address = f"127.0.0.1:{free_port()}"
    update = {"redis_url": f"redis://{address}/0", **limits}
    return RateLimiter(settings.model_copy(update=update)), address


def _told_once(caplog: pytest.LogCaptureFixture, address: str) -> None:
    """One warning, that says what happens and why (the address it could not reach)."""
    told = [r.getMessage() for r in caplog.records]
    assert len(told) == 1, told
    assert told[0].startswith("rate limiter unavailable, allowing requests for a while: ")
    assert address in told[0]


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
    _told_once(caplog, address)


async def test_a_hit_that_finds_the_store_unreachable_fails_open_the_same_way(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    limiter, address = _unreachable(settings, rate_limit_posts="2/minute")
    with caplog.at_level(logging.WARNING, logger="chirp.ratelimit"):
        for _ in range(3):
            assert await limiter.hit("post", "user:1") == ALLOWED
    _told_once(caplog, address)

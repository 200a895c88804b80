"""Fixed-window counters in Redis (shared by every process) or in process memory (embedded)."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter

from chirp.config import Settings
from chirp.redis_client import Breaker

log = logging.getLogger("chirp.ratelimit")


@dataclass(frozen=True)
class Verdict:
    """The outcome of counting one request against a limit."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # unix time when the window ends

    @property
    def retry_after(self) -> int:
        """Whole seconds until the window ends (at least 1)."""
        return max(1, math.ceil(self.reset_at - time.time()))

    @property
    def retry_minutes(self) -> int:
        """Whole minutes until the window ends (at least 1), as a person is told."""
        return math.ceil(self.retry_after / 60)

    @property
    def reset_time(self) -> datetime:
        """When the window ends (UTC)."""
        return datetime.fromtimestamp(self.reset_at, tz=UTC)

    @property
    def reset_iso(self) -> str:
        """The reset time as Mastodon sends it (ISO 8601, UTC)."""
        return self.reset_time.isoformat(timespec="milliseconds")


class RateLimiter:
    """Counts hits per named rule and key; fails open if its store is unreachable."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limit_enabled
        self.rules: dict[str, RateLimitItem] = {
            "api": parse(settings.rate_limit_api),
            "signup": parse(settings.rate_limit_signup),
            "signup_attempts": parse(settings.rate_limit_signup_attempts),
            "login_ip": parse(settings.rate_limit_login_ip),
            "login_account": parse(settings.rate_limit_login_account),
            "post": parse(settings.rate_limit_posts),
            "media": parse(settings.rate_limit_media),
            "account_mail": parse(settings.rate_limit_account_mail),
        }
        storage: Storage
        # Named in the warning of an outage; the URL itself may hold a password.
        self._store = "process memory"
        if settings.redis_url:
            self._store = "Redis at " + urlsplit(settings.redis_url).netloc.rpartition("@")[2]
            storage = RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",
                key_prefix="chirp:rl",
                socket_connect_timeout=0.5,
                socket_timeout=0.5,
            )
        else:
            storage = MemoryStorage()
        self._strategy = FixedWindowRateLimiter(storage)
        self._breaker = Breaker()

    async def hit(self, rule: str, key: str) -> Verdict:
        """Count one request for ``key`` under ``rule`` and say whether it may go ahead."""
        item = self.rules[rule]
        if not self.enabled or not self._breaker.closed:
            return Verdict(True, item.amount, item.amount, 0.0)
        try:
            allowed = await self._strategy.hit(item, rule, key)
            stats = await self._strategy.get_window_stats(item, rule, key)
        except Exception as exc:  # a limiter outage must not take the site down
            return self._fail_open(item, exc)
        return Verdict(allowed, item.amount, stats.remaining, stats.reset_time)

    async def peek(self, rule: str, key: str) -> Verdict:
        """Report a key's standing under ``rule`` without counting a hit."""
        item = self.rules[rule]
        if not self.enabled or not self._breaker.closed:
            return Verdict(True, item.amount, item.amount, 0.0)
        try:
            allowed = await self._strategy.test(item, rule, key)
            stats = await self._strategy.get_window_stats(item, rule, key)
        except Exception as exc:
            return self._fail_open(item, exc)
        return Verdict(allowed, item.amount, stats.remaining, stats.reset_time)

    def _fail_open(self, item: RateLimitItem, exc: Exception) -> Verdict:
        """Say once that the store failed, and let requests through until the cooldown ends."""
        log.warning(
            "rate limiter unavailable (%s), allowing requests for a while: %s", self._store, exc
        )
        self._breaker.trip()
        return Verdict(True, item.amount, item.amount, 0.0)

    async def reset(self) -> None:
        """Forget every counter (tests and operators)."""
        await self._strategy.storage.reset()

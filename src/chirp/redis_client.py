"""The shared Redis connection, and a breaker that stops asking while Redis is down."""

from __future__ import annotations

import time

from redis.asyncio import Redis


def make_redis(url: str, *, connect_timeout: float = 0.5, timeout: float = 1.0) -> Redis:
    """Create a Redis client with short timeouts: Redis is a cache, the database the truth."""
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=connect_timeout,
        socket_timeout=timeout,
        health_check_interval=30,
    )


class Breaker:
    """After a failure, skip Redis for ``cooldown`` seconds instead of waiting on timeouts."""

    def __init__(self, cooldown: float = 5.0) -> None:
        self.cooldown = cooldown
        self._open_until = 0.0

    @property
    def closed(self) -> bool:
        """Whether Redis may be tried now."""
        return time.monotonic() >= self._open_until

    def trip(self) -> None:
        """Record a failure."""
        self._open_until = time.monotonic() + self.cooldown

    def reset(self) -> None:
        """Record a success."""
        self._open_until = 0.0

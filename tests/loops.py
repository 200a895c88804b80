"""Bounded loops for tests: a loop that never ends is a red test, not a stalled run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest


def at_most(limit: int, what: str = "pages") -> Iterator[int]:
    """Count ``limit`` rounds of a loop that ``break``s when done; fail if it asks for more.

    Paging loops end when a page comes back empty; if paging is broken (a cursor bound that
    includes its own post), they would go on forever. ``for _ in at_most(n):`` fails the
    test on round n + 1 instead.
    """
    yield from range(limit)
    pytest.fail(f"more than {limit} {what}: the loop does not end")


async def until(predicate: Callable[[], Awaitable[bool]], what: str, seconds: float = 10) -> None:
    """Await ``predicate`` every 20 ms until it holds; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not await predicate():
        assert time.monotonic() < deadline, f"{what}: not after {seconds} s"
        await asyncio.sleep(0.02)

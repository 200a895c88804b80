"""A client looping on one kind of request while a load runs, and what it saw."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Loop:
    """What one client looping on one kind of request saw."""

    name: str
    done: int
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def result(name: str, times: list[float], errors: int) -> Loop:
    """Summarise the durations (seconds) of the calls that succeeded."""
    ms = sorted(t * 1000 for t in times) or [0.0]
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    return Loop(name, len(times), errors, statistics.median(ms), p99, ms[-1])


async def timed(
    stop: asyncio.Event,
    call: Callable[[], Awaitable[httpx.Response]],
    name: str,
    *,
    pause: float = 0.0,
    clients: int = 1,
) -> Loop:
    """``clients`` clients each calling ``call`` until ``stop``, pausing between calls; a
    4xx/5xx answer or a failed request is an error."""
    times: list[float] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        while not stop.is_set():
            await asyncio.sleep(pause)
            start = time.perf_counter()
            try:
                response = await call()
            except httpx.HTTPError:
                errors += 1
                continue
            if response.status_code >= 400:
                errors += 1
            else:
                times.append(time.perf_counter() - start)

    await asyncio.gather(*(client() for _ in range(clients)))
    return result(name, times, errors)

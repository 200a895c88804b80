"""Bounded loops for tests: a loop that never ends is a red test, not a stalled run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


def at_most(limit: int, what: str = "pages") -> Iterator[int]:
    """Count ``limit`` rounds of a loop that ``break``s when done; fail if it asks for more.

    Paging loops end when a page comes back empty; if paging is broken (a cursor bound that
    includes its own post), they would go on forever. ``for _ in at_most(n):`` fails the
    test on round n + 1 instead.
    """
    yield from range(limit)
    pytest.fail(f"more than {limit} {what}: the loop does not end")

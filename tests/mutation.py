"""Test order under mutation testing: cheapest test files first, so a mutant dies early."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# One backend at a time: a mutant caught on SQLite never waits for PostgreSQL's setup.
_BACKEND_RANK = {"sqlite": 0, "postgresql": 1, "postgresql+redis": 2}
# Where mutmut keeps each test's duration from its stats run (the cwd of its test processes).
_STATS = Path("mutmut-stats.json")


def under_mutation() -> bool:
    """Whether this test process is trying one of mutmut's mutants."""
    return "__mutmut_" in os.environ.get("MUTANT_UNDER_TEST", "")


def cheapest_files_first(items: list[pytest.Item]) -> None:
    """Sort ``items`` by backend, then by the summed duration of their file (in place)."""
    if not _STATS.exists():
        return
    durations: dict[str, float] = json.loads(_STATS.read_text())["duration_by_test"]

    def group(item: pytest.Item) -> tuple[int, str]:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        return _BACKEND_RANK.get(str(backend), -1), item.nodeid.split("::")[0]

    cost: dict[tuple[int, str], float] = {}
    for item in items:
        key = group(item)
        cost[key] = cost.get(key, 0.0) + durations.get(item.nodeid, 5.0)
    position = {item.nodeid: i for i, item in enumerate(items)}
    items.sort(key=lambda it: (group(it)[0], cost[group(it)], position[it.nodeid]))

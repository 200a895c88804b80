"""A served app freezes its startup objects and collects young objects less often."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from chirp.ops.gc_tuning import YOUNG_THRESHOLD

# Run in a child process: freezing is for the life of a process, and this one runs the suite.
_SERVE_ONCE = """
import asyncio, gc, sys
from chirp.config import Settings
from chirp.main import create_app

async def main(environment):
    app = create_app(Settings(environment=environment, database_url=sys.argv[2]))
    async with app.router.lifespan_context(app):
        print(gc.get_freeze_count(), gc.get_threshold()[0])

asyncio.run(main(sys.argv[1]))
"""


def _served(environment: str, tmp_path: Path) -> tuple[int, int]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gc.db'}"
    out = subprocess.run(
        [sys.executable, "-c", _SERVE_ONCE, environment, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    return int(out[0]), int(out[1])


def test_a_served_app_freezes_startup_objects(tmp_path: Path) -> None:
    frozen, threshold = _served("development", tmp_path)
    assert frozen > 10_000  # modules, routes, mappers: everything startup made
    assert threshold == YOUNG_THRESHOLD


def test_test_apps_leave_the_collector_alone(tmp_path: Path) -> None:
    frozen, threshold = _served("test", tmp_path)
    assert frozen == 0
    assert threshold != YOUNG_THRESHOLD  # CPython's default

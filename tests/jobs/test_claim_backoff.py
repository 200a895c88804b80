"""A worker that cannot claim jobs backs off and says so once, not ten times a second."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from types import TracebackType
from typing import Any

import pytest

from chirp.jobs.worker import CLAIM_BACKOFF_MAX, JobContext, Worker
from tests.services import settings_for


class _Failing:
    """A session factory whose sessions fail to open with each of ``errors`` in turn."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = errors
        self.calls = 0

    def __call__(self) -> _Failing:
        self.calls += 1
        return self

    async def __aenter__(self) -> Any:
        raise self.errors[(self.calls - 1) % len(self.errors)]

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


def _worker(factory: _Failing, idle_sleep: float = 0.1) -> Worker:
    settings = settings_for("sqlite+aiosqlite:///unused.db")  # never opened
    context = JobContext(session_factory=factory, settings=settings)  # type: ignore[arg-type]
    return Worker(context, {}, idle_sleep=idle_sleep)


async def _run_for(worker: Worker, seconds: float) -> None:
    stop = asyncio.Event()
    runner = asyncio.create_task(worker.run_forever(stop, grace=0))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(runner, timeout=10)


async def test_an_unreachable_database_is_retried_ever_more_slowly_and_reported_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    factory = _Failing(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"))
    with caplog.at_level(logging.INFO, logger="chirp.jobs"):
        await _run_for(_worker(factory), 2.0)
    # Waits of 0.2, 0.4, 0.8 and 1.6 s: 4 attempts in 2 s (20 at the idle pace of 0.1 s).
    assert 2 <= factory.calls <= 6
    reports = [r for r in caplog.records if "cannot claim jobs" in r.getMessage()]
    assert len(reports) == 1
    [report] = reports
    assert report.levelno == logging.WARNING and report.exc_info is None
    assert "ConnectionRefusedError" in report.getMessage()


async def test_a_bug_in_claiming_is_logged_as_an_error_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    factory = _Failing(ValueError("a bug"))
    with caplog.at_level(logging.INFO, logger="chirp.jobs"):
        await _run_for(_worker(factory), 0.5)
    reports = [r for r in caplog.records if "cannot claim jobs" in r.getMessage()]
    assert len(reports) == 1
    [report] = reports
    assert report.levelno == logging.ERROR
    assert report.exc_info is not None and report.exc_info[0] is ValueError


def test_the_wait_between_failed_claims_doubles_from_the_idle_pause_up_to_a_cap() -> None:
    worker = _worker(_Failing(ValueError()), idle_sleep=0.1)
    outage = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    waits = [0.0]
    for _ in range(8):
        waits.append(worker._claim_failed(outage, waits[-1]))
    assert waits[1:] == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])
    assert CLAIM_BACKOFF_MAX == 5.0


async def test_each_kind_of_claim_failure_is_told_once_in_its_own_words(
    caplog: pytest.LogCaptureFixture,
) -> None:
    factory = _Failing(
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        ValueError("a bug"),
        KeyError("another bug"),
    )
    with caplog.at_level(logging.INFO, logger="chirp.jobs"):
        await _run_for(_worker(factory, idle_sleep=0.01), 1.5)
    assert factory.calls >= 4  # each kind met at least once
    told = sorted(
        (r.levelno, r.getMessage(), r.exc_info[0].__name__ if r.exc_info else "")
        for r in caplog.records
        if "cannot claim jobs" in r.getMessage()
    )
    assert told == [
        (
            logging.WARNING,
            "cannot claim jobs: ConnectionRefusedError: [Errno 111] Connection refused",
            "",
        ),
        (
            logging.WARNING,
            f"cannot claim jobs: gaierror: [Errno {socket.EAI_NONAME}] Name or service not known",
            "",
        ),
        (logging.ERROR, "cannot claim jobs", "KeyError"),
        (logging.ERROR, "cannot claim jobs", "ValueError"),
    ]

"""Leases: a live worker's heartbeat keeps its claims, a lost claim is left to its new holder,
and a stopping worker finishes or gives back the jobs in hand."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.db import make_session_factory, utcnow
from chirp.jobs import queue
from chirp.jobs import worker as worker_module
from chirp.jobs.models import PENDING, RUNNING, Job
from chirp.jobs.worker import Handler, JobContext, Worker
from tests.loops import until

Factory = async_sessionmaker[AsyncSession]
SHORT = timedelta(seconds=1)  # heartbeats every 0.25 s


@pytest.fixture
async def factory(engine: AsyncEngine) -> AsyncIterator[Factory]:
    """Sessions on their own connections (workers run side by side), jobs removed after."""
    sessions = make_session_factory(engine)
    try:
        yield sessions
    finally:
        async with sessions() as s:
            await s.execute(delete(Job))
            await s.commit()


def _worker(factory: Factory, settings: Settings, handlers: dict[str, Handler]) -> Worker:
    context = JobContext(session_factory=factory, settings=settings)
    return Worker(context, handlers, lease=SHORT, idle_sleep=0.01)


async def _enqueue(factory: Factory, kind: str) -> None:
    async with factory() as s:
        await queue.enqueue(s, kind, {})
        await s.commit()


async def _jobs(factory: Factory) -> list[Job]:
    async with factory() as s:
        return list((await s.execute(select(Job).order_by(Job.id))).scalars())


async def test_a_live_workers_long_job_is_never_taken_over(
    factory: Factory, settings: Settings
) -> None:
    runs: list[str] = []
    release = asyncio.Event()

    async def long(ctx: JobContext, payload: dict[str, Any]) -> None:
        runs.append("run")
        await release.wait()

    holder = _worker(factory, settings, {"long": long})
    other = _worker(factory, settings, {"long": long})
    await _enqueue(factory, "long")
    stop = asyncio.Event()
    runner = asyncio.create_task(holder.run_forever(stop))
    try:
        await until(lambda: _ran(runs, 1), "the job never started")
        # Four leases long: without the heartbeat the claim would lapse three times over.
        deadline = time.monotonic() + 4 * SHORT.total_seconds()
        while time.monotonic() < deadline:
            assert await other.run_once() == 0, "a live worker's job was taken over"
            await asyncio.sleep(0.05)
        [job] = await _jobs(factory)
        assert job.locked_by == holder.worker_id and job.locked_until is not None
        assert job.locked_until > utcnow()
        release.set()
        await until(lambda: _no_jobs(factory), "the finished job was not deleted")
        assert runs == ["run"]
    finally:
        release.set()
        stop.set()
        await asyncio.wait_for(runner, timeout=10)


async def test_a_dead_workers_job_is_taken_over_within_its_lease(
    factory: Factory, settings: Settings
) -> None:
    async with factory() as s:
        await queue.enqueue(s, "count", {})
        await s.commit()
        # Claimed by a worker that then died: nobody renews the claim.
        [claimed] = await queue.claim(s, worker_id="dead", limit=1, lease=SHORT)
    runs: list[int] = []

    async def count(ctx: JobContext, payload: dict[str, Any]) -> None:
        runs.append(claimed.id)

    successor = _worker(factory, settings, {"count": count})
    stop = asyncio.Event()
    started = time.monotonic()
    runner = asyncio.create_task(successor.run_forever(stop))
    try:
        await until(lambda: _no_jobs(factory), "the dead worker's job was never taken over")
    finally:
        stop.set()
        await asyncio.wait_for(runner, timeout=10)
    assert runs == [claimed.id]
    assert time.monotonic() - started < 3 * SHORT.total_seconds()


async def test_a_lost_claim_is_stopped_and_left_to_the_worker_that_took_it_over(
    factory: Factory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    first_cancelled, second_started, release = asyncio.Event(), asyncio.Event(), asyncio.Event()
    calls: list[str] = []

    async def first_run(ctx: JobContext, payload: dict[str, Any]) -> None:
        calls.append("first")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            first_cancelled.set()
            raise

    async def second_run(ctx: JobContext, payload: dict[str, Any]) -> None:
        calls.append("second")
        second_started.set()
        await release.wait()

    first = _worker(factory, settings, {"job": first_run})
    second = _worker(factory, settings, {"job": second_run})
    await _enqueue(factory, "job")
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    running_first = asyncio.create_task(first.run_forever(stop_first))
    try:
        await until(lambda: _ran(calls, 1), "the first worker never started the job")
        # The first worker stalls long enough to miss its beats (a paused VM, a stuck loop):
        # its lease lapses and the second worker takes the job over.
        async with factory() as s:
            await s.execute(update(Job).values(locked_until=utcnow() - timedelta(seconds=1)))
            await s.commit()
        running_second = asyncio.create_task(second.run_forever(stop_second))
        await asyncio.wait_for(second_started.wait(), timeout=10)
        # The first worker's next heartbeat finds the claim gone and stops its run.
        await asyncio.wait_for(first_cancelled.wait(), timeout=10)
        await first.forget_finished()
        [job] = await _jobs(factory)
        assert (job.status, job.locked_by) == (RUNNING, second.worker_id)
        told = [r.getMessage() for r in caplog.records if "taken over" in r.getMessage()]
        assert told == [f"job {job.id} was taken over by another worker; stopping it here"]
        release.set()
        await until(lambda: _no_jobs(factory), "the new holder did not finish the job")
        assert calls == ["first", "second"]
    finally:
        release.set()
        stop_first.set()
        stop_second.set()
        await asyncio.wait_for(running_first, timeout=10)
        if "running_second" in locals():
            await asyncio.wait_for(running_second, timeout=10)


async def test_a_worker_that_lost_its_claim_neither_deletes_nor_fails_the_job(
    factory: Factory, settings: Settings
) -> None:
    """The bookkeeping of a run whose claim was taken over leaves the new holder's job alone."""
    await _enqueue(factory, "done")
    await _enqueue(factory, "boom")
    handed_over = asyncio.Event()

    async def done(ctx: JobContext, payload: dict[str, Any]) -> None:
        # The lease lapses while this run is under way and another worker claims both jobs.
        async with factory() as s:
            await s.execute(update(Job).values(locked_until=utcnow() - timedelta(seconds=1)))
            await s.commit()
            taken = await queue.claim(s, worker_id="successor", limit=5, lease=SHORT)
            assert len(taken) == 2
        handed_over.set()

    async def boom(ctx: JobContext, payload: dict[str, Any]) -> None:
        await asyncio.wait_for(handed_over.wait(), timeout=10)
        raise RuntimeError("failed after losing the claim")

    # No heartbeat in run_once: nothing stops these runs, only their bookkeeping is guarded.
    loser = Worker(
        JobContext(session_factory=factory, settings=settings),
        {"done": done, "boom": boom},
        concurrency=2,
        lease=SHORT,
    )
    assert await loser.run_once() == 2
    await loser.forget_finished()
    jobs = await _jobs(factory)
    assert [(j.kind, j.status, j.locked_by, j.last_error) for j in jobs] == [
        ("done", RUNNING, "successor", None),
        ("boom", RUNNING, "successor", None),
    ]


async def test_stopping_gives_unfinished_jobs_back_after_the_grace_period(
    factory: Factory, settings: Settings
) -> None:
    started = asyncio.Event()

    async def endless(ctx: JobContext, payload: dict[str, Any]) -> None:
        started.set()
        await asyncio.Event().wait()

    worker = _worker(factory, settings, {"endless": endless})
    await _enqueue(factory, "endless")
    stop = asyncio.Event()
    runner = asyncio.create_task(worker.run_forever(stop, grace=0.3))
    await asyncio.wait_for(started.wait(), timeout=10)
    stop.set()
    stopped_at = time.monotonic()
    await asyncio.wait_for(runner, timeout=10)
    assert time.monotonic() - stopped_at < 3
    [job] = await _jobs(factory)
    # Back in the queue at once, the attempt not spent: the job did nothing wrong.
    assert (job.status, job.locked_by, job.locked_until, job.attempts) == (PENDING, None, None, 0)
    assert job.run_at <= utcnow()


async def test_stopping_a_job_that_swallows_a_cancellation(
    factory: Factory, settings: Settings
) -> None:
    started = asyncio.Event()

    async def step() -> None:
        # Swallows its cancellation, as a redis-py pipeline often does.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.009)

    async def stubborn(ctx: JobContext, payload: dict[str, Any]) -> None:
        started.set()
        for _ in range(2000):  # most of the time in a step, like a fan-out writing to Redis
            # Awaiting a task that swallows the cancellation loses it for this one too.
            await asyncio.create_task(step())
            await asyncio.sleep(0.001)

    worker = _worker(factory, settings, {"stubborn": stubborn})
    await _enqueue(factory, "stubborn")
    stop = asyncio.Event()
    runner = asyncio.create_task(worker.run_forever(stop, grace=0.1))
    await asyncio.wait_for(started.wait(), timeout=10)
    stop.set()
    stopped_at = time.monotonic()
    await asyncio.wait_for(runner, timeout=30)
    assert time.monotonic() - stopped_at < 3  # not when the job got round to its end
    [job] = await _jobs(factory)
    assert (job.status, job.locked_by) == (PENDING, None)


async def _ran(calls: list[str], n: int) -> bool:
    return len(calls) >= n


async def _no_jobs(factory: Factory) -> bool:
    return not await _jobs(factory)


async def _stop_while_running(
    factory: Factory, settings: Settings, handler: Handler, grace: float
) -> tuple[Worker, float]:
    """Run ``handler`` as a job, stop the worker while it runs; the seconds stopping took."""
    started = asyncio.Event()

    async def job(ctx: JobContext, payload: dict[str, Any]) -> None:
        started.set()
        await handler(ctx, payload)

    worker = _worker(factory, settings, {"job": job})
    await _enqueue(factory, "job")
    stop = asyncio.Event()
    runner = asyncio.create_task(worker.run_forever(stop, grace=grace))
    await asyncio.wait_for(started.wait(), timeout=10)
    stop.set()
    stopped_at = time.monotonic()
    await asyncio.wait_for(runner, timeout=30)
    return worker, time.monotonic() - stopped_at


async def test_a_job_that_ends_within_the_grace_period_is_finished_not_given_back(
    factory: Factory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async def short(ctx: JobContext, payload: dict[str, Any]) -> None:
        await asyncio.sleep(0.3)

    with caplog.at_level("INFO", logger="chirp.jobs"):
        await _stop_while_running(factory, settings, short, grace=1.0)
    assert await _jobs(factory) == []  # done, and deleted as done jobs are
    assert "back to the queue" not in caplog.text


async def test_without_a_grace_period_jobs_in_hand_go_back_at_once(
    factory: Factory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async def endless(ctx: JobContext, payload: dict[str, Any]) -> None:
        await asyncio.Event().wait()

    with caplog.at_level("INFO", logger="chirp.jobs"):
        _, took = await _stop_while_running(factory, settings, endless, grace=0)
    assert took < 3
    [job] = await _jobs(factory)
    assert (job.status, job.locked_by, job.attempts) == (PENDING, None, 0)
    assert "giving 1 unfinished job(s) back to the queue" in caplog.messages


async def test_a_job_that_will_not_stop_is_reported_and_given_back(
    factory: Factory,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker_module, "STOP_WAIT", 0.3)

    async def deaf(ctx: JobContext, payload: dict[str, Any]) -> None:
        until = time.monotonic() + 3
        for _ in range(1_000_000):  # swallows every cancellation for 3 s
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)
            if time.monotonic() > until:
                break

    with caplog.at_level("INFO", logger="chirp.jobs"):
        _, took = await _stop_while_running(factory, settings, deaf, grace=0)
    assert took < 2.5  # gave up on it after STOP_WAIT instead of waiting for its end
    assert "1 job(s) did not stop when cancelled" in caplog.messages
    [job] = await _jobs(factory)
    assert (job.status, job.locked_by) == (PENDING, None)


async def test_when_jobs_cannot_be_given_back_their_leases_lapse(
    factory: Factory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    broken = False

    @contextlib.asynccontextmanager
    async def sessions() -> AsyncIterator[AsyncSession]:
        if broken:
            raise ConnectionRefusedError(111, "Connection refused")
        async with factory() as s:
            yield s

    async def endless(ctx: JobContext, payload: dict[str, Any]) -> None:
        nonlocal broken
        broken = True  # the database goes away while the job runs
        await asyncio.Event().wait()

    context = JobContext(session_factory=sessions, settings=settings)  # type: ignore[arg-type]
    worker = Worker(context, {"endless": endless}, lease=SHORT, idle_sleep=0.01)
    await _enqueue(factory, "endless")
    stop = asyncio.Event()
    with caplog.at_level("INFO", logger="chirp.jobs"):
        runner = asyncio.create_task(worker.run_forever(stop, grace=0))
        await until(lambda: _is(lambda: broken), "the job started")
        stop.set()
        await asyncio.wait_for(runner, timeout=10)
    warnings = [m for m in caplog.messages if m.startswith("could not give jobs back")]
    assert warnings == [
        "could not give jobs back, their leases will lapse: "
        "ConnectionRefusedError(111, 'Connection refused')"
    ]
    [job] = await _jobs(factory)
    assert (job.status, job.locked_by) == (RUNNING, worker.worker_id)


async def _is(check: Any) -> bool:
    return bool(check())

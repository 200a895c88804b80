"""Durable jobs: outbox semantics, retries with backoff, failures kept visible, parallel claims."""

from __future__ import annotations

import asyncio
import errno
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.db import make_session_factory, utcnow
from chirp.jobs import queue
from chirp.jobs.models import FAILED, PENDING, RUNNING, Job
from chirp.jobs.worker import Handler, JobContext, Worker
from tests.loops import until

Factory = async_sessionmaker[AsyncSession]


def _worker(db: Factory, settings: Settings, handlers: dict[str, Handler]) -> Worker:
    return Worker(JobContext(session_factory=db, settings=settings), handlers)


async def _jobs(db: Factory) -> list[Job]:
    async with db() as s:
        return list((await s.execute(select(Job).order_by(Job.id))).scalars())


async def test_job_runs_only_if_its_transaction_commits(db: Factory, settings: Settings) -> None:
    seen: list[dict[str, Any]] = []

    async def record(ctx: JobContext, payload: dict[str, Any]) -> None:
        seen.append(payload)

    async with db() as s:
        await queue.enqueue(s, "record", {"n": 1})
        await s.rollback()
    async with db() as s:
        await queue.enqueue(s, "record", {"n": 2})
        await s.commit()
    ran = await _worker(db, settings, {"record": record}).drain()
    assert ran == 1
    assert seen == [{"n": 2}]
    assert await _jobs(db) == []  # done jobs are removed


async def test_failures_retry_with_backoff_then_stay_failed(
    db: Factory, settings: Settings
) -> None:
    async def boom(ctx: JobContext, payload: dict[str, Any]) -> None:
        raise RuntimeError("disk on fire")

    async with db() as s:
        await queue.enqueue(s, "boom", {})
        await s.execute(update(Job).where(Job.kind == "boom").values(max_attempts=2))
        await s.commit()
    worker = _worker(db, settings, {"boom": boom})
    assert await worker.drain() == 1
    [job] = await _jobs(db)
    assert job.status == PENDING and job.attempts == 1
    assert job.run_at > utcnow()  # backed off, not immediately retried
    assert "disk on fire" in (job.last_error or "")

    async with db() as s:  # let the backoff elapse
        await s.execute(update(Job).values(run_at=utcnow()))
        await s.commit()
    assert await worker.drain() == 1
    [job] = await _jobs(db)
    assert job.status == FAILED and job.attempts == 2

    async with db() as s:
        stats = await queue.stats(s)
        assert (stats.pending, stats.running, stats.failed) == (0, 0, 1)
        assert "disk on fire" in stats.last_errors[0][3]
        assert await queue.retry_failed(s) == 1
    [job] = await _jobs(db)
    assert job.status == PENDING and job.attempts == 0


async def test_a_job_the_database_timed_out_is_postponed_without_spending_an_attempt(
    engine: AsyncEngine, settings: Settings
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("statement_timeout is a PostgreSQL setting")
    factory = make_session_factory(engine)

    async def overloaded(ctx: JobContext, payload: dict[str, Any]) -> None:
        # A real statement cancelled by the server, as an overloaded database does.
        async with ctx.session_factory() as s:
            await s.execute(text("SET LOCAL statement_timeout = 20"))
            await s.execute(text("SELECT pg_sleep(2)"))

    try:
        async with factory() as s:
            await queue.enqueue(s, "overloaded", {})
            await s.commit()
        assert await _worker(factory, settings, {"overloaded": overloaded}).drain() == 1
        [job] = await _jobs(factory)
        assert (job.status, job.attempts) == (PENDING, 0)  # retried soon, attempt not spent
        assert job.run_at > utcnow() - timedelta(seconds=1)
        assert "QueryCanceled" in (job.last_error or "")
    finally:
        async with factory() as s:
            await s.execute(delete(Job))
            await s.commit()


async def test_unknown_kind_fails_visibly(db: Factory, settings: Settings) -> None:
    async with db() as s:
        await queue.enqueue(s, "nonesuch", {})
        await s.commit()
    await _worker(db, settings, {}).drain()
    [job] = await _jobs(db)
    assert "no handler" in (job.last_error or "")


async def test_a_dead_workers_job_is_taken_over_after_its_lease(
    db: Factory, settings: Settings
) -> None:
    runs: list[int] = []

    async def count(ctx: JobContext, payload: dict[str, Any]) -> None:
        runs.append(1)

    async with db() as s:
        await queue.enqueue(s, "count", {})
        await s.commit()
        claimed = await queue.claim(s, worker_id="dead", limit=5, lease=timedelta(minutes=5))
        assert len(claimed) == 1
    worker = _worker(db, settings, {"count": count})
    assert await worker.drain() == 0  # still leased to the dead worker
    async with db() as s:
        await s.execute(update(Job).values(locked_until=utcnow() - timedelta(seconds=1)))
        await s.commit()
    assert await worker.drain() == 1
    assert runs == [1]


async def test_parallel_workers_claim_each_job_once(
    engine: AsyncEngine, settings: Settings
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED parallel claims are a PostgreSQL feature")
    factory = make_session_factory(engine)
    ran: list[int] = []

    async def note(ctx: JobContext, payload: dict[str, Any]) -> None:
        await asyncio.sleep(0.001)
        ran.append(payload["n"])

    try:
        async with factory() as s:
            for n in range(200):
                await queue.enqueue(s, "note", {"n": n})
            await s.commit()
        workers = [_worker(factory, settings, {"note": note}) for _ in range(4)]
        await asyncio.gather(*(w.drain() for w in workers))
        assert sorted(ran) == list(range(200))
    finally:
        async with factory() as s:
            await s.execute(delete(Job))
            await s.commit()


async def test_a_long_job_does_not_hold_back_jobs_queued_after_it(
    engine: AsyncEngine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    factory = make_session_factory(engine)
    started, release, quick_ran = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow(ctx: JobContext, payload: dict[str, Any]) -> None:
        started.set()
        await release.wait()

    async def quick(ctx: JobContext, payload: dict[str, Any]) -> None:
        quick_ran.set()

    context = JobContext(session_factory=factory, settings=settings)
    worker = Worker(context, {"slow": slow, "quick": quick}, concurrency=2, idle_sleep=0.01)
    stop = asyncio.Event()
    try:
        async with factory() as s:
            await queue.enqueue(s, "slow", {})
            await s.commit()
        caplog.set_level(logging.WARNING, logger="chirp.jobs")
        runner = asyncio.create_task(worker.run_forever(stop))
        await asyncio.wait_for(started.wait(), timeout=10)
        async with factory() as s:
            await queue.enqueue(s, "quick", {})
            await s.commit()
        # A worker that waited for its whole batch would sit behind the slow job forever.
        await asyncio.wait_for(quick_ran.wait(), timeout=10)

        # The quick job is forgotten while the worker runs on, not only when it stops.
        async def only_slow_left() -> bool:
            return [job.kind for job in await _jobs(factory)] == ["slow"]

        await until(only_slow_left, "the quick job was not forgotten")

        stop.set()
        await asyncio.sleep(0.05)
        assert not runner.done()  # stopping lets the running job finish
        release.set()
        await asyncio.wait_for(runner, timeout=10)
        assert await _jobs(factory) == []  # both completed, none left claimed
        assert caplog.records == []  # jobs that succeed are not worth a warning
    finally:
        release.set()
        stop.set()
        async with factory() as s:
            await s.execute(delete(Job))
            await s.commit()


async def test_drain_counts_the_jobs_that_jobs_queue_too(db: Factory, settings: Settings) -> None:
    async def chain(ctx: JobContext, payload: dict[str, Any]) -> None:
        if payload["left"]:
            async with ctx.session_factory() as s:
                await queue.enqueue(s, "chain", {"left": payload["left"] - 1})
                await s.commit()

    async with db() as s:
        await queue.enqueue(s, "chain", {"left": 2})
        await s.commit()
    # Each job is claimed in a round of its own, after the one that queued it.
    assert await _worker(db, settings, {"chain": chain}).drain() == 3
    assert await _jobs(db) == []


async def test_a_failed_job_logs_its_id_kind_attempt_and_whole_traceback(
    db: Factory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(ctx: JobContext, payload: dict[str, Any]) -> None:
        raise RuntimeError("disk on fire")

    async with db() as s:
        await queue.enqueue(s, "boom", {})
        await s.commit()
    [queued] = await _jobs(db)
    job_id = queued.id
    with caplog.at_level(logging.WARNING, logger="chirp.jobs"):
        assert await _worker(db, settings, {"boom": boom}).drain() == 1
    [job] = await _jobs(db)
    error = job.last_error or ""
    assert error.startswith("Traceback (most recent call last):\n")
    assert error.endswith("RuntimeError: disk on fire\n") and "\n  File " in error
    assert [r.getMessage() for r in caplog.records] == [
        f"job {job_id} (boom) failed, attempt 1: {error}"
    ]


async def test_a_dropped_connection_postpones_jobs_and_is_logged_once_per_kind(
    db: Factory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async def cut(ctx: JobContext, payload: dict[str, Any]) -> None:
        if payload["timeout"]:
            raise TimeoutError("no answer")
        raise ConnectionError("reset by peer")  # no errno: a plain dropped connection

    async with db() as s:
        for timeout in (False, False, True, False, True):
            await queue.enqueue(s, "cut", {"timeout": timeout})
        await s.commit()
    with caplog.at_level(logging.WARNING, logger="chirp.jobs"):
        assert await _worker(db, settings, {"cut": cut}).drain() == 5
    jobs = await _jobs(db)
    assert [(j.status, j.attempts, j.locked_by) for j in jobs] == [(PENDING, 0, None)] * 5
    assert [j.last_error for j in jobs] == [
        "ConnectionError('reset by peer')",
        "ConnectionError('reset by peer')",
        "TimeoutError('no answer')",
        "ConnectionError('reset by peer')",
        "TimeoutError('no answer')",
    ]
    assert all(j.run_at > utcnow() for j in jobs)  # a second later, not at once
    assert sorted(r.getMessage() for r in caplog.records) == [
        "jobs postponed: ConnectionError: reset by peer",
        "jobs postponed: TimeoutError: no answer",
    ]


class _GoesAway:
    """A session factory that works until ``away`` is set, then fails with each error in turn."""

    def __init__(self, db: Factory, errors: list[Exception]) -> None:
        self.db = db
        self.errors = errors
        self.away = False

    def __call__(self) -> AsyncSession:
        if self.away and self.errors:
            raise self.errors.pop(0)
        return self.db()


async def test_a_failure_that_cannot_be_recorded_leaves_the_claim_to_lapse_and_says_so(
    db: Factory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    factory = _GoesAway(db, [refused, OSError("disk full")])

    async def boom(ctx: JobContext, payload: dict[str, Any]) -> None:
        factory.away = True  # the database goes away while the jobs run
        raise RuntimeError("disk on fire")

    async with db() as s:
        await queue.enqueue(s, "boom", {})
        await queue.enqueue(s, "boom", {})
        await s.commit()
    ids = [job.id for job in await _jobs(db)]
    errors = ["ConnectionRefusedError: [Errno 111] Connection refused", "OSError: disk full"]

    def order_of(lines: list[str], job_ids: list[int]) -> list[str]:
        # The two jobs run at once: which met which error is up to the event loop.
        first = any(f"job {job_ids[0]}'s" in line and errors[0] in line for line in lines)
        return errors if first else errors[::-1]

    worker = Worker(JobContext(session_factory=factory, settings=settings), {"boom": boom})  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="chirp.jobs"):
        assert await worker.run_once() == 2
    jobs = await _jobs(db)
    assert [(j.status, j.attempts, j.last_error) for j in jobs] == [(RUNNING, 1, None)] * 2
    lapse = [r.getMessage() for r in caplog.records if "its lease will lapse" in r.getMessage()]
    # One line per kind of failure: two different ones are both told, each with its job.
    assert sorted(lapse) == sorted(
        f"could not record job {job_id}'s outcome, its lease will lapse: {error}"
        for job_id, error in zip(ids, order_of(lapse, ids), strict=True)
    )


async def test_a_claim_passes_over_jobs_another_worker_holds_and_takes_no_more_than_asked(
    engine: AsyncEngine,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers instead")
    factory = make_session_factory(engine)
    try:
        async with factory() as s:
            for i in range(5):
                await queue.enqueue(s, "noop", {"i": i})
            await s.commit()
        ids = [job.id for job in await _jobs(factory)]
        # Another worker's claim in progress: its transaction holds the first job's row.
        async with engine.connect() as other, other.begin():
            await other.execute(select(Job.id).where(Job.id == ids[0]).with_for_update())
            async with factory() as s:
                claim = queue.claim(s, worker_id="w1", limit=2, lease=timedelta(seconds=30))
                jobs = await asyncio.wait_for(claim, timeout=10)  # not waiting for that row
        assert [job.id for job in jobs] == ids[1:3]
        held = [job.id for job in await _jobs(factory) if job.locked_by == "w1"]
        assert held == ids[1:3]
    finally:
        async with factory() as s:
            await s.execute(delete(Job))
            await s.commit()


async def _noop(ctx: JobContext, payload: dict[str, Any]) -> None:
    return None


async def test_a_failing_heartbeat_is_told_once_and_again_when_it_recovers(
    db: Factory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    factory = _GoesAway(db, [OSError("db down")] * 3)
    worker = Worker(JobContext(session_factory=factory, settings=settings), {"noop": _noop})  # type: ignore[arg-type]
    async with db() as s:
        await queue.enqueue(s, "noop", {})
        await s.commit()
    assert await worker.run_once() == 1  # its claim is held until the next claim forgets it
    factory.away = True
    with caplog.at_level(logging.INFO, logger="chirp.jobs"):
        for _ in range(5):  # three beats fail, then two succeed
            await worker.heartbeat()
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "job heartbeat failed, claims may lapse: OSError('db down')"),
        (logging.INFO, "job heartbeat recovered"),
    ]


async def test_finished_jobs_are_forgotten_except_those_another_worker_took_over(
    db: Factory, settings: Settings
) -> None:
    worker = _worker(db, settings, {"noop": _noop})
    async with db() as s:
        await queue.enqueue(s, "noop", {"n": 1})
        await queue.enqueue(s, "noop", {"n": 2})
        await s.commit()
    assert await worker.run_once() == 2
    _mine, taken = [job.id for job in await _jobs(db)]
    async with db() as s:  # the second one's lease lapsed and another worker claimed it
        await s.execute(update(Job).where(Job.id == taken).values(locked_by="other"))
        await s.commit()
    await worker.heartbeat()
    assert await worker.run_once() == 0  # its claim forgets the finished job it still held
    assert [(job.id, job.locked_by) for job in await _jobs(db)] == [(taken, "other")]


async def test_no_more_jobs_run_at_once_than_the_concurrency_and_a_freed_slot_refills_at_once(
    engine: AsyncEngine, settings: Settings
) -> None:
    factory = make_session_factory(engine)
    release = {n: asyncio.Event() for n in range(4)}
    started: list[int] = []
    active, most = 0, 0

    async def held(ctx: JobContext, payload: dict[str, Any]) -> None:
        nonlocal active, most
        started.append(payload["n"])
        active += 1
        most = max(most, active)
        await release[payload["n"]].wait()
        active -= 1

    context = JobContext(session_factory=factory, settings=settings)
    # A long idle pause: only a finished job, not the pause running out, can refill a slot.
    worker = Worker(context, {"held": held}, concurrency=2, batch=10, idle_sleep=30)
    stop = asyncio.Event()
    try:
        async with factory() as s:
            for n in range(4):
                await queue.enqueue(s, "held", {"n": n})
            await s.commit()
        runner = asyncio.create_task(worker.run_forever(stop, grace=None))

        async def started_count(n: int) -> bool:
            return len(started) == n

        await until(lambda: started_count(2), "both slots did not fill")
        await asyncio.sleep(0.2)
        assert sorted(started) == [0, 1] and most == 2
        release[1].set()
        await until(lambda: started_count(3), "the freed slot was not refilled")
        assert sorted(started) == [0, 1, 2] and most == 2  # job 0 still runs
        for event in release.values():
            event.set()
        await until(lambda: started_count(4), "the last job never started")
        stop.set()
        await asyncio.wait_for(runner, timeout=10)
        assert sorted(started) == [0, 1, 2, 3] and most == 2
    finally:
        for event in release.values():
            event.set()
        stop.set()
        async with factory() as s:
            await s.execute(delete(Job))
            await s.commit()


async def test_forgetting_finished_jobs_claims_none_of_those_still_queued(
    db: Factory, settings: Settings
) -> None:
    worker = _worker(db, settings, {"noop": _noop})
    async with db() as s:
        await queue.enqueue(s, "noop", {"n": 1})
        await s.commit()
    assert await worker.run_once() == 1
    async with db() as s:  # queued after that claim, as a stopping worker may find
        await queue.enqueue(s, "noop", {"n": 2})
        await s.commit()
    await worker.forget_finished()
    [left] = await _jobs(db)
    assert (left.payload, left.status, left.locked_by) == ({"n": 2}, PENDING, None)

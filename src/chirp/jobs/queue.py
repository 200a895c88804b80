"""Enqueue, claim, finish and inspect jobs; the same SQL on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Insert, Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import utcnow
from chirp.ids import new_id
from chirp.jobs.models import FAILED, MAX_ATTEMPTS, PENDING, RUNNING, Job

MAX_BACKOFF = timedelta(minutes=30)


@dataclass(frozen=True)
class QueueStats:
    """Counts by state and the most recent errors."""

    pending: int
    running: int
    failed: int
    last_errors: list[tuple[int, str, int, str]]  # (id, kind, attempts, error)


async def enqueue(
    session: AsyncSession, kind: str, payload: dict[str, Any], *, delay: float = 0
) -> None:
    """Record a job in the caller's transaction: it runs only if that transaction commits."""
    await session.execute(job_insert(kind, payload, delay=delay))


def job_insert(kind: str, payload: dict[str, Any], *, delay: float = 0) -> Insert:
    """The INSERT that records a job, for callers that run it as part of a larger statement."""
    now = utcnow()
    # A plain INSERT: every post and follow enqueues, and the unit of work's flush cost
    # several times the statement itself. Every column is given, as column defaults are
    # not filled in when the INSERT is part of a WITH.
    return insert(Job).values(
        id=new_id(),
        kind=kind,
        payload=payload,
        status=PENDING,
        attempts=0,
        max_attempts=MAX_ATTEMPTS,
        run_at=now + timedelta(seconds=delay),
        created_at=now,
        updated_at=now,
    )


def _claimable(now: Any) -> Any:
    return or_(
        and_(Job.status == PENDING, Job.run_at <= now),
        and_(Job.status == RUNNING, Job.locked_until < now),
    )


async def claim(
    session: AsyncSession,
    *,
    worker_id: str,
    limit: int,
    lease: timedelta,
    finished: Sequence[int] = (),
) -> list[Job]:
    """Forget the ``finished`` jobs, take up to ``limit`` ready ones, and commit both.

    A finished job is deleted only while ``worker_id`` still holds it: one whose claim was
    taken over belongs to the worker that took it.
    """
    if finished:
        await session.execute(delete(Job).where(Job.id.in_(finished), Job.locked_by == worker_id))
    if limit <= 0:
        await session.commit()
        return []
    now = utcnow()
    # SKIP LOCKED lets parallel workers on PostgreSQL claim different rows without waiting;
    # SQLite ignores it and serialises writers instead. The pick is a MATERIALIZED CTE, run
    # once: as a plain IN (subquery) PostgreSQL may run it again for each row it checks, and
    # each run skips the rows the last one locked, so a claim took more than ``limit`` jobs.
    picked = (
        select(Job.id)
        .where(_claimable(now))
        .order_by(Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("picked")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    stmt = (
        update(Job)
        .where(Job.id.in_(select(picked.c.id)))
        .values(
            status=RUNNING,
            locked_until=now + lease,
            locked_by=worker_id,
            attempts=Job.attempts + 1,
            updated_at=now,
        )
        .returning(Job)
        .execution_options(synchronize_session=False)
    )
    jobs = list((await session.execute(stmt)).scalars())
    await session.commit()
    return sorted(jobs, key=lambda j: j.id)


async def renew(
    session: AsyncSession, *, worker_id: str, ids: Sequence[int], lease: timedelta
) -> set[int]:
    """Extend this worker's claims on ``ids`` by ``lease``; return the ids it still holds.

    One UPDATE by primary key for all of a worker's claims: its heartbeat.
    """
    if not ids:
        return set()
    now = utcnow()
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(ids), Job.locked_by == worker_id, Job.status == RUNNING)
        .values(locked_until=now + lease)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    kept = set(result.scalars())
    await session.commit()
    return kept


async def release(session: AsyncSession, *, worker_id: str, ids: Sequence[int]) -> int:
    """Give claimed jobs back to the queue at once, without spending an attempt."""
    if not ids:
        return 0
    now = utcnow()
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(ids), Job.locked_by == worker_id, Job.status == RUNNING)
        .values(
            status=PENDING,
            attempts=Job.attempts - 1,
            run_at=now,
            locked_until=None,
            locked_by=None,
            updated_at=now,
        )
    )
    await session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def _held(job: Job) -> Any:
    # The claim that ``job`` was read with: another worker's takeover changes locked_by.
    return and_(Job.id == job.id, Job.locked_by == job.locked_by)


async def fail(session: AsyncSession, job: Job, error: str) -> None:
    """Schedule a retry with exponential backoff, or mark the job failed for good."""
    now = utcnow()
    gave_up = job.attempts >= job.max_attempts
    backoff = min(timedelta(seconds=2 ** min(job.attempts, 20)), MAX_BACKOFF)
    await session.execute(
        update(Job)
        .where(_held(job))
        .values(
            status=FAILED if gave_up else PENDING,
            run_at=now if gave_up else now + backoff,
            locked_until=None,
            locked_by=None,
            last_error=error[-4000:],
            updated_at=now,
        )
    )
    await session.commit()


async def postpone(session: AsyncSession, job: Job, error: str, *, delay: timedelta) -> None:
    """Retry a job after ``delay`` without spending an attempt (its dependency was down)."""
    now = utcnow()
    await session.execute(
        update(Job)
        .where(_held(job))
        .values(
            status=PENDING,
            attempts=Job.attempts - 1,
            run_at=now + delay,
            locked_until=None,
            locked_by=None,
            last_error=error[-4000:],
            updated_at=now,
        )
    )
    await session.commit()


async def stats(session: AsyncSession, *, errors: int = 10) -> QueueStats:
    """Return counts of pending, running and failed jobs and the latest errors."""
    rows = await session.execute(select(Job.status, func.count()).group_by(Job.status))
    counts = {status: int(n) for status, n in rows.all()}
    recent = await session.execute(
        select(Job.id, Job.kind, Job.attempts, Job.last_error)
        .where(Job.last_error.is_not(None))
        .order_by(Job.updated_at.desc())
        .limit(errors)
    )
    return QueueStats(
        pending=counts.get(PENDING, 0),
        running=counts.get(RUNNING, 0),
        failed=counts.get(FAILED, 0),
        last_errors=[(r[0], r[1], r[2], r[3] or "") for r in recent.all()],
    )


async def retry_failed(session: AsyncSession) -> int:
    """Put every failed job back in the queue with a fresh set of attempts."""
    result = await session.execute(
        update(Job)
        .where(Job.status == FAILED)
        .values(status=PENDING, attempts=0, run_at=utcnow(), updated_at=utcnow())
    )
    await session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def unfinished_query(kinds: Iterable[str], *, before: datetime) -> Select[int]:
    """A job of one of ``kinds`` recorded before ``before`` and not yet done, if any."""
    return (
        select(Job.id)
        .where(
            Job.status.in_((PENDING, RUNNING)),
            Job.kind.in_(tuple(kinds)),
            Job.created_at <= before,
        )
        .limit(1)
    )

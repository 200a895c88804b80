"""What each queue transition leaves behind: backoff, failure records, releases, retries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.db import utcnow
from chirp.jobs import queue
from chirp.jobs.models import FAILED, MAX_ATTEMPTS, PENDING, RUNNING, Job

Factory = async_sessionmaker[AsyncSession]
LEASE = timedelta(seconds=30)


@pytest.fixture(autouse=True)
async def _empty_queue(db: Factory) -> None:
    # Jobs other tests committed on the shared database would be claimed here too; this
    # test's transaction deletes them, and rolls that back at its end.
    async with db() as s:
        await s.execute(delete(Job))
        await s.commit()


async def _enqueue(db: Factory, n: int, **values: object) -> list[int]:
    async with db() as s:
        for i in range(n):
            await queue.enqueue(s, "noop", {"i": i})
        await s.commit()
        ids = list((await s.execute(select(Job.id).order_by(Job.id))).scalars())
        if values:
            await s.execute(update(Job).values(**values))
            await s.commit()
    return ids


async def _claim(db: Factory, worker: str, limit: int) -> list[Job]:
    async with db() as s:
        return await queue.claim(s, worker_id=worker, limit=limit, lease=LEASE)


async def _job(db: Factory, job_id: int) -> Job:
    async with db() as s:
        job = await s.get(Job, job_id)
        assert job is not None
        return job


async def test_a_failed_attempt_waits_twice_as_long_as_the_one_before_up_to_30_minutes(
    db: Factory,
) -> None:
    # attempts before the claim -> the wait after its failure, in seconds
    expected = {0: 2, 1: 4, 2: 8, 4: 32, 9: 1024, 10: 1800, 30: 1800}
    for before, wait in expected.items():
        async with db() as s:
            await s.execute(delete(Job))
            await s.commit()
        [job_id] = await _enqueue(db, 1, attempts=before, max_attempts=99)
        [job] = await _claim(db, "w1", 1)
        start = utcnow()
        async with db() as s:
            await queue.fail(s, job, "boom")
        end = utcnow()
        after = await _job(db, job_id)
        assert after.status == PENDING
        assert start + timedelta(seconds=wait) <= after.run_at <= end + timedelta(seconds=wait), (
            before,
            after.run_at - start,
        )


async def test_a_job_waiting_for_its_retry_is_held_by_no_worker(db: Factory) -> None:
    [job_id] = await _enqueue(db, 1)
    [job] = await _claim(db, "w1", 1)
    async with db() as s:
        await queue.fail(s, job, "boom")
    after = await _job(db, job_id)
    assert (after.status, after.locked_by, after.locked_until) == (PENDING, None, None)


async def test_a_job_that_gives_up_keeps_the_end_of_its_error(db: Factory) -> None:
    [job_id] = await _enqueue(db, 1, max_attempts=1)
    [job] = await _claim(db, "w1", 1)
    error = "Traceback (most recent call last):\n" + "x" * 5000 + "\nRuntimeError: the cause"
    async with db() as s:
        await queue.fail(s, job, error)
    after = await _job(db, job_id)
    assert (after.status, after.locked_by, after.locked_until) == (FAILED, None, None)
    assert after.last_error == error[-4000:]
    assert after.last_error is not None and len(after.last_error) == 4000


async def test_the_latest_errors_come_first(db: Factory) -> None:
    await _enqueue(db, 2)
    # Claimed one after the other, failed in the opposite order: the later failure is first.
    [first] = await _claim(db, "w1", 1)
    [second] = await _claim(db, "w1", 1)
    async with db() as s:
        await queue.fail(s, second, "second failed first")
    async with db() as s:
        await queue.fail(s, first, "first failed last")
        stats = await queue.stats(s)
    assert [error for _, _, _, error in stats.last_errors] == [
        "first failed last",
        "second failed first",
    ]


async def test_releasing_gives_back_only_the_named_jobs_this_worker_holds(db: Factory) -> None:
    a1, a2, a3, b1 = await _enqueue(db, 4)
    assert [j.id for j in await _claim(db, "a", 3)] == [a1, a2, a3]
    assert [j.id for j in await _claim(db, "b", 1)] == [b1]
    async with db() as s:
        assert await queue.release(s, worker_id="a", ids=[]) == 0
        assert await queue.release(s, worker_id="a", ids=[a1, a2, b1]) == 2
    for job_id in (a1, a2):
        job = await _job(db, job_id)
        # Given back without spending an attempt, and claimable at once.
        assert (job.status, job.attempts, job.locked_by) == (PENDING, 0, None)
        assert job.run_at <= utcnow()
    kept_a, kept_b = await _job(db, a3), await _job(db, b1)
    assert (kept_a.status, kept_a.locked_by) == (RUNNING, "a")
    assert (kept_b.status, kept_b.locked_by) == (RUNNING, "b")
    assert sorted(j.id for j in await _claim(db, "c", 4)) == [a1, a2]


async def test_retrying_failed_jobs_makes_only_them_claimable_with_fresh_attempts(
    db: Factory,
) -> None:
    failed, pending = await _enqueue(db, 2)
    async with db() as s:
        await s.execute(update(Job).where(Job.id == failed).values(status=FAILED, attempts=8))
        await s.execute(
            update(Job).where(Job.id == pending).values(run_at=utcnow() + timedelta(hours=1))
        )
        await s.commit()
        assert await queue.retry_failed(s) == 1
        assert await queue.retry_failed(s) == 0
    [job] = await _claim(db, "w1", 5)
    assert (job.id, job.attempts) == (failed, 1)


async def test_a_claim_takes_at_most_its_limit(db: Factory) -> None:
    ids = await _enqueue(db, 11)
    taken: list[int] = []
    for limit in (1, 3, 2, 5):
        claimed = [job.id for job in await _claim(db, f"w{limit}", limit)]
        assert claimed == ids[len(taken) : len(taken) + limit], limit
        taken += claimed
    assert await _claim(db, "late", 5) == []


async def test_unfinished_jobs_are_those_pending_or_running_of_the_kinds_asked_recorded_by_then(
    db: Factory,
) -> None:
    fence = utcnow()
    ids = await _enqueue(db, 5)
    earlier = fence - timedelta(seconds=5)
    later = fence + timedelta(seconds=5)
    # (status, kind, recorded at) per job; only the first two are unfinished "noop" jobs by then.
    shapes = [
        (PENDING, "noop", earlier),
        (RUNNING, "noop", fence),
        (FAILED, "noop", earlier),
        (PENDING, "other", earlier),
        (PENDING, "noop", later),
    ]
    async with db() as s:
        for job_id, (status, kind, at) in zip(ids, shapes, strict=True):
            await s.execute(
                update(Job).where(Job.id == job_id).values(status=status, kind=kind, created_at=at)
            )
        await s.commit()

    async def found(*unfinished: int) -> bool:
        async with db() as s:
            await s.execute(delete(Job).where(Job.id.not_in(unfinished)))
            hit = await s.scalar(queue.unfinished_query(["noop", "third"], before=fence))
            await s.rollback()
        return hit is not None

    assert await found(ids[0]) and await found(ids[1])
    assert not any([await found(ids[2]), await found(ids[3]), await found(ids[4])])


async def test_the_queue_summary_counts_each_state_and_lists_the_latest_errors_first(
    db: Factory,
) -> None:
    async with db() as s:
        empty = await queue.stats(s)
    assert (empty.pending, empty.running, empty.failed, empty.last_errors) == (0, 0, 0, [])

    ids = await _enqueue(db, 13)
    start = utcnow() - timedelta(hours=1)
    statuses = [PENDING, PENDING, RUNNING] + [FAILED] * 10
    async with db() as s:
        for n, (job_id, status) in enumerate(zip(ids, statuses, strict=True)):
            await s.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(
                    status=status,
                    kind=f"kind{n}",
                    attempts=n + 1,
                    # the first pending job never failed; the others in the order they did
                    last_error=None if n == 0 else f"error {n}",
                    updated_at=start + timedelta(minutes=n),
                )
            )
        await s.commit()
        summary = await queue.stats(s, errors=2)
        default = await queue.stats(s)
    assert (summary.pending, summary.running, summary.failed) == (2, 1, 10)
    assert summary.last_errors == [
        (ids[12], "kind12", 13, "error 12"),
        (ids[11], "kind11", 12, "error 11"),
    ]
    assert [e[0] for e in default.last_errors] == ids[12:2:-1]  # the 10 latest of 12


async def test_a_postponed_job_is_held_by_no_worker_and_keeps_its_attempt(db: Factory) -> None:
    first, second = await _enqueue(db, 2)
    failed, postponed = await _claim(db, "w1", 2)
    assert (failed.id, postponed.id, postponed.attempts) == (first, second, 1)
    async with db() as s:
        await queue.fail(s, failed, "an older error")
    error = "Traceback (most recent call last):\n" + "x" * 5000 + "\nOSError: the cause"
    before = utcnow()
    async with db() as s:
        await queue.postpone(s, postponed, error, delay=timedelta(minutes=5))
    after = await _job(db, second)
    assert (after.status, after.attempts, after.locked_by, after.locked_until) == (
        PENDING,
        0,
        None,
        None,
    )
    assert after.last_error == error[-4000:] and len(after.last_error) == 4000
    assert before + timedelta(minutes=5) <= after.run_at <= utcnow() + timedelta(minutes=5)
    async with db() as s:
        summary = await queue.stats(s)
    assert [e[0] for e in summary.last_errors] == [second, first]  # the latest first


async def test_a_heartbeat_renews_only_the_claims_it_names_that_this_worker_holds(
    db: Factory,
) -> None:
    ids = await _enqueue(db, 3)
    mine = await _claim(db, "w1", 2)
    theirs = await _claim(db, "w2", 1)
    assert [j.id for j in mine] == ids[:2] and [j.id for j in theirs] == ids[2:]
    before = {job_id: (await _job(db, job_id)).locked_until for job_id in ids}
    async with db() as s:
        kept = await queue.renew(s, worker_id="w1", ids=[ids[0], ids[2]], lease=LEASE * 10)
    assert kept == {ids[0]}  # not the other worker's job
    after = {job_id: (await _job(db, job_id)).locked_until for job_id in ids}
    assert after[ids[0]] > before[ids[0]]
    assert after[ids[1]] == before[ids[1]]  # held by w1, but not named: left to lapse
    assert after[ids[2]] == before[ids[2]]


async def test_a_delayed_job_waits_its_delay_before_any_worker_claims_it(db: Factory) -> None:
    async with db() as s:
        await queue.enqueue(s, "later", {}, delay=60)
        await queue.enqueue(s, "now", {})
        await s.commit()
    before = utcnow()
    assert [j.kind for j in await _claim(db, "w1", 10)] == ["now"]
    async with db() as s:
        later = (await s.execute(select(Job).where(Job.kind == "later"))).scalar_one()
    assert before + timedelta(seconds=55) <= later.run_at <= utcnow() + timedelta(seconds=60)
    async with db() as s:  # its minute passes
        await s.execute(update(Job).where(Job.kind == "later").values(run_at=utcnow()))
        await s.commit()
    assert [j.kind for j in await _claim(db, "w1", 10)] == ["later"]


async def test_a_job_recorded_inside_a_larger_statement_is_ready_at_once(db: Factory) -> None:
    async with db() as s:
        await s.execute(queue.job_insert("inline", {"n": 1}))
        await s.commit()
    [job] = await _claim(db, "w1", 10)
    assert (job.kind, job.payload, job.attempts, job.max_attempts) == (
        "inline",
        {"n": 1},
        1,
        MAX_ATTEMPTS,
    )

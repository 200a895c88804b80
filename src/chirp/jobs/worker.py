"""The job runner: claims ready jobs and runs their handlers, in a worker or the web process."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.jobs import queue
from chirp.jobs.models import Job
from chirp.ops import failures
from chirp.ops.logging import FailureLog
from chirp.streaming.bus import Publisher
from chirp.timeline.cache import TimelineCache

log = logging.getLogger("chirp.jobs")

# A claim lasts LEASE without a heartbeat; a live worker renews its claims every quarter of
# it, so a dead worker's jobs are taken over within LEASE and a live one can miss three beats.
LEASE = timedelta(seconds=6)
HEARTBEATS_PER_LEASE = 4
# How long a web process that runs jobs lets them finish once its requests are done.
EMBEDDED_JOBS_GRACE_SECONDS = 1.0
# How long stopping a job may take once it is cancelled, before the worker gives up on it.
STOP_WAIT = 5.0
# Errors that mean a dependency (Redis) is down rather than that the job is wrong: retried
# every second, without spending attempts, so work catches up as soon as it is back.
TRANSIENT: tuple[type[BaseException], ...] = (RedisError, ConnectionError, TimeoutError)
TRANSIENT_DELAY = timedelta(seconds=1)
# The longest pause between claims while they fail (the database is unreachable).
CLAIM_BACKOFF_MAX = 5.0


@dataclass
class JobContext:
    """What a handler may use; handlers open their own sessions from ``session_factory``."""

    session_factory: async_sessionmaker[AsyncSession]
    settings: Settings
    timeline_cache: TimelineCache | None = None
    # Where live events go (``streaming``); None in a process no stream can hear.
    events: Publisher | None = None


Handler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]


class Worker:
    """Claims and runs jobs until stopped; any number may run side by side."""

    def __init__(
        self,
        context: JobContext,
        handlers: Mapping[str, Handler],
        *,
        concurrency: int = 1,
        batch: int = 10,
        idle_sleep: float = 0.1,
        lease: timedelta = LEASE,
    ) -> None:
        self.context = context
        self.handlers = handlers
        self.concurrency = max(1, concurrency)
        self.batch = batch
        self.idle_sleep = idle_sleep
        self.lease = lease
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        # Jobs that succeeded, deleted with the next claim: one transaction instead of two.
        # A crash in between runs them again once their lease ends; every job is idempotent.
        self._finished: list[int] = []
        self._failures = FailureLog(log)
        # Jobs being run by ``run_forever``, whose claims the heartbeat renews.
        self._in_hand: dict[int, asyncio.Task[None]] = {}
        self._stoppers: set[asyncio.Task[set[asyncio.Task[None]]]] = set()
        self._heartbeat_failing = False

    @property
    def heartbeat_interval(self) -> float:
        """Seconds between two renewals of this worker's claims."""
        return self.lease.total_seconds() / HEARTBEATS_PER_LEASE

    async def _claim(self, limit: int) -> list[Job]:
        finished, self._finished = self._finished, []
        try:
            async with self.context.session_factory() as session:
                return await queue.claim(
                    session,
                    worker_id=self.worker_id,
                    limit=limit,
                    lease=self.lease,
                    finished=finished,
                )
        except BaseException:
            self._finished.extend(finished)
            raise

    async def forget_finished(self) -> None:
        """Delete the jobs that succeeded since the last claim."""
        if self._finished:
            await self._claim(0)

    async def run_once(self) -> int:
        """Claim one batch of ready jobs, run them, and return how many ran."""
        jobs = await self._claim(self.batch)
        semaphore = asyncio.Semaphore(self.concurrency)

        async def guarded(job: Job) -> None:
            async with semaphore:
                await self._run(job)

        await asyncio.gather(*(guarded(job) for job in jobs))
        return len(jobs)

    async def _run(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            await handler(self.context, job.payload)
        except Exception as exc:
            await self._record_failure(job, exc)
            return
        self._finished.append(job.id)

    async def _record_failure(self, job: Job, exc: Exception) -> None:
        """Postpone a job whose store was unreachable (no attempt spent); fail it otherwise."""
        cause = exc if isinstance(exc, TRANSIENT) else failures.unavailability(exc)
        try:
            if cause is not None:
                # Redis or the database is away: the job is not at fault, so it spends no
                # attempt, and an outage logs a line per kind every few seconds, not per job.
                self._failures.report(
                    f"postponed:{type(cause).__name__}",
                    f"jobs postponed: {failures.describe(cause)}",
                )
                async with self.context.session_factory() as session:
                    await queue.postpone(session, job, repr(cause), delay=TRANSIENT_DELAY)
                return
            error = "".join(traceback.format_exception(exc))
            log.warning("job %s (%s) failed, attempt %s: %s", job.id, job.kind, job.attempts, error)
            async with self.context.session_factory() as session:
                await queue.fail(session, job, error)
        except Exception as bookkeeping:
            # The database is away too: the claim's lease lapses and the job runs again.
            self._failures.report(
                f"bookkeeping:{type(bookkeeping).__name__}",
                f"could not record job {job.id}'s outcome, its lease will lapse: "
                f"{failures.describe(bookkeeping)}",
            )

    async def _hold(self, job: Job) -> None:
        """Run a job while the heartbeat renews its claim."""
        task = asyncio.current_task()
        assert task is not None
        self._in_hand[job.id] = task
        try:
            await self._run(job)
        finally:
            del self._in_hand[job.id]

    async def heartbeat(self) -> None:
        """Renew the claims of the jobs in hand (one UPDATE); stop those taken over."""
        held = [*self._in_hand, *self._finished]
        if not held:
            return
        try:
            async with self.context.session_factory() as session:
                kept = await queue.renew(
                    session, worker_id=self.worker_id, ids=held, lease=self.lease
                )
        except Exception as exc:
            # One line when renewals start failing and one when they recover, not one a beat.
            if not self._heartbeat_failing:
                log.warning("job heartbeat failed, claims may lapse: %r", exc)
            self._heartbeat_failing = True
            return
        if self._heartbeat_failing:
            log.info("job heartbeat recovered")
            self._heartbeat_failing = False
        lost = set(held) - kept
        if not lost:
            return
        # Another worker took these over (this one missed its beats): it runs them now, and
        # the bookkeeping of this one's run no longer touches them (queue._held).
        self._finished = [job_id for job_id in self._finished if job_id not in lost]
        stopping = set()
        for job_id in lost:
            task = self._in_hand.get(job_id)
            if task is not None and not task.done():
                log.warning("job %s was taken over by another worker; stopping it here", job_id)
                stopping.add(task)
        if stopping:
            # In the background: the heartbeat goes on renewing the other claims meanwhile.
            stopper = asyncio.create_task(_stop(stopping))
            self._stoppers.add(stopper)
            stopper.add_done_callback(self._stoppers.discard)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            await self.heartbeat()

    async def run_forever(self, stop: asyncio.Event, *, grace: float | None = None) -> None:
        """Run jobs until ``stop`` is set, then give the ones in hand ``grace`` seconds.

        Up to ``concurrency`` jobs run at once, and a free slot is refilled as soon as it
        frees up: a long fan-out never holds back jobs queued after it. Jobs still running
        when the grace period ends are stopped and given back to the queue at once
        (``None``: wait for them however long they take).
        """
        running: set[asyncio.Task[None]] = set()
        stopping = asyncio.ensure_future(stop.wait())
        pause = self.idle_sleep
        beating = asyncio.create_task(self._beat())
        try:
            while not stop.is_set():
                free = min(self.concurrency - len(running), self.batch)
                jobs: list[Job] = []
                if free > 0:
                    try:
                        jobs = await self._claim(free)
                        pause = self.idle_sleep
                    except Exception as exc:
                        pause = self._claim_failed(exc, pause)
                running.update(asyncio.create_task(self._hold(job)) for job in jobs)
                if jobs and len(running) < self.concurrency:
                    continue  # the queue may hold more: fill the free slots at once
                done, _ = await asyncio.wait(
                    {*running, stopping},
                    timeout=pause,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for task in done & running:
                    running.discard(task)
                    if not task.cancelled() and task.exception() is not None:
                        # Only bookkeeping can fail here (the handler's own errors are
                        # recorded on the job); the lease hands the job on later.
                        log.error("job bookkeeping failed", exc_info=task.exception())
        finally:
            stopping.cancel()
            try:
                if running:
                    await self._stop_running(running, grace)
            finally:
                beating.cancel()
                await asyncio.wait([beating])
            await self.forget_finished()

    def _claim_failed(self, exc: Exception, pause: float) -> float:
        """Log a failed claim (rate limited) and return the longer pause before the next."""
        # A database outage failed every claim, and each logged a traceback, ten times a
        # second: back off instead, and say so once per kind of failure every few seconds.
        cause = failures.unavailability(exc)
        if cause is not None:
            kind = f"unavailable:{type(cause).__name__}"
            self._failures.report(kind, f"cannot claim jobs: {failures.describe(cause)}")
        else:
            self._failures.report(
                f"bug:{type(exc).__name__}", "cannot claim jobs", exc=exc, level=logging.ERROR
            )
        return min(max(pause, self.idle_sleep) * 2, CLAIM_BACKOFF_MAX)

    async def _stop_running(self, running: set[asyncio.Task[None]], grace: float | None) -> None:
        """Let running jobs finish within ``grace``; stop the rest and release their claims."""
        late = running
        if grace is None or grace > 0:
            _, late = await asyncio.wait(running, timeout=grace)
        if not late:
            return
        jobs = {task: job_id for job_id, task in self._in_hand.items() if task in late}
        still = await _stop(late)
        # A run that completed anyway was recorded as finished or failed; give back the rest.
        unfinished = [job_id for task, job_id in jobs.items() if task in still or task.cancelled()]
        if not unfinished:
            return
        log.info("giving %d unfinished job(s) back to the queue", len(unfinished))
        try:
            async with self.context.session_factory() as session:
                await queue.release(session, worker_id=self.worker_id, ids=unfinished)
        except Exception as exc:
            log.warning("could not give jobs back, their leases will lapse: %r", exc)

    async def drain(self, max_rounds: int = 1000) -> int:
        """Run jobs until none is ready (tests and one-off commands); return how many ran."""
        total = 0
        for _ in range(max_rounds):
            ran = await self.run_once()
            if not ran:
                break
            total += ran
        await self.forget_finished()
        return total


async def _stop(tasks: set[asyncio.Task[None]]) -> set[asyncio.Task[None]]:
    """Cancel ``tasks`` and wait for them; return those still running after STOP_WAIT."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STOP_WAIT
    pending = tasks
    for turn in itertools.count():
        pending = {task for task in pending if not task.done()}
        if not pending or loop.time() > deadline:
            break
        # Again at every turn of the loop: a task awaiting another task loses a cancellation
        # that the inner one swallows (as a redis-py pipeline often does) and runs on; it is
        # cancelled where it stands when the inner one has just returned.
        for task in pending:
            task.cancel()
        await asyncio.sleep(0 if turn < 1000 else 0.01)
    if pending:
        log.warning("%d job(s) did not stop when cancelled", len(pending))
    return pending

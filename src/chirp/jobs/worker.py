"""The job runner: claims ready jobs and runs their handlers, in a worker or the web process."""

from __future__ import annotations

import asyncio
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
from chirp.timeline.cache import TimelineCache

log = logging.getLogger("chirp.jobs")

LEASE = timedelta(minutes=5)
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
        except TRANSIENT as exc:
            log.info("job %s (%s) postponed: %s", job.id, job.kind, exc)
            async with self.context.session_factory() as session:
                await queue.postpone(session, job, repr(exc), delay=TRANSIENT_DELAY)
            return
        except Exception:
            error = traceback.format_exc()
            log.warning("job %s (%s) failed, attempt %s: %s", job.id, job.kind, job.attempts, error)
            async with self.context.session_factory() as session:
                await queue.fail(session, job, error)
            return
        self._finished.append(job.id)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run jobs until ``stop`` is set, then finish the ones already started.

        Up to ``concurrency`` jobs run at once, and a free slot is refilled as soon as it
        frees up: a long fan-out never holds back jobs queued after it.
        """
        running: set[asyncio.Task[None]] = set()
        stopping = asyncio.ensure_future(stop.wait())
        pause = self.idle_sleep
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
                running.update(asyncio.create_task(self._run(job)) for job in jobs)
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
            if running:
                await asyncio.wait(running)
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

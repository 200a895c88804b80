"""Both ways jobs run create each notification once: the embedded runner inside the web
process, and a worker that takes over the job of one that crashed after its commit."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.db import make_engine
from chirp.follows import service as follows_service
from chirp.jobs import kinds, queue, registry
from chirp.jobs.models import Job
from chirp.jobs.worker import JobContext, Worker
from chirp.main import create_app
from chirp.migrate import upgrade_connection
from chirp.notifications import jobs as notification_jobs
from chirp.notifications.models import Notification
from tests.factories import auth, make_post, make_token, make_user
from tests.services import settings_for


async def _notifications(session: AsyncSession, user_id: int) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(Notification.type, Notification.from_account_id).where(
            Notification.user_id == user_id
        )
    )
    return [(row[0], row[1]) for row in rows]


async def test_the_embedded_runner_creates_notifications_in_the_web_process(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}"
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(upgrade_connection)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    async with factory() as session:
        ann, bob = await make_user(session, "ann"), await make_user(session, "bob")
        post = await make_post(session, ann, "like it")
        token, ann_token = await make_token(session, bob), await make_token(session, ann)
    await engine.dispose()
    # The embedded default: no Redis, so the web process runs the jobs itself.
    app = create_app(settings_for(url))
    assert app.state.settings.jobs_in_web
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            r = await c.post(f"/api/v1/statuses/{post.id}/favourite", headers=auth(token))
            assert r.status_code == 200
            deadline = time.monotonic() + 10
            while True:
                got = (await c.get("/api/v1/notifications", headers=auth(ann_token))).json()
                if got or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
    assert [(n["type"], n["account"]["username"]) for n in got] == [("favourite", "bob")]


async def test_a_job_run_again_after_a_crash_adds_no_second_notification(
    db: async_sessionmaker[AsyncSession], session: AsyncSession, settings: Settings
) -> None:
    ann, bob = await make_user(session, "ann"), await make_user(session, "bob")
    await follows_service.follow(session, follower=bob, followee=ann)
    await session.commit()
    context = JobContext(session_factory=db, settings=settings)
    # A worker claims the jobs and runs the notification one to its commit, then dies
    # before the job is deleted: its lease runs out with the job still claimed.
    dead = await queue.claim(
        session, worker_id="dead-worker", limit=10, lease=timedelta(milliseconds=1)
    )
    [job] = [j for j in dead if j.kind == kinds.NOTIFY_ACT]
    await notification_jobs.notify_act(context, job.payload)
    assert await _notifications(session, ann.id) == [("follow", bob.id)]
    await asyncio.sleep(0.01)
    # Another worker takes the job over and runs it again: still one notification.
    ran = await Worker(context, registry.handlers()).drain()
    assert ran >= 1
    assert await _notifications(session, ann.id) == [("follow", bob.id)]
    left = await session.execute(select(func.count()).select_from(Job))
    assert left.scalar_one() == 0

"""Mail is sent by a job: a request never waits on SMTP, and a failed send is retried."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import utcnow
from chirp.jobs import kinds, registry
from chirp.jobs.models import Job
from chirp.jobs.worker import JobContext, Worker
from tests.accounts.helpers import Inbox, _free_port, smtp_settings
from tests.conftest import MakeApp, client_of
from tests.factories import make_user
from tests.web.helpers import csrf


async def test_a_send_that_fails_is_retried_and_then_delivered(
    make_app: MakeApp, session: AsyncSession, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    await make_user(session, "ann")
    # Nothing listens on this port: the SMTP server is down when the request comes.
    app = await make_app(**smtp_settings(_free_port()))
    async with client_of(app) as browser:
        token = await csrf(browser, "/forgot-password")
        r = await browser.post(
            "/forgot-password", data={"email": "ann@example.com", "csrf_token": token}
        )
        assert r.status_code == 200  # the answer did not wait for the mail
    state = app.state

    def worker(settings_port: int) -> Worker:
        settings = state.settings.model_copy(update=smtp_settings(settings_port))
        context = JobContext(
            session_factory=state.session_factory,
            settings=settings,
            timeline_cache=state.timeline_cache,
        )
        return Worker(context, registry.handlers())

    await worker(_free_port()).drain()
    job = (await session.execute(select(Job).where(Job.kind == kinds.SEND_MAIL))).scalar_one()
    # Kept for later (a refused connection postpones it, as any outage of a service).
    assert job.run_at > utcnow() and inbox.messages == []
    # The server is back; the retry (brought forward) delivers the mail once.
    await session.execute(update(Job).where(Job.id == job.id).values(run_at=utcnow()))
    await session.commit()
    await worker(port).drain()
    assert len(inbox.to("ann@example.com")) == 1
    left = await session.execute(select(Job.id).where(Job.kind == kinds.SEND_MAIL))
    assert left.all() == []

"""Every job kind and the handler that runs it."""

from __future__ import annotations

from chirp.accounts import deletion
from chirp.exports import jobs as export_jobs
from chirp.jobs.worker import Handler
from chirp.mail import jobs as mail_jobs
from chirp.media import jobs as media_jobs
from chirp.notifications import jobs as notification_jobs
from chirp.timeline import fanout


def handlers() -> dict[str, Handler]:
    """Return the handler for each job kind."""
    return {
        **fanout.HANDLERS,
        **notification_jobs.HANDLERS,
        **media_jobs.HANDLERS,
        **export_jobs.HANDLERS,
        **mail_jobs.HANDLERS,
        **deletion.HANDLERS,
    }

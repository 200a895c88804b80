"""The job that sends a mail: a request only records it, a failed send is retried."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chirp.jobs import kinds, queue
from chirp.jobs.worker import Handler, JobContext
from chirp.mail.sender import Mail, sender_for


async def enqueue_mail(session: AsyncSession, *, to: str, subject: str, body: str) -> None:
    """Record a mail to send once the caller's transaction commits."""
    await queue.enqueue(session, kinds.SEND_MAIL, {"to": to, "subject": subject, "body": body})


async def send_mail(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Send one recorded mail (an error makes the queue retry it with back-off)."""
    mail = Mail(to=str(payload["to"]), subject=str(payload["subject"]), body=str(payload["body"]))
    await sender_for(ctx.settings).send(mail)


HANDLERS: dict[str, Handler] = {kinds.SEND_MAIL: send_mail}

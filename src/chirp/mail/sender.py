"""Senders: SMTP (stdlib smtplib in a thread) and, in development, the log."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from chirp.config import Settings

log = logging.getLogger("chirp.mail")


@dataclass(frozen=True)
class Mail:
    """A plain-text message to one address."""

    to: str
    subject: str
    body: str


class Sender(Protocol):
    """Delivers a mail or raises (the job that called it is then retried)."""

    async def send(self, mail: Mail) -> None:
        """Deliver ``mail``."""


def _message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    message.set_content(mail.body)
    return message


class SmtpSender:
    """Sends through the SMTP server of the ``CHIRP_SMTP_*`` settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _send_blocking(self, message: EmailMessage) -> None:
        s = self.settings
        host = s.smtp_host or ""
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(host, s.smtp_port, timeout=s.smtp_timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, s.smtp_port, timeout=s.smtp_timeout)
        with smtp:
            if s.smtp_security == "starttls":
                smtp.starttls(context=context)
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
            smtp.send_message(message)

    async def send(self, mail: Mail) -> None:
        """Deliver ``mail`` on a worker thread, so the event loop keeps serving."""
        message = _message(mail, self.settings.mail_from)
        await asyncio.to_thread(self._send_blocking, message)


class LogSender:
    """Development: writes the mail to the log instead of sending it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, mail: Mail) -> None:
        """Log ``mail`` in full (links included, so they can be followed)."""
        log.info("Mail to %s: %s\n%s", mail.to, mail.subject, mail.body)


def sender_for(settings: Settings) -> Sender:
    """The SMTP sender when an SMTP host is configured, else the log."""
    return SmtpSender(settings) if settings.smtp_host else LogSender(settings)

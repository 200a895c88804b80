"""Helpers for account tests: a local SMTP server, draining jobs, links from mails."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from fastapi import FastAPI

from chirp.jobs import registry
from chirp.jobs.worker import JobContext, Worker

_LINK = re.compile(r"http://testserver(/[\w/-]+)")


@dataclass
class Inbox:
    """What the local SMTP server received."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message (aiosmtpd's handler hook)."""
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        """Messages sent to ``address``."""
        return [m for m in self.messages if m["To"] == address]

    def link(self, address: str) -> str:
        """The site path of the link in the last mail to ``address``."""
        mails = self.to(address)
        assert mails, f"no mail to {address}"
        body = mails[-1].get_payload(decode=True)
        assert isinstance(body, bytes)
        found = _LINK.search(body.decode())
        assert found, body
        return found.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """Run an SMTP server on a free local port (its own thread) and yield its inbox and port."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def smtp_settings(port: int) -> dict[str, object]:
    """Setting overrides that send mail to the local server."""
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "smtp_from": "chirp@testserver",
    }


async def run_jobs(app: FastAPI) -> None:
    """Run every queued job now, as a worker would."""
    state = app.state
    context = JobContext(
        session_factory=state.session_factory,
        settings=state.settings,
        timeline_cache=state.timeline_cache,
    )
    await Worker(context, registry.handlers()).drain()

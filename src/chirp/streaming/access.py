"""Ending the open streams of credentials that stop working.

A revoked token, an ended web session or a deleted account must stop receiving events at
once, as Mastodon's streaming server drops a revoked token's connections. The services that
end credentials note whose (``ended``); once their transaction commits, the request's
session dependency publishes one event per user (``publish_committed``), and every process
checks again the credentials of that user's streams it holds (``Hub``).
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from chirp.ops.logging import FailureLog
from chirp.streaming import events
from chirp.streaming.bus import Publisher

_failures = FailureLog(logging.getLogger("chirp.streaming"))

# Keys in ``Session.info``: users noted in the open transaction, and in committed ones.
_PENDING = "chirp.streaming.ended.pending"
_COMMITTED = "chirp.streaming.ended.committed"


def ended(session: AsyncSession, user_id: int) -> None:
    """Note that credentials of ``user_id`` end in this transaction (their streams too)."""
    sync = session.sync_session
    if _PENDING not in sync.info:
        sync.info[_PENDING] = set()
        event.listen(sync, "after_commit", _committed)
        event.listen(sync, "after_soft_rollback", _rolled_back)
    sync.info[_PENDING].add(user_id)


def _committed(sync: Session) -> None:
    sync.info.setdefault(_COMMITTED, set()).update(sync.info[_PENDING])
    sync.info[_PENDING].clear()


def _rolled_back(sync: Session, previous_transaction: object) -> None:
    sync.info[_PENDING].clear()


async def publish_committed(session: AsyncSession, publisher: Publisher | None) -> None:
    """Publish the users whose credentials ended in a committed transaction of ``session``."""
    users = session.sync_session.info.pop(_COMMITTED, None)
    for user_id in sorted(users or ()):
        try:
            await events.publish(publisher, events.access_ended(user_id))
        except Exception as exc:  # committed already: the answer stands, the streams linger
            _failures.report("access", f"streaming: open streams were not ended: {exc!r}", exc=exc)

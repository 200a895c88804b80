"""How much tags are used: each tag's last 7 days, and the tags trending in the last day.

Uses are read from ``post_tags`` (public posts only) by post id: ids are time-ordered
(``chirp.ids``), so "the last day" is a range of ids and no post row is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, distinct, func, literal_column, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import read_outside_transaction, utcnow
from chirp.ids import EPOCH_MS, id_at
from chirp.ops import failures
from chirp.posts.text import tag_path
from chirp.tags.models import PostTag, Tag

log = logging.getLogger("chirp.tags")

HISTORY_DAYS = 7
# The most tags ranked (the API pages through them 20 at most at a time).
TRENDING_POOL = 40
# How long a process serves the trending tags it counted before counting again.
TRENDING_SECONDS = 60.0
_DAY_MS = 86_400_000
# Bits below an id's milliseconds (``chirp.ids``: 10 of shard, 12 of sequence).
_TIME_SHIFT = 22


@dataclass(frozen=True)
class DayUse:
    """A tag's uses on one day (UTC): posts and distinct authors."""

    day: datetime
    uses: int
    accounts: int


@dataclass(frozen=True)
class Trend:
    """A trending tag: its uses in the last day and its last 7 days."""

    name: str
    accounts: int
    uses: int
    history: tuple[DayUse, ...]

    @property
    def path(self) -> str:
        """The tag's page."""
        return tag_path(self.name)


def _day_of_id() -> ColumnElement[int]:
    """The UTC day number (days since 1970) of ``post_tags.post_id``, in SQL."""
    # Literals, not bind parameters: the same expression is selected and grouped by, and
    # PostgreSQL only matches the two when they are written alike.
    millis = PostTag.post_id.op(">>")(literal_column(str(_TIME_SHIFT))) + literal_column(
        str(EPOCH_MS)
    )
    return millis // literal_column(str(_DAY_MS))


def _midnight(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


async def history(
    session: AsyncSession, tag_ids: Collection[int], *, now: datetime | None = None
) -> dict[int, tuple[DayUse, ...]]:
    """Each tag's uses on each of the last 7 days, today first (one query for all tags)."""
    today = _midnight(now or utcnow())
    days = [today - timedelta(days=n) for n in range(HISTORY_DAYS)]
    counts: dict[tuple[int, int], tuple[int, int]] = {}
    if tag_ids:
        day = _day_of_id()
        stmt = (
            select(PostTag.tag_id, day, func.count(), func.count(distinct(PostTag.author_id)))
            .where(PostTag.tag_id.in_(sorted(tag_ids)), PostTag.post_id >= id_at(days[-1]))
            .group_by(PostTag.tag_id, day)
        )
        for tag_id, number, uses, accounts in await read_outside_transaction(session, stmt, {}):
            counts[(tag_id, int(number))] = (int(uses), int(accounts))
    out: dict[int, tuple[DayUse, ...]] = {}
    for tag_id in tag_ids:
        out[tag_id] = tuple(
            DayUse(d, *counts.get((tag_id, int(d.timestamp()) // 86_400), (0, 0))) for d in days
        )
    return out


async def trending(
    session: AsyncSession, *, limit: int = TRENDING_POOL, now: datetime | None = None
) -> list[Trend]:
    """The tags used by the most distinct authors in the last 24 hours, most first.

    Ties go to more uses, then to the tag used most recently. Three queries, whatever the
    number of posts: the last day's uses (an id range of ``post_tags``), the tags' names and
    their histories.
    """
    moment = now or utcnow()
    accounts = func.count(distinct(PostTag.author_id))
    uses = func.count()
    # Outside a transaction, as a page's other reads: no BEGIN, and the connection goes back.
    ranked = await read_outside_transaction(
        session,
        select(PostTag.tag_id, accounts, uses)
        .where(PostTag.post_id >= id_at(moment - timedelta(days=1)))
        .group_by(PostTag.tag_id)
        .order_by(accounts.desc(), uses.desc(), func.max(PostTag.post_id).desc())
        .limit(limit),
        {},
    )
    if not ranked:
        return []
    ids = [row[0] for row in ranked]
    names = dict(
        await read_outside_transaction(session, select(Tag.id, Tag.name).where(Tag.id.in_(ids)), {})
    )
    days = await history(session, ids, now=moment)
    return [
        Trend(names[tag_id], int(n_accounts), int(n_uses), days[tag_id])
        for tag_id, n_accounts, n_uses in ranked
        if tag_id in names
    ]


class TrendingTags:
    """The trending tags a process serves, counted again at most once per ``seconds``.

    Every page shows them in the side column: a page served within ``seconds`` of the last
    count costs no query, and while one request counts, others serve the last count.
    """

    def __init__(self, *, seconds: float = TRENDING_SECONDS) -> None:
        self.seconds = seconds
        self._trends: list[Trend] = []
        self._counted_at = -math.inf
        self._lock = asyncio.Lock()

    def current(self) -> list[Trend]:
        """The last count (empty before the first): no I/O."""
        return self._trends

    def stale(self) -> bool:
        """Whether the last count is older than ``seconds``."""
        return time.monotonic() - self._counted_at >= self.seconds

    async def get(self, session: AsyncSession) -> list[Trend]:
        """The trending tags, counted now if the last count is stale and nobody is counting."""
        if not self.stale() or (self._lock.locked() and self._counted_at > -math.inf):
            return self._trends
        async with self._lock:
            if self.stale():
                try:
                    self._trends = await trending(session)
                except (SQLAlchemyError, OSError) as exc:
                    # A side column is no reason to fail a page: keep the last count, and
                    # try again a period later rather than on every page while the
                    # database is away. An outage is one line (as every failure of a store
                    # is logged); anything else is a bug, with its traceback.
                    cause = failures.unavailability(exc)
                    if cause is not None:
                        log.warning("counting trending tags failed: %s", failures.describe(cause))
                    else:
                        log.warning("counting trending tags failed", exc_info=True)
                    with contextlib.suppress(SQLAlchemyError, OSError):
                        await session.rollback()  # the page goes on with its own reads
                self._counted_at = time.monotonic()
        return self._trends

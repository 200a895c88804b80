"""Deleting stored files that no row refers to (``chirp media sweep``).

Files are deleted by jobs when the rows using them go (a post, an upload, an avatar). A
file can still outlive every row: an upload whose request failed after its files were
stored (the database went away before the commit), or a deletion job that was lost with a
database restored from a backup. The sweep lists the storage and deletes what no upload,
avatar or header uses, once it is older than a day: an upload being processed right now has
stored its files but not yet committed its row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import CompoundSelect, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import utcnow
from chirp.media.models import MediaAttachment
from chirp.media.storage import Storage
from chirp.users.models import User
from chirp.users.service import INCLUDE_DELETED

# No row may refer to a file younger than this yet (an upload commits within seconds).
GRACE = timedelta(days=1)


@dataclass
class Swept:
    """What a sweep found: files listed, files nothing refers to, and those it deleted."""

    files: int = 0
    unreferenced: int = 0
    deleted: int = 0


async def referenced_keys(session: AsyncSession, keys: Collection[str]) -> set[str]:
    """Which of ``keys`` an upload, avatar or header uses (index probes, one statement)."""
    if not keys:
        return set()
    wanted = sorted(set(keys))
    stmt: CompoundSelect[str] = union(
        select(MediaAttachment.original_key).where(MediaAttachment.original_key.in_(wanted)),
        select(MediaAttachment.small_key).where(MediaAttachment.small_key.in_(wanted)),
        select(User.avatar_key).where(User.avatar_key.in_(wanted)),
        select(User.header_key).where(User.header_key.in_(wanted)),
    )
    # Deleted accounts too: their pictures are released by the deletion job, not here.
    rows = await session.execute(stmt, execution_options={INCLUDE_DELETED: True})
    return {row[0] for row in rows}


async def sweep(
    session: AsyncSession,
    storage: Storage,
    *,
    older_than: timedelta = GRACE,
    dry_run: bool = False,
    report: Callable[[Swept], Awaitable[None]] | None = None,
) -> Swept:
    """Delete the stored files older than ``older_than`` that nothing refers to."""
    swept = Swept()
    cutoff = utcnow() - older_than
    async for batch in storage.listing():
        swept.files += len(batch)
        old = [item.key for item in batch if item.stored_at < cutoff]
        used = await referenced_keys(session, old)
        await session.commit()  # no transaction held while files are deleted
        for key in old:
            if key in used:
                continue
            swept.unreferenced += 1
            if not dry_run:
                await storage.delete(key)
                swept.deleted += 1
        if report is not None:
            await report(swept)
    return swept

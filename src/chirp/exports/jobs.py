"""Jobs that build an archive and delete it a week later; both safe to run again."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from sqlalchemy import delete, update

from chirp.db import utcnow
from chirp.exports import archive, storage
from chirp.exports.models import DONE, FAILED, RUNNING, UNFINISHED, Export
from chirp.exports.service import KEEP
from chirp.jobs import kinds, queue
from chirp.jobs.worker import Handler, JobContext
from chirp.media import storage as media_storage

log = logging.getLogger("chirp.exports")


async def _set(ctx: JobContext, export_id: int, **values: Any) -> None:
    async with ctx.session_factory() as session:
        await session.execute(update(Export).where(Export.id == export_id).values(**values))
        await session.commit()


async def build_export(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Build the archive, from scratch each run (a crash mid-way leaves nothing kept)."""
    export_id = int(payload["export_id"])
    async with ctx.session_factory() as session:
        export = await session.get(Export, export_id)
        if export is None or export.status not in UNFINISHED:
            return  # built already, failed for good, or the account is gone
        user_id = export.user_id
        export.status, export.progress = RUNNING, 0
        await session.commit()
    key = storage.key_for(export_id)

    async def report(percent: int) -> None:
        await _set(ctx, export_id, progress=percent)

    try:
        path = storage.work_path(ctx.settings, key)
        if not await archive.build(
            ctx.session_factory,
            ctx.settings,
            media=media_storage.from_settings(ctx.settings),
            user_id=user_id,
            path=path,
            report=report,
        ):
            return
        size = await storage.save(ctx.settings, key, path)
    except Exception:
        # A failed archive no longer holds the user's one-at-a-time place: they may ask again.
        # If the database is away this fails too, and the job's retry builds it again.
        with contextlib.suppress(OSError):
            await storage.delete(ctx.settings, key)
        await _set(ctx, export_id, status=FAILED, finished_at=utcnow())
        raise
    async with ctx.session_factory() as session:
        await session.execute(
            update(Export)
            .where(Export.id == export_id)
            .values(status=DONE, progress=100, key=key, size=size, finished_at=utcnow())
        )
        await queue.enqueue(
            session, kinds.EXPORT_EXPIRE, {"export_id": str(export_id)}, delay=KEEP.total_seconds()
        )
        await session.commit()
    log.info("export %s of user %s is ready (%s bytes)", export_id, user_id, size)


async def expire_export(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Delete an archive's file, then its row."""
    export_id = int(payload["export_id"])
    await storage.delete(ctx.settings, storage.key_for(export_id))
    async with ctx.session_factory() as session:
        await session.execute(delete(Export).where(Export.id == export_id))
        await session.commit()


HANDLERS: dict[str, Handler] = {
    kinds.EXPORT_BUILD: build_export,
    kinds.EXPORT_EXPIRE: expire_export,
}

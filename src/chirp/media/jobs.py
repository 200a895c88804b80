"""Background jobs: delete uploads never attached, and files nothing refers to any more."""

from __future__ import annotations

from typing import Any

from chirp.jobs.worker import Handler, JobContext
from chirp.media import service
from chirp.media import storage as media_storage


async def expire_unattached(ctx: JobContext, payload: dict[str, Any]) -> None:
    """A day after an upload: delete every upload still unattached after a day (idempotent)."""
    storage = media_storage.from_settings(ctx.settings)
    async with ctx.session_factory() as session:
        # Each run deletes a bounded batch; a backlog is worked off by the next uploads' runs.
        await service.delete_orphans(session, storage)


async def delete_released_files(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Delete the files a deleted post or upload used, those nothing else refers to."""
    keys = [key for key in payload.get("keys", []) if media_storage.is_key(str(key))]
    storage = media_storage.from_settings(ctx.settings)
    async with ctx.session_factory() as session:
        await service.delete_unreferenced(session, storage, keys)


HANDLERS: dict[str, Handler] = {
    service.EXPIRE_JOB: expire_unattached,
    service.RELEASED_JOB: delete_released_files,
}

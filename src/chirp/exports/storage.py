"""Where finished archives are kept: a directory of this machine (``CHIRP_EXPORT_DIR``).

Everything that touches the files goes through these functions, so pointing them at the
media storage (local or S3, ``chirp.media.storage``) is the only change object storage
needs: ``save`` would upload the built file, ``path_of`` give way to a download URL.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from chirp.config import Settings


def key_for(export_id: int) -> str:
    """The name an archive is stored under."""
    return f"chirp-export-{export_id}.zip"


def work_path(settings: Settings, key: str) -> Path:
    """Where an archive is built before it is saved (its directory is made)."""
    directory = settings.exports_path
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{key}.part"


async def save(settings: Settings, key: str, built: Path) -> int:
    """Keep the archive built at ``built`` under ``key``; return its size in bytes."""
    target = settings.exports_path / key
    # A rename within one directory: a download never sees half an archive.
    await asyncio.to_thread(os.replace, built, target)
    return (await asyncio.to_thread(target.stat)).st_size


def path_of(settings: Settings, key: str) -> Path:
    """Where a saved archive's file is kept (it may be gone: opening it tells)."""
    return settings.exports_path / key


def local_file(settings: Settings, key: str) -> Path | None:
    """The file of a saved archive, or None if it is gone."""
    path = path_of(settings, key)
    return path if path.is_file() else None


async def delete(settings: Settings, key: str) -> None:
    """Delete a saved archive (and any half-built one); nothing if it is already gone."""
    for path in (settings.exports_path / key, settings.exports_path / f"{key}.part"):
        await asyncio.to_thread(path.unlink, missing_ok=True)

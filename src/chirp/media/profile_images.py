"""Uploaded avatars and headers: processed like any image, cropped, and kept by key.

An avatar is a 400x400 centre crop, a header a 1500x500 one, both still (the first frame of
an animation). Replacing or removing one has its old file deleted by a job once nothing
refers to it (another account may have uploaded the very same image).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chirp.config import Settings
from chirp.media import service as media_service
from chirp.media.storage import Storage, key_for
from chirp.users.models import User


async def _store(settings: Settings, storage: Storage, data: bytes, *, kind: str) -> str:
    processed = await media_service.process(
        settings, data, kind="avatar" if kind == "avatar" else "header"
    )
    image = processed.original
    key = key_for(image.data, image.content_type)
    await storage.put(key, image.data, image.content_type)
    return key


async def set_avatar(
    session: AsyncSession, storage: Storage, settings: Settings, *, user: User, data: bytes
) -> None:
    """Make an uploaded image ``user``'s avatar (422/413 if refused); the caller commits."""
    key = await _store(settings, storage, data, kind="avatar")
    old, user.avatar_key = user.avatar_key, key
    if old and old != key:
        await media_service.release_keys(session, [old])


async def remove_avatar(session: AsyncSession, *, user: User) -> None:
    """Go back to the default avatar; the caller commits."""
    old, user.avatar_key = user.avatar_key, None
    if old:
        await media_service.release_keys(session, [old])


async def set_header(
    session: AsyncSession, storage: Storage, settings: Settings, *, user: User, data: bytes
) -> None:
    """Make an uploaded image ``user``'s header (422/413 if refused); the caller commits."""
    key = await _store(settings, storage, data, kind="header")
    old, user.header_key = user.header_key, key
    if old and old != key:
        await media_service.release_keys(session, [old])


async def remove_header(session: AsyncSession, *, user: User) -> None:
    """Go back to the default header; the caller commits."""
    old, user.header_key = user.header_key, None
    if old:
        await media_service.release_keys(session, [old])

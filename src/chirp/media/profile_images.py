"""Uploaded avatars and headers: processed like any image, cropped, and kept by key.

An avatar is a 400x400 centre crop, a header a 1500x500 one, both still (the first frame of
an animation). Replacing or removing one has its old file deleted by a job once nothing
refers to it (another account may have uploaded the very same image).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chirp.config import Settings
from chirp.media import service as media_service
from chirp.media.processing import Kind
from chirp.media.storage import Storage, key_for
from chirp.users.models import User


async def _store(settings: Settings, storage: Storage, data: bytes, *, kind: Kind) -> str:
    processed = await media_service.process(settings, data, kind=kind)
    image = processed.original
    key = key_for(image.data, image.content_type)
    await storage.put(key, image.data, image.content_type)
    return key


async def set_images(
    session: AsyncSession,
    storage: Storage,
    settings: Settings,
    *,
    user: User,
    avatar: bytes | None = None,
    header: bytes | None = None,
) -> None:
    """Make uploaded images ``user``'s avatar and/or header (422/413 if either is refused,
    then neither is set); the caller commits.

    Both are processed before anything changes, with no transaction held meanwhile.
    """
    await media_service.hand_back_connection(session)
    avatar_key = await _store(settings, storage, avatar, kind="avatar") if avatar else None
    header_key = await _store(settings, storage, header, kind="header") if header else None
    released = []
    if avatar_key is not None:
        old, user.avatar_key = user.avatar_key, avatar_key
        released.append(old)
    if header_key is not None:
        old, user.header_key = user.header_key, header_key
        released.append(old)
    await media_service.release_keys(
        session, [key for key in released if key and key not in (avatar_key, header_key)]
    )


async def set_avatar(
    session: AsyncSession, storage: Storage, settings: Settings, *, user: User, data: bytes
) -> None:
    """Make an uploaded image ``user``'s avatar (422/413 if refused); the caller commits."""
    await set_images(session, storage, settings, user=user, avatar=data)


async def set_header(
    session: AsyncSession, storage: Storage, settings: Settings, *, user: User, data: bytes
) -> None:
    """Make an uploaded image ``user``'s header (422/413 if refused); the caller commits."""
    await set_images(session, storage, settings, user=user, header=data)


async def remove_avatar(session: AsyncSession, *, user: User) -> None:
    """Go back to the default avatar; the caller commits."""
    old, user.avatar_key = user.avatar_key, None
    if old:
        await media_service.release_keys(session, [old])


async def remove_header(session: AsyncSession, *, user: User) -> None:
    """Go back to the default header; the caller commits."""
    old, user.header_key = user.header_key, None
    if old:
        await media_service.release_keys(session, [old])

"""Uploads and attachments: the one service layer the API and the web pages call.

An upload is decoded and re-encoded in a worker thread (``process``), its files stored by
content (``media.storage``), and a row written for its owner. It is ready at once: Chirp
processes every image within the request (bounded by ``media_processing_threads`` per
process, so a burst of uploads waits its turn instead of starving other requests), and so
answers 200, never Mastodon's 202.

An upload belongs to its uploader until a post is published with it (``attachable`` then
``attach``, in the post's transaction); one never attached is deleted after a day by a job
(``media.jobs``). Its alt text and focus can be changed by its owner at any time, attached
or not, as Mastodon lets the author of a post edit them. Files are shared by identical
uploads, so they are deleted only when no row refers to their key any more.

For pages: take the storage from ``media.api.media_storage`` (``app.state.media_storage``),
call ``upload`` with the file's bytes (``media.form_files`` bounds them), then
``posts.service.create_post(..., media_ids=[...])``, which calls ``attachable`` and
``attach`` in the post's transaction; ``posts.feed.load`` reads a page's attachments
(``Feed.attachments(post)``), and ``storage.public_url`` gives their URLs. Errors are
``ValidationFailed`` (422) and ``TooLarge`` (413), as everywhere.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

import anyio
import anyio.to_thread
from sqlalchemy import ColumnElement, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from chirp.config import Settings
from chirp.db import id_in, in_list, read_outside_transaction, takes_arrays, utcnow
from chirp.errors import ChirpError, NotFound, ValidationFailed
from chirp.jobs import queue
from chirp.media import processing
from chirp.media.models import MediaAttachment
from chirp.media.schemas import DESCRIPTION_LIMIT
from chirp.media.storage import Storage, key_for
from chirp.users.models import User

# How long an upload may wait for a post before it is deleted.
UNATTACHED_LIFETIME = timedelta(days=1)
EXPIRE_JOB = "media.expire"
RELEASED_JOB = "media.released"
# Uploads deleted per run of the clean-up job (it runs once per upload, a day later).
ORPHANS_PER_RUN = 100


class TooLarge(ChirpError):
    """The upload is over ``media_max_bytes``."""

    status = 413


def too_large(settings: Settings) -> TooLarge:
    """The 413 of a file over ``media_max_bytes``."""
    limit = settings.media_max_bytes
    size = f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit // 1024} KB"
    return TooLarge(f"The file is too large (at most {size})")


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment as plain data: what showing it needs (read in bulk for pages)."""

    id: int
    post_id: int | None
    type: str
    description: str
    focus_x: float
    focus_y: float
    blurhash: str | None
    original_key: str
    original_width: int
    original_height: int
    small_key: str
    small_width: int
    small_height: int

    @classmethod
    def of(cls, row: MediaAttachment) -> Attachment:
        """The plain data of a row."""
        return cls(*(getattr(row, name) for name in _FIELDS))


_FIELDS = tuple(Attachment.__dataclass_fields__)
_COLUMNS = tuple(getattr(MediaAttachment, name) for name in _FIELDS)
# Never NULL where it is compared with ids.
_POST_ID = cast(InstrumentedAttribute[int], MediaAttachment.post_id)


def limits(settings: Settings) -> processing.Limits:
    """What an upload may be, by the settings."""
    return processing.Limits(
        max_pixels=settings.media_max_pixels,
        max_frames=settings.media_max_frames,
        max_side=settings.media_max_side,
    )


# One limiter per event loop (tests run several loops; a limiter belongs to one).
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _limiter(settings: Settings) -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    found = _limiters.get(loop)
    if found is None or found.total_tokens != settings.media_processing_threads:
        found = _limiters[loop] = anyio.CapacityLimiter(settings.media_processing_threads)
    return found


async def process(
    settings: Settings, data: bytes, *, kind: processing.Kind = "attachment"
) -> processing.Processed:
    """Decode and re-encode an upload off the event loop; 413 if too large, 422 if refused."""
    if len(data) > settings.media_max_bytes:
        raise too_large(settings)
    try:
        return await anyio.to_thread.run_sync(
            lambda: processing.process(data, limits=limits(settings), kind=kind),
            limiter=_limiter(settings),
        )
    except processing.Refused as exc:
        raise ValidationFailed(str(exc), field="file") from exc


async def hand_back_connection(session: AsyncSession) -> None:
    """End a transaction that has only read, before a slow step (processing an image).

    Held meanwhile, it would keep a pooled connection on PostgreSQL and the write lock on
    SQLite (every other request would wait, in the benchmark until they failed). Loaded
    rows stay usable; a transaction with pending writes is the caller's, and is kept.
    """
    pending = session.new or session.dirty or session.deleted
    if session.in_transaction() and not pending:
        await session.commit()


async def store(storage: Storage, processed: processing.Processed) -> tuple[str, str]:
    """Store an upload's original and preview; return their keys."""
    keys = []
    for rendition in (processed.original, processed.small):
        key = key_for(rendition.data, rendition.content_type)
        await storage.put(key, rendition.data, rendition.content_type)
        keys.append(key)
    return keys[0], keys[1]


def parse_focus(raw: str | None) -> tuple[float, float] | None:
    """Mastodon's ``focus`` ("x,y", each from -1.0 to 1.0); None when not sent."""
    if raw is None or raw == "":
        return None
    parts = raw.split(",")
    try:
        if len(parts) != 2:
            raise ValueError(raw)
        x, y = (float(part) for part in parts)
    except ValueError as exc:
        raise ValidationFailed("focus must be two numbers, x,y", field="focus") from exc
    if not (math.isfinite(x) and math.isfinite(y) and -1 <= x <= 1 and -1 <= y <= 1):
        raise ValidationFailed("focus values must be from -1.0 to 1.0", field="focus")
    return x, y


def check_description(description: str | None) -> str | None:
    """Alt text as stored (at most 1,500 characters), or None when not sent."""
    if description is None:
        return None
    if len(description) > DESCRIPTION_LIMIT:
        raise ValidationFailed(
            f"description is too long (at most {DESCRIPTION_LIMIT} characters)",
            field="description",
        )
    return description


async def upload(
    session: AsyncSession,
    storage: Storage,
    settings: Settings,
    *,
    account: User,
    data: bytes,
    description: str | None = None,
    focus: str | None = None,
) -> MediaAttachment:
    """Process and store an image for ``account``; the caller commits.

    Everything that can be refused is checked before a file is written. Files written for
    an upload whose transaction then fails stay until an identical upload uses them.
    """
    alt = check_description(description)
    point = parse_focus(focus)
    await hand_back_connection(session)
    processed = await process(settings, data)
    original_key, small_key = await store(storage, processed)
    media = MediaAttachment(
        account_id=account.id,
        type="image",
        description=alt or "",
        focus_x=point[0] if point else 0.0,
        focus_y=point[1] if point else 0.0,
        blurhash=processed.blurhash,
        content_type=processed.original.content_type,
        original_key=original_key,
        original_width=processed.original.width,
        original_height=processed.original.height,
        original_size=len(processed.original.data),
        small_key=small_key,
        small_width=processed.small.width,
        small_height=processed.small.height,
        created_at=utcnow(),
    )
    session.add(media)
    await session.flush()
    # Deleted a day later unless a post has taken it by then (the job checks).
    await queue.enqueue(
        session,
        EXPIRE_JOB,
        {"media_id": media.id},
        delay=UNATTACHED_LIFETIME.total_seconds() + 60,
    )
    return media


async def get_own(session: AsyncSession, *, account: User, media_id: int) -> MediaAttachment:
    """One of ``account``'s uploads; anyone else's is 404 (as Mastodon)."""
    media = await session.get(MediaAttachment, media_id)
    if media is None or media.account_id != account.id:
        raise NotFound()
    return media


async def update_details(
    session: AsyncSession,
    *,
    account: User,
    media_id: int,
    description: str | None,
    focus: str | None,
) -> MediaAttachment:
    """Change an upload's alt text and focus (attached or not); only its owner may."""
    alt = check_description(description)
    point = parse_focus(focus)
    media = await get_own(session, account=account, media_id=media_id)
    if alt is not None:
        media.description = alt
    if point is not None:
        media.focus_x, media.focus_y = point
    await session.flush()
    return media


async def delete_unattached(
    session: AsyncSession, *, account: User, media_id: int
) -> MediaAttachment:
    """Delete one of ``account``'s uploads not attached to a post (422 if attached)."""
    media = await get_own(session, account=account, media_id=media_id)
    if media.post_id is not None:
        raise ValidationFailed("Media attachment is currently used by a status", field="id")
    await session.delete(media)
    await release_keys(session, [media.original_key, media.small_key])
    return media


async def attachable(
    session: AsyncSession, *, account: User, media_ids: Sequence[int], most: int
) -> list[MediaAttachment]:
    """The uploads a new post by ``account`` would show, in the order given; 422 if any is
    someone else's, already attached, named twice, or more than ``most``."""
    if not media_ids:
        return []
    if len(media_ids) > most:
        raise ValidationFailed(f"A post may have at most {most} images", field="media_ids")
    if len(set(media_ids)) != len(media_ids):
        raise ValidationFailed("The same image is attached twice", field="media_ids")
    rows = await session.scalars(select(MediaAttachment).where(MediaAttachment.id.in_(media_ids)))
    found = {row.id: row for row in rows}
    out = []
    for media_id in media_ids:
        media = found.get(media_id)
        if media is None or media.account_id != account.id:
            raise ValidationFailed("Media not found", field="media_ids")
        if media.post_id is not None:
            raise ValidationFailed("Media is already attached to a post", field="media_ids")
        out.append(media)
    return out


async def attach(session: AsyncSession, *, media: Sequence[MediaAttachment], post_id: int) -> None:
    """Attach uploads (from ``attachable``) to a new post, in order; 422 if one was taken
    by another post meanwhile (the caller's transaction then writes nothing)."""
    for position, item in enumerate(media):
        result = await session.execute(
            update(MediaAttachment)
            .where(MediaAttachment.id == item.id, MediaAttachment.post_id.is_(None))
            .values(post_id=post_id, position=position)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            raise ValidationFailed("Media is already attached to a post", field="media_ids")


async def for_posts(
    session: AsyncSession, post_ids: Collection[int]
) -> dict[int, tuple[Attachment, ...]]:
    """The attachments of posts, in order, by post id (one query for them all)."""
    if not post_ids:
        return {}
    stmt = (
        select(*_COLUMNS)
        .where(id_in(_POST_ID, "ids", array=takes_arrays(session)))
        .order_by(MediaAttachment.post_id, MediaAttachment.position)
    )
    rows = await read_outside_transaction(session, stmt, {"ids": in_list(post_ids)})
    found: dict[int, list[Attachment]] = {}
    for row in rows:
        found.setdefault(row[1], []).append(Attachment(*row))
    return {post_id: tuple(items) for post_id, items in found.items()}


def has_media(post_id: ColumnElement[int] | InstrumentedAttribute[int]) -> ColumnElement[bool]:
    """Whether the post ``post_id`` has images (an index probe; for ``only_media``)."""
    return exists().where(MediaAttachment.post_id == post_id)


async def release_post_media(session: AsyncSession, *, post_id: int) -> None:
    """Before a post is deleted: have its files deleted once nothing refers to them.

    The rows go with the post (foreign key); the files are checked by a job after the
    commit, so a delete that is rolled back deletes no file.
    """
    keys = (
        await session.execute(
            select(MediaAttachment.original_key, MediaAttachment.small_key).where(
                MediaAttachment.post_id == post_id
            )
        )
    ).all()
    await release_keys(session, [key for pair in keys for key in pair])


async def release_account(session: AsyncSession, *, user: User) -> None:
    """For a deleted account: drop its uploads never posted and its avatar and header, their
    files deleted by a job once nothing refers to them (posted images go with the posts)."""
    rows = (
        await session.execute(
            delete(MediaAttachment)
            .where(MediaAttachment.account_id == user.id, MediaAttachment.post_id.is_(None))
            .returning(MediaAttachment.original_key, MediaAttachment.small_key)
        )
    ).all()
    keys = [key for pair in rows for key in pair]
    keys += [key for key in (user.avatar_key, user.header_key) if key]
    user.avatar_key = user.header_key = None
    await release_keys(session, keys)


async def release_keys(session: AsyncSession, keys: Collection[str]) -> None:
    """Record a job that deletes these files if nothing refers to them once it runs."""
    if keys:
        await queue.enqueue(session, RELEASED_JOB, {"keys": sorted(set(keys))})


async def referenced(session: AsyncSession, key: str) -> bool:
    """Whether any upload, avatar or header still uses the file ``key``."""
    media = select(MediaAttachment.id).where(
        or_(MediaAttachment.original_key == key, MediaAttachment.small_key == key)
    )
    profile = select(User.id).where(or_(User.avatar_key == key, User.header_key == key))
    found = await session.scalar(select(or_(exists(media), exists(profile))))
    return bool(found)


async def delete_unreferenced(
    session: AsyncSession, storage: Storage, keys: Collection[str]
) -> list[str]:
    """Delete the files among ``keys`` that nothing refers to; return those deleted."""
    deleted = []
    for key in sorted(set(keys)):
        if not await referenced(session, key):
            await storage.delete(key)
            deleted.append(key)
    return deleted


async def delete_orphans(
    session: AsyncSession, storage: Storage, *, older_than: timedelta = UNATTACHED_LIFETIME
) -> int:
    """Delete uploads never attached to a post for ``older_than``, and their files; commits."""
    cutoff = utcnow() - older_than
    rows = (
        await session.execute(
            select(MediaAttachment.id, MediaAttachment.original_key, MediaAttachment.small_key)
            .where(MediaAttachment.post_id.is_(None), MediaAttachment.created_at < cutoff)
            .order_by(MediaAttachment.created_at)
            .limit(ORPHANS_PER_RUN)
        )
    ).all()
    if not rows:
        return 0
    # Only those still unattached: a post may have taken one since they were read.
    await session.execute(
        delete(MediaAttachment)
        .where(MediaAttachment.id.in_([row[0] for row in rows]), MediaAttachment.post_id.is_(None))
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    await delete_unreferenced(session, storage, [key for row in rows for key in row[1:]])
    await session.commit()
    return len(rows)

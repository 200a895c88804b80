"""Mastodon's MediaAttachment entity from an attachment's plain data."""

from __future__ import annotations

from chirp.config import Settings
from chirp.media.schemas import FocusOut, ImageMetaOut, MediaAttachmentOut, MediaMetaOut
from chirp.media.service import Attachment
from chirp.media.storage import public_url


def _size(width: int, height: int) -> ImageMetaOut:
    return ImageMetaOut(
        width=width,
        height=height,
        size=f"{width}x{height}",
        aspect=round(width / height, 6) if height else 1.0,
    )


def attachment(media: Attachment, settings: Settings) -> MediaAttachmentOut:
    """The MediaAttachment entity of an upload."""
    return MediaAttachmentOut(
        id=str(media.id),
        type=media.type,
        url=public_url(settings, media.original_key),
        preview_url=public_url(settings, media.small_key),
        meta=MediaMetaOut(
            original=_size(media.original_width, media.original_height),
            small=_size(media.small_width, media.small_height),
            focus=FocusOut(x=media.focus_x, y=media.focus_y),
        ),
        description=media.description or None,
        blurhash=media.blurhash,
    )

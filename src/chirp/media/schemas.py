"""Mastodon's MediaAttachment entity, and the inputs of the media endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from chirp.parsing import LongText, Token

# Mastodon's limit on alt text.
DESCRIPTION_LIMIT = 1500


class ImageMetaOut(BaseModel):
    """Size of one version of an image (``meta.original`` or ``meta.small``)."""

    width: int
    height: int
    size: str
    aspect: float


class FocusOut(BaseModel):
    """The focal point, from -1.0 to 1.0 on each axis (0,0 is the centre)."""

    x: float
    y: float


class MediaMetaOut(BaseModel):
    """``meta`` of a MediaAttachment."""

    original: ImageMetaOut
    small: ImageMetaOut
    focus: FocusOut


class MediaAttachmentOut(BaseModel):
    """Mastodon's MediaAttachment entity."""

    id: str
    type: str
    url: str | None
    preview_url: str | None
    remote_url: str | None = None
    preview_remote_url: str | None = None
    text_url: str | None = None
    meta: MediaMetaOut
    description: str | None
    blurhash: str | None


class MediaUpdate(BaseModel):
    """Parameters of ``PUT /api/v1/media/:id``."""

    description: LongText | None = Field(None, max_length=DESCRIPTION_LIMIT)
    # "x,y", each from -1.0 to 1.0.
    focus: Token | None = Field(None, max_length=50)
    thumbnail: Token | None = Field(None, json_schema_extra={"maxLength": 0})


def upload_docs() -> dict[str, Any]:
    """OpenAPI ``requestBody`` of the upload endpoints (multipart only)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": "A JPEG, PNG, GIF or WebP image.",
                            },
                            "description": {
                                "type": "string",
                                "maxLength": DESCRIPTION_LIMIT,
                                "description": "Alt text.",
                            },
                            "focus": {
                                "type": "string",
                                "description": "Focal point: two floats from -1.0 to 1.0, 'x,y'.",
                            },
                        },
                    }
                }
            },
        }
    }

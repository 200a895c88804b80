"""Image files read out of multipart forms: the API's uploads, the composer, Edit profile."""

from __future__ import annotations

from starlette.datastructures import FormData

from chirp.config import Settings
from chirp.errors import ValidationFailed
from chirp.media.service import too_large


async def file_bytes(form: FormData, name: str, settings: Settings) -> bytes | None:
    """The bytes of the file field ``name``; None when no file was chosen.

    413 over ``media_max_bytes``; 422 when text comes in the file's place.
    """
    upload = form.get(name)
    if isinstance(upload, str):
        if upload:
            raise ValidationFailed(f"{name} must be a file", field=name)
        return None
    # A browser sends a file field left empty as a nameless, empty file: nothing was chosen.
    if upload is None or (not upload.filename and not upload.size):
        return None
    limit = settings.media_max_bytes
    if upload.size is not None and upload.size > limit:
        raise too_large(settings)
    # Spooled by the form parser (to disk past 1 MB); never more than the limit plus one.
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise too_large(settings)
    return data

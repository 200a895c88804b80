"""GET /media/{key}: uploaded images kept on local disk, served by Chirp itself."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chirp.errors import NotFound
from chirp.media.storage import CACHE_CONTROL, PUBLIC_PATH, LocalStorage, content_type_of, is_key
from chirp.web.files import send_file

router = APIRouter(include_in_schema=False)

# Nothing in an image needs to run or load anything, even opened on its own.
_CSP = "default-src 'none'; sandbox"


@router.get(PUBLIC_PATH + "/{key}")
async def media_file(request: Request, key: str) -> Response:
    """Serve a stored image: immutable (its name is its content's hash), typed by Chirp."""
    storage = request.app.state.media_storage
    # Only a well-formed key is looked up: no path, no dot-dot, no other file.
    if not is_key(key) or not isinstance(storage, LocalStorage):
        raise NotFound()
    return await send_file(
        storage.path(key),
        media_type=content_type_of(key),
        headers={
            "Cache-Control": CACHE_CONTROL,
            "Content-Security-Policy": _CSP,
            "X-Content-Type-Options": "nosniff",
        },
    )

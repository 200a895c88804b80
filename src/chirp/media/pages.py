"""Web pages' images: the composer's uploads and the alt text of posted images."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response

from chirp.config import Settings
from chirp.deps import SessionDep, SettingsDep
from chirp.errors import ChirpError, ValidationFailed
from chirp.media import api as media_api
from chirp.media import composer
from chirp.media import service as media_service
from chirp.media.api import StorageDep
from chirp.media.service import Attachment
from chirp.parsing import LongText, path_id
from chirp.ratelimit.deps import enforce_uploads
from chirp.web.htmx import local_referer, redirect, render, safe_next
from chirp.web.session import CurrentUser

router = APIRouter()

UPLOAD_PATH = "/media"
ALT_SAVED = "The image description was saved."
TOO_MANY_UPLOADS = "You have uploaded many images in a short time. Try again in a few minutes."


def upload_limits(settings: Settings) -> dict[str, int]:
    """Largest multipart body of the web routes that take images (by exact path)."""
    return {
        UPLOAD_PATH: settings.media_max_bytes + 64 * 1024,
        "/posts": composer.post_limit(settings),
    }


@router.post(UPLOAD_PATH)
async def upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    viewer: CurrentUser,
) -> Response:
    """Upload an image chosen in a composer (multipart ``file``); answer its preview, which
    the composer shows until the post is sent (413 too large, 422 not an image, 429 too many
    uploads)."""
    try:
        await enforce_uploads(request)
    except HTTPException as exc:
        # Said in the composer, where the upload was refused (not as a whole error page).
        return render(
            request,
            "media/_upload_error.html",
            {"message": TOO_MANY_UPLOADS},
            status_code=429,
            headers=dict(exc.headers or {}),
        )
    try:
        data = await media_api.read_file(request, "file", settings)
        if data is None:
            raise ValidationFailed("Choose an image file to upload", field="file")
        media = await media_service.upload(session, storage, settings, account=viewer, data=data)
    except ChirpError as exc:
        return render(
            request, "media/_upload_error.html", {"message": exc.message}, status_code=exc.status
        )
    await session.commit()
    context = {"media": Attachment.of(media)}
    return render(request, "media/_preview.html", context, viewer=viewer)


@router.post("/media/{media_id}/description")
async def describe(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    media_id: str,
    description: Annotated[LongText, Form()] = "",
    next: Annotated[LongText | None, Form()] = None,
) -> Response:
    """Change the alt text of one of your images, posted or not (up to 1,500 characters)."""
    back = safe_next(next or local_referer(request))
    await media_service.update_details(
        session, account=viewer, media_id=path_id(media_id), description=description, focus=None
    )
    await session.commit()
    return redirect(request, back, message=ALT_SAVED)


@router.post("/media/{media_id}/delete")
async def remove(session: SessionDep, viewer: CurrentUser, media_id: str) -> Response:
    """Delete an upload taken out of a composer before posting (422 once it is posted)."""
    await media_service.delete_unattached(session, account=viewer, media_id=path_id(media_id))
    await session.commit()
    return Response(status_code=204)

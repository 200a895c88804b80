"""Mastodon API: upload images, read, describe and delete your uploads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import UploadFile

from chirp.api.auth import UserContext, require_user
from chirp.api.params import body_docs, params, read_params
from chirp.config import Settings
from chirp.deps import SessionDep, SettingsDep
from chirp.errors import ValidationFailed
from chirp.media import form_files, present
from chirp.media import service as media_service
from chirp.media.schemas import MediaAttachmentOut, MediaUpdate, upload_docs
from chirp.media.service import Attachment
from chirp.media.storage import Storage
from chirp.parsing import path_id
from chirp.ratelimit.deps import enforce_uploads

router = APIRouter(tags=["media"])

UPLOAD_PATHS = ("/api/v1/media", "/api/v2/media")
PROFILE_UPLOAD_PATH = "/api/v1/accounts/update_credentials"
PROFILE_PAGE_PATH = "/settings/profile"  # the Edit profile form, with its two file fields
# Room for the form around the file (boundaries, description, focus).
_FORM_SLACK = 64 * 1024

WriteMedia = Annotated[UserContext, Depends(require_user("write:media"))]


def upload_limits(settings: Settings) -> dict[str, int]:
    """Largest multipart body of each route that takes images (an avatar and a header)."""
    one = settings.media_max_bytes + _FORM_SLACK
    limits = dict.fromkeys(UPLOAD_PATHS, one)
    both = max(settings.max_body_bytes, 2 * settings.media_max_bytes + one)
    limits[PROFILE_UPLOAD_PATH] = both
    limits[PROFILE_PAGE_PATH] = both
    return limits


def media_storage(request: Request) -> Storage:
    """The storage this app keeps images in."""
    storage: Storage = request.app.state.media_storage
    return storage


StorageDep = Annotated[Storage, Depends(media_storage)]


async def read_file(request: Request, name: str, settings: Settings) -> bytes | None:
    """The bytes of the uploaded file ``name`` (None if not sent); 413 over the limit."""
    content_type = request.headers.get("content-type", "").lower()
    if not content_type.startswith("multipart/form-data"):
        return None
    return await form_files.file_bytes(await request.form(), name, settings)


async def _has_file(request: Request, name: str) -> bool:
    """Whether a multipart request carries a file ``name``."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return False
    return isinstance((await request.form()).get(name), UploadFile)


async def _upload(
    request: Request, session: SessionDep, settings: Settings, ctx: UserContext, storage: Storage
) -> MediaAttachmentOut:
    fields = await read_params(request)
    if fields.get("thumbnail") not in (None, "") or await _has_file(request, "thumbnail"):
        raise ValidationFailed(
            "thumbnail is not supported here: Chirp takes images only, which need none",
            field="thumbnail",
            code="ERR_UNSUPPORTED",
        )
    data = await read_file(request, "file", settings)
    if data is None:
        raise ValidationFailed("file is missing: send the image as a multipart file", field="file")
    description, focus = fields.get("description"), fields.get("focus")
    media = await media_service.upload(
        session,
        storage,
        settings,
        account=ctx.user,
        data=data,
        description=description if isinstance(description, str) else None,
        focus=focus if isinstance(focus, str) else None,
    )
    await session.commit()
    return present.attachment(Attachment.of(media), settings)


@router.post("/api/v2/media", response_model=MediaAttachmentOut, openapi_extra=upload_docs())
async def upload_v2(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ctx: WriteMedia,
    storage: StorageDep,
    _limit: Annotated[None, Depends(enforce_uploads)] = None,
) -> MediaAttachmentOut:
    """Upload an image (multipart ``file``, ``description``, ``focus``); ready at once (200).

    Chirp processes every image within the request, so it never answers 202.
    """
    return await _upload(request, session, settings, ctx, storage)


@router.post(
    "/api/v1/media",
    response_model=MediaAttachmentOut,
    openapi_extra=upload_docs(),
    deprecated=True,
)
async def upload_v1(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ctx: WriteMedia,
    storage: StorageDep,
    _limit: Annotated[None, Depends(enforce_uploads)] = None,
) -> MediaAttachmentOut:
    """Upload an image (Mastodon's deprecated v1, the same as v2)."""
    return await _upload(request, session, settings, ctx, storage)


@router.get("/api/v1/media/{media_id}", response_model=MediaAttachmentOut)
async def get_media(
    media_id: str, session: SessionDep, settings: SettingsDep, ctx: WriteMedia, response: Response
) -> MediaAttachmentOut:
    """One of your uploads (200: processed; Chirp's uploads are always ready)."""
    media = await media_service.get_own(session, account=ctx.user, media_id=path_id(media_id))
    return present.attachment(Attachment.of(media), settings)


@router.put(
    "/api/v1/media/{media_id}",
    response_model=MediaAttachmentOut,
    openapi_extra=body_docs(MediaUpdate),
)
async def update_media(
    media_id: str,
    session: SessionDep,
    settings: SettingsDep,
    ctx: WriteMedia,
    body: Annotated[MediaUpdate, Depends(params(MediaUpdate))],
) -> MediaAttachmentOut:
    """Change the alt text (``description``) or ``focus`` of one of your uploads."""
    if body.thumbnail:
        raise ValidationFailed(
            "thumbnail is not supported here: Chirp takes images only, which need none",
            field="thumbnail",
            code="ERR_UNSUPPORTED",
        )
    media = await media_service.update_details(
        session,
        account=ctx.user,
        media_id=path_id(media_id),
        description=body.description,
        focus=body.focus,
    )
    await session.commit()
    return present.attachment(Attachment.of(media), settings)


@router.delete("/api/v1/media/{media_id}", response_model=MediaAttachmentOut)
async def delete_media(
    media_id: str, session: SessionDep, settings: SettingsDep, ctx: WriteMedia
) -> MediaAttachmentOut:
    """Delete one of your uploads not attached to a status (422 if attached)."""
    media = await media_service.delete_unattached(
        session, account=ctx.user, media_id=path_id(media_id)
    )
    entity = present.attachment(Attachment.of(media), settings)
    await session.commit()
    return entity

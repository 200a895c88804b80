"""The web composer's images: read from its form, uploaded and described through the service.

With JavaScript, files are uploaded as they are chosen (``POST /media``) and the form sends
their ids (``media_ids``) with alt text (``media_description_<id>``). Without it, the form
carries the files themselves (``file_<n>``, ``description_<n>``), uploaded here before the
post is written, through the same service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from chirp.config import Settings
from chirp.errors import ChirpError, NotFound, ValidationFailed
from chirp.media import form_files
from chirp.media import service as media_service
from chirp.media.models import MediaAttachment
from chirp.media.service import Attachment
from chirp.media.storage import Storage
from chirp.parsing import ascii_int
from chirp.users.models import User

# Room for the rest of a composer's form around its files.
_FORM_SLACK = 256 * 1024


@dataclass
class ComposerMedia:
    """What a composer form says about images."""

    # Uploads already made, in order, with the alt text typed for each.
    ids: list[int] = field(default_factory=list)
    descriptions: dict[int, str] = field(default_factory=dict)
    # Files sent with the form (no JavaScript): (number of the field, bytes, alt text).
    files: list[tuple[int, bytes, str]] = field(default_factory=list)


def post_limit(settings: Settings) -> int:
    """Largest composer form: every image a post may carry, at the largest size, and text."""
    return settings.max_media_attachments * settings.media_max_bytes + _FORM_SLACK


async def read_form(form: FormData, settings: Settings) -> ComposerMedia:
    """The images of a composer form; 413 for a file over the limit, 422 for a bad id."""
    found = ComposerMedia()
    for raw in form.getlist("media_ids"):
        media_id = ascii_int(raw) if isinstance(raw, str) else None
        if media_id is None:
            raise ValidationFailed("Media not found", field="media_ids")
        if media_id not in found.ids:
            found.ids.append(media_id)
        text = form.get(f"media_description_{media_id}")
        if isinstance(text, str):
            found.descriptions[media_id] = text
    for number in range(1, settings.max_media_attachments + 1):
        try:
            data = await form_files.file_bytes(form, f"file_{number}", settings)
        except ChirpError as exc:
            raise _numbered(number, exc) from exc
        if data is None:
            continue
        text = form.get(f"description_{number}")
        found.files.append((number, data, text if isinstance(text, str) else ""))
    return found


def _numbered(number: int, exc: ChirpError) -> ChirpError:
    """The error of one file, saying which (the page lists them by number)."""
    exc.message = f"Image {number}: {exc.message}"
    return exc


async def upload_files(
    session: AsyncSession,
    storage: Storage,
    settings: Settings,
    *,
    account: User,
    chosen: ComposerMedia,
) -> None:
    """Upload the files a form carried, adding each one's id to ``chosen.ids`` as it is
    stored (the caller commits them, even when a later file is refused: they are then
    shown again in the composer, as uploads made with JavaScript are)."""
    most = settings.max_media_attachments
    if len(chosen.ids) + len(chosen.files) > most:
        raise ValidationFailed(f"A post may have at most {most} images", field="media_ids")
    files, chosen.files = chosen.files, []
    for number, data, description in files:
        try:
            media = await media_service.upload(
                session, storage, settings, account=account, data=data, description=description
            )
        except ChirpError as exc:
            raise _numbered(number, exc) from exc
        chosen.ids.append(media.id)


async def describe(session: AsyncSession, *, account: User, chosen: ComposerMedia) -> None:
    """Save the alt text typed for uploads already made (only the author's own; 422 if not)."""
    for media_id, text in chosen.descriptions.items():
        try:
            await media_service.update_details(
                session, account=account, media_id=media_id, description=text, focus=None
            )
        except NotFound as exc:
            raise ValidationFailed("Media not found", field="media_ids") from exc


async def previews(
    session: AsyncSession, *, account: User, ids: Sequence[int], descriptions: dict[int, str]
) -> list[Attachment]:
    """The author's unattached uploads among ``ids``, with the alt text typed, to show again
    in a composer whose post was refused (others' and attached ones are left out)."""
    rows = await session.scalars(select(MediaAttachment).where(MediaAttachment.id.in_(ids)))
    found = {row.id: row for row in rows}
    shown = []
    for media_id in ids:
        media = found.get(media_id)
        if media is None or media.account_id != account.id or media.post_id is not None:
            continue
        item = Attachment.of(media)
        text = descriptions.get(media_id)
        shown.append(item if text is None else replace(item, description=text))
    return shown

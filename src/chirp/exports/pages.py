"""Settings → Download your data: ask for an archive, watch it being made, download it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from chirp.deps import SessionDep, SettingsDep
from chirp.exports import service, storage
from chirp.exports.models import Export
from chirp.exports.service import ExportInProgress, ExportTooSoon
from chirp.parsing import path_id
from chirp.users.models import User
from chirp.web.files import send_file
from chirp.web.htmx import redirect, render
from chirp.web.session import CurrentUser

router = APIRouter()


def _context(export: Export | None, *, error: str | None = None) -> dict[str, object]:
    return {"export": export, "next_allowed": service.next_allowed(export), "error": error}


async def _page(
    request: Request,
    session: SessionDep,
    viewer: User,
    *,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    export = await service.latest(session, user_id=viewer.id)
    return render(
        request,
        "exports/export.html",
        _context(export, error=error),
        viewer=viewer,
        status_code=status_code,
        headers=headers,
    )


@router.get("/settings/export")
async def export_page(request: Request, session: SessionDep, viewer: CurrentUser) -> Response:
    """Your latest archive and the button that asks for a new one."""
    return await _page(request, session, viewer)


@router.get("/settings/export/status")
async def export_status(request: Request, session: SessionDep, viewer: CurrentUser) -> Response:
    """How far your archive is: the part of the page htmx refreshes while it is made."""
    export = await service.latest(session, user_id=viewer.id)
    return render(request, "exports/_status.html", _context(export), viewer=viewer)


@router.post("/settings/export")
async def request_export(request: Request, session: SessionDep, viewer: CurrentUser) -> Response:
    """Ask for an archive of your data (one at a time, one a day)."""
    try:
        await service.request(session, user=viewer)
    except ExportTooSoon as exc:
        headers = {"Retry-After": str(exc.retry_after)}
        return await _page(
            request, session, viewer, error=exc.message, status_code=429, headers=headers
        )
    except ExportInProgress as exc:
        return await _page(request, session, viewer, error=exc.message, status_code=409)
    await session.commit()
    return redirect(
        request,
        "/settings/export",
        message="Your archive is being prepared. You can leave this page: it will wait here.",
    )


@router.get("/settings/export/{export_id}/download")
async def download_export(
    export_id: str, session: SessionDep, settings: SettingsDep, viewer: CurrentUser
) -> Response:
    """Your archive, as a zip file to save (nobody else's)."""
    export = await service.downloadable(session, user=viewer, export_id=path_id(export_id))
    assert export.key is not None
    day = export.created_at.strftime("%Y-%m-%d")
    return await send_file(
        storage.path_of(settings, export.key),
        media_type="application/zip",
        headers={"Cache-Control": "private, no-store"},
        download_as=f"chirp-{viewer.username}-{day}.zip",
        missing="This archive's file is gone: please ask for a new one.",
    )

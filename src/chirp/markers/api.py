"""Mastodon API: read positions in the home timeline and the notifications."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from chirp.api import present
from chirp.api.auth import UserContext, require_user
from chirp.api.params import read_params
from chirp.deps import SessionDep
from chirp.errors import ValidationFailed
from chirp.markers import service as markers_service
from chirp.markers.models import Marker
from chirp.markers.schemas import MarkerOut
from chirp.parsing import ShortText, ascii_int

router = APIRouter(prefix="/api/v1/markers", tags=["markers"])

_BODY_DOCS = {
    "requestBody": {
        "content": {
            media: {
                "schema": {
                    "type": "object",
                    "properties": {
                        timeline: {
                            "type": "object",
                            "properties": {"last_read_id": {"type": "string"}},
                        }
                        for timeline in markers_service.TIMELINES
                    },
                }
            }
            for media in (
                "application/json",
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            )
        }
    }
}


def _out(markers: list[Marker]) -> dict[str, MarkerOut]:
    return {
        m.timeline: MarkerOut(
            last_read_id=str(m.last_read_id),
            version=m.version,
            updated_at=present.iso(m.updated_at),
        )
        for m in markers
    }


@router.get("", response_model=dict[str, MarkerOut])
async def get_markers(
    request: Request,
    session: SessionDep,
    ctx: Annotated[UserContext, Depends(require_user("read:statuses"))],
    _timeline: Annotated[
        list[ShortText],
        Query(alias="timeline[]", description="`home` and/or `notifications` (none: `{}`)."),
    ] = [],  # noqa: B006 - FastAPI copies defaults
) -> dict[str, MarkerOut]:
    """Your saved read positions in the timelines asked for."""
    names = request.query_params.getlist("timeline[]") + request.query_params.getlist("timeline")
    found = await markers_service.get(session, user_id=ctx.user.id, timelines=names[:10])
    return _out(found)


@router.post("", response_model=dict[str, MarkerOut], openapi_extra=_BODY_DOCS)
async def save_markers(
    session: SessionDep,
    ctx: Annotated[UserContext, Depends(require_user("write:statuses"))],
    data: Annotated[dict[str, Any], Depends(read_params)],
) -> dict[str, MarkerOut]:
    """Save your read position in ``home`` and/or ``notifications`` (``<name>[last_read_id]``)."""
    positions = _positions(data)
    saved = await markers_service.save(session, user_id=ctx.user.id, positions=positions)
    await session.commit()
    return _out(saved)


def _positions(data: dict[str, Any]) -> dict[str, int]:
    """``{timeline: id}`` from ``home[last_read_id]`` (form) or ``{"home": {...}}`` (JSON)."""
    positions: dict[str, int] = {}
    for timeline in markers_service.TIMELINES:
        raw = data.get(timeline)
        if raw is None:
            raw = data.get(f"{timeline}[last_read_id]")
        elif isinstance(raw, dict):
            raw = raw.get("last_read_id")
        else:
            raise ValidationFailed(f"{timeline} must hold last_read_id", field=timeline)
        if raw is None:
            continue
        value = ascii_int(str(raw)) if isinstance(raw, (str, int)) else None
        if value is None:
            field = f"{timeline}[last_read_id]"
            raise ValidationFailed(f"{field} must be a numeric id", field=field)
        positions[timeline] = value
    return positions

"""Query parameters shared by list endpoints, and path ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from chirp.errors import NotFound, ValidationFailed
from chirp.pagination import DEFAULT_LIMIT, MAX_LIMIT, Cursor

_MAX_ID = 2**63 - 1


def parse_id(raw: str) -> int:
    """A numeric id from a path; anything else is a record that does not exist (404)."""
    if not raw.isdigit() or int(raw) > _MAX_ID:
        raise NotFound()
    return int(raw)


def _bound(name: str, raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or int(raw) > _MAX_ID:
        raise ValidationFailed(f"{name} must be a numeric id", field=name)
    return int(raw)


async def _cursor(  # async: no worker-thread hop (see chirp.deps)
    max_id: Annotated[str | None, Query(description="Return results older than this id.")] = None,
    since_id: Annotated[str | None, Query(description="Return results newer than this id.")] = None,
    min_id: Annotated[
        str | None, Query(description="Return results immediately newer than this id.")
    ] = None,
    limit: Annotated[int, Query(description=f"At most {MAX_LIMIT}.")] = DEFAULT_LIMIT,
) -> Cursor:
    return Cursor(
        max_id=_bound("max_id", max_id),
        since_id=_bound("since_id", since_id),
        min_id=_bound("min_id", min_id),
        limit=limit,
    ).clamp()


CursorDep = Annotated[Cursor, Depends(_cursor)]

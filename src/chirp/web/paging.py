"""The "load more" cursor of the web pages."""

from __future__ import annotations

from chirp.pagination import Cursor
from chirp.parsing import path_id


def cursor(max_id: str | None, page_size: int) -> Cursor:
    """A cursor from a ``max_id`` query parameter (invalid ids give a 404)."""
    return Cursor(max_id=path_id(max_id) if max_id else None, limit=page_size)


def next_max_id(ids: list[int], page_size: int) -> int | None:
    """Where the next page starts, or None when this page was the last."""
    return ids[-1] if len(ids) >= page_size else None

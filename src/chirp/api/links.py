"""Pagination ``Link`` headers, as Mastodon sends them."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request, Response


def set_link_header(
    request: Request, response: Response, *, newest_id: int | None, oldest_id: int | None
) -> None:
    """Add ``next`` (older) and ``prev`` (newer) links; none on an empty page."""
    if newest_id is None or oldest_id is None:
        return
    keep = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k not in ("max_id", "min_id", "since_id")
    ]
    base = str(request.url.replace(query=""))
    next_url = f"{base}?{urlencode([*keep, ('max_id', str(oldest_id))])}"
    prev_url = f"{base}?{urlencode([*keep, ('min_id', str(newest_id))])}"
    response.headers["Link"] = f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'


def link_pages(request: Request, response: Response, ids: list[int]) -> None:
    """Add the links of a page whose entries are paged by ``ids`` (newest first)."""
    set_link_header(
        request, response, newest_id=ids[0] if ids else None, oldest_id=ids[-1] if ids else None
    )

"""Pagination ``Link`` headers, as Mastodon sends them."""

from __future__ import annotations

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
    base = request.url.replace(query="")
    next_url = base.include_query_params(**dict(keep), max_id=str(oldest_id))
    prev_url = base.include_query_params(**dict(keep), min_id=str(newest_id))
    response.headers["Link"] = f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'

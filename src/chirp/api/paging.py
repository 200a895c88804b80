"""Query parameters shared by list endpoints, and path ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from starlette.convertors import Convertor, register_url_convertor

from chirp.pagination import DEFAULT_LIMIT, MAX_LIMIT, Cursor
from chirp.parsing import Limit, path_id, query_id

__all__ = ["CursorDep", "parse_id"]

# The path-id rule lives with the other parsers; kept under this name for the handlers.
parse_id = path_id

_ID_PATTERN = r"^[0-9]{0,19}$"

# The name of a path segment that only ever holds an id: "/accounts/{account_id:id}".
ID_SEGMENT = "id"


class _IdSegment(Convertor[str]):
    """A path segment of up to 19 ASCII digits, kept as text for ``parse_id`` to check."""

    # Where a fixed path shares a prefix with an id route (PATCH /accounts/update_credentials
    # and GET /accounts/{id}), only the fixed one matches it, so 405s list its methods alone.
    regex = "[0-9]{1,19}"

    def convert(self, value: str) -> str:
        """The segment as matched."""
        return value

    def to_string(self, value: str) -> str:
        """The segment to put in a URL."""
        return value


# Routes name the convertor when their module is imported, so it is registered here first.
register_url_convertor(ID_SEGMENT, _IdSegment())


async def _cursor(  # async: no worker-thread hop (see chirp.deps)
    max_id: Annotated[
        str | None,
        Query(description="Return results older than this id.", pattern=_ID_PATTERN),
    ] = None,
    since_id: Annotated[
        str | None,
        Query(description="Return results newer than this id.", pattern=_ID_PATTERN),
    ] = None,
    min_id: Annotated[
        str | None,
        Query(description="Return results immediately newer than this id.", pattern=_ID_PATTERN),
    ] = None,
    limit: Annotated[
        Limit, Query(description=f"At most {MAX_LIMIT}; larger values are taken as {MAX_LIMIT}.")
    ] = DEFAULT_LIMIT,
) -> Cursor:
    return Cursor(
        max_id=query_id("max_id", max_id),
        since_id=query_id("since_id", since_id),
        min_id=query_id("min_id", min_id),
        limit=limit,
    ).clamp()


CursorDep = Annotated[Cursor, Depends(_cursor)]

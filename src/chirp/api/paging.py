"""Query parameters shared by list endpoints, and path ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from starlette.convertors import Convertor, register_url_convertor

from chirp.pagination import DEFAULT_LIMIT, MAX_LIMIT, Cursor
from chirp.parsing import Limit, path_id, query_id

__all__ = ["AccountsCursorDep", "CursorDep", "parse_id"]

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


# Mastodon pages accounts (followers, following) 40 at a time, up to 80 on request.
ACCOUNTS_DEFAULT_LIMIT = 40
ACCOUNTS_MAX_LIMIT = 80


_MaxId = Annotated[
    str | None, Query(description="Return results older than this id.", pattern=_ID_PATTERN)
]
_SinceId = Annotated[
    str | None, Query(description="Return results newer than this id.", pattern=_ID_PATTERN)
]
_MinId = Annotated[
    str | None,
    Query(description="Return results immediately newer than this id.", pattern=_ID_PATTERN),
]
_StatusesLimit = Annotated[
    Limit, Query(description=f"At most {MAX_LIMIT}; larger values are taken as {MAX_LIMIT}.")
]
_AccountsLimit = Annotated[
    Limit,
    Query(
        description=f"At most {ACCOUNTS_MAX_LIMIT}; larger values are taken as "
        f"{ACCOUNTS_MAX_LIMIT}."
    ),
]


def _cursor(
    max_id: str | None, since_id: str | None, min_id: str | None, limit: int, maximum: int
) -> Cursor:
    return Cursor(
        max_id=query_id("max_id", max_id),
        since_id=query_id("since_id", since_id),
        min_id=query_id("min_id", min_id),
        limit=limit,
    ).clamp(maximum)


async def _statuses_cursor(  # async: no worker-thread hop (see chirp.deps)
    max_id: _MaxId = None,
    since_id: _SinceId = None,
    min_id: _MinId = None,
    limit: _StatusesLimit = DEFAULT_LIMIT,
) -> Cursor:
    return _cursor(max_id, since_id, min_id, limit, MAX_LIMIT)


async def _accounts_cursor(
    max_id: _MaxId = None,
    since_id: _SinceId = None,
    min_id: _MinId = None,
    limit: _AccountsLimit = ACCOUNTS_DEFAULT_LIMIT,
) -> Cursor:
    return _cursor(max_id, since_id, min_id, limit, ACCOUNTS_MAX_LIMIT)


CursorDep = Annotated[Cursor, Depends(_statuses_cursor)]
"""Paging of statuses: 20 by default, at most 40."""
AccountsCursorDep = Annotated[Cursor, Depends(_accounts_cursor)]
"""Paging of accounts (followers, following): 40 by default, at most 80."""

"""The "load more" cursor of the web pages, and the pages restored after Back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from chirp.pagination import Cursor
from chirp.parsing import path_id

# "Load more" leaves ``?until=<last post shown>`` in the address, so Back (and reload) renders
# every page loaded so far in one answer and the browser restores the scroll position. This
# many pages at most: past them, "Load more" goes on from where the answer stops.
RESTORED_PAGES = 10


class HasId(Protocol):
    """Anything listed by id (posts)."""

    @property
    def id(self) -> int: ...


T = TypeVar("T", bound=HasId)


@dataclass(frozen=True)
class Listed(Generic[T]):
    """The posts a page shows and where the next page starts (None: nothing more to load)."""

    items: list[T]
    next_max_id: int | None


def cursor(max_id: str | None, page_size: int) -> Cursor:
    """A cursor from a ``max_id`` query parameter (invalid ids give a 404)."""
    return Cursor(max_id=path_id(max_id) if max_id else None, limit=page_size)


def next_max_id(ids: list[int], page_size: int) -> int | None:
    """Where the next page starts, or None when this page was the last."""
    return ids[-1] if len(ids) >= page_size else None


async def read(
    fetch: Callable[[Cursor], Awaitable[Sequence[T]]],
    *,
    max_id: str | None,
    until: str | None,
    page_size: int,
) -> Listed[T]:
    """One page after ``max_id``, or every page from the newest down to ``until``."""
    if until and not max_id:
        oldest = path_id(until)
        items = list(await fetch(Cursor(since_id=oldest - 1, limit=page_size * RESTORED_PAGES)))
        if items:
            # One id more tells whether "Load more" would find anything.
            more = await fetch(Cursor(max_id=items[-1].id, limit=1))
            return Listed(items, items[-1].id if more else None)
    # One more than a page tells whether there is a next page, so the last page ends with
    # the end-of-timeline marker instead of a "Load more" that loads nothing.
    after = path_id(max_id) if max_id else None
    found = list(await fetch(Cursor(max_id=after, limit=page_size + 1)))
    items = found[:page_size]
    return Listed(items, items[-1].id if len(found) > page_size else None)

"""Turn tags and their uses into Mastodon's Tag entity."""

from __future__ import annotations

from collections.abc import Iterable

from chirp.config import Settings
from chirp.posts.text import tag_path
from chirp.tags.schemas import TagHistoryOut, TagOut
from chirp.tags.trends import DayUse


def tag(name: str, history: Iterable[DayUse], settings: Settings) -> TagOut:
    """Mastodon's Tag entity for the tag ``name`` (as first written) and its history."""
    return TagOut(
        name=name,
        url=settings.base_url + tag_path(name),
        history=[
            TagHistoryOut(
                day=str(int(day.day.timestamp())), uses=str(day.uses), accounts=str(day.accounts)
            )
            for day in history
        ],
    )

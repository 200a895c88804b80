"""Mastodon's Marker entity."""

from __future__ import annotations

from pydantic import BaseModel


class MarkerOut(BaseModel):
    """The newest item read in one timeline."""

    last_read_id: str
    version: int
    updated_at: str

"""Human-friendly times for the web UI."""

from __future__ import annotations

from datetime import UTC, datetime

from chirp.db import utcnow


def relative_time(moment: datetime, now: datetime | None = None) -> str:
    """Return a short relative time: ``now``, ``5m``, ``3h``, ``Nov 3`` or ``Nov 3, 2024``."""
    now = now or utcnow()
    seconds = int((now - moment).total_seconds())
    if seconds < 45:
        return "now"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    if seconds < 7 * 86400:
        return f"{seconds // 86400}d"
    if moment.year == now.year:
        return f"{moment:%b} {moment.day}"
    return f"{moment:%b} {moment.day}, {moment.year}"


def exact_time(moment: datetime) -> str:
    """Return the full UTC time, for hover titles."""
    return f"{moment:%A, %B} {moment.day}, {moment:%Y at %H:%M} UTC"


def month_year(moment: datetime) -> str:
    """Return the month and year, for "Joined November 2026"."""
    return f"{moment:%B %Y}"


def iso_time(moment: datetime) -> str:
    """Return the machine-readable UTC time of a ``<time datetime>``: ``2026-11-03T09:05:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

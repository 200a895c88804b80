"""Mastodon API: ``/api/v1/instance`` and ``/api/v2/instance``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from chirp import __version__
from chirp.config import Settings
from chirp.deps import SettingsDep
from chirp.instance.service import InstanceStats, Stats
from chirp.media.processing import SUPPORTED_MIME_TYPES
from chirp.media.schemas import DESCRIPTION_LIMIT
from chirp.posts.text import URL_WEIGHT

router = APIRouter(tags=["instance"])


async def _stats(request: Request) -> Stats:
    # Counted in the background (see InstanceStats.run): clients and crawlers call these
    # endpoints often, and counting users per call grew with the whole database.
    stats: InstanceStats = request.app.state.instance_stats
    return stats.current()


StatsDep = Annotated[Stats, Depends(_stats)]

# Clients compare this against Mastodon releases to decide which features to use.
MASTODON_COMPAT = "4.3.0"


def version() -> str:
    """The version string clients parse."""
    return f"{MASTODON_COMPAT} (compatible; Chirp {__version__})"


def _statuses(settings: Settings) -> dict[str, int]:
    return {
        "max_characters": settings.max_post_length,
        "max_media_attachments": settings.max_media_attachments,
        "characters_reserved_per_url": URL_WEIGHT,
    }


def _media(settings: Settings) -> dict[str, Any]:
    """What uploads may be: images only (no video or audio), within the media settings."""
    return {
        "supported_mime_types": SUPPORTED_MIME_TYPES,
        "description_limit": DESCRIPTION_LIMIT,
        "image_size_limit": settings.media_max_bytes,
        "image_matrix_limit": settings.media_max_pixels,
        "video_size_limit": 0,
        "video_frame_rate_limit": 0,
        "video_matrix_limit": 0,
    }


_POLLS = {
    "max_options": 0,
    "max_characters_per_option": 0,
    "min_expiration": 0,
    "max_expiration": 0,
}


def _streaming_url(settings: Settings) -> str:
    """Where clients open the streaming API: this host, over WebSocket (as Mastodon gives it)."""
    return f"{'wss' if settings.https else 'ws'}://{settings.domain}"


@router.get("/api/v1/instance")
async def instance_v1(settings: SettingsDep, stats: StatsDep) -> dict[str, Any]:
    """This server's name, version, limits and statistics (v1 entity)."""
    return {
        "uri": settings.domain,
        "title": settings.instance_title,
        "short_description": settings.instance_description,
        "description": settings.instance_description,
        # Left out when not configured: an empty string is not an email address.
        **({"email": settings.contact_email} if settings.contact_email else {}),
        "version": version(),
        # Clients connect to ``<streaming_api>/api/v1/streaming``: served by the web processes.
        "urls": {"streaming_api": _streaming_url(settings)},
        "stats": {"user_count": stats.users, "status_count": stats.posts, "domain_count": 0},
        "thumbnail": f"{settings.base_url}/static/header.png",
        "languages": ["en"],
        "registrations": settings.registrations_open,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": {
            "accounts": {"max_featured_tags": 0},
            "statuses": _statuses(settings),
            "media_attachments": _media(settings),
            "polls": _POLLS,
        },
        "contact_account": None,
        "rules": [],
    }


@router.get("/api/v2/instance")
async def instance_v2(settings: SettingsDep, stats: StatsDep) -> dict[str, Any]:
    """This server's name, version, limits and statistics (v2 entity)."""
    return {
        "domain": settings.domain,
        "title": settings.instance_title,
        "version": version(),
        "source_url": "",
        "description": settings.instance_description,
        "usage": {"users": {"active_month": stats.active_month}},
        "thumbnail": {"url": f"{settings.base_url}/static/header.png"},
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": {"streaming": _streaming_url(settings), "status": None},
            "vapid": {"public_key": ""},
            "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
            "statuses": _statuses(settings),
            "media_attachments": _media(settings),
            "polls": _POLLS,
            "translation": {"enabled": False},
        },
        "registrations": {
            "enabled": settings.registrations_open,
            "approval_required": False,
            "message": None,
            "url": None,
        },
        "api_versions": {"mastodon": 2},
        "contact": {
            **({"email": settings.contact_email} if settings.contact_email else {}),
            "account": None,
        },
        "rules": [],
    }

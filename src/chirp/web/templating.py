"""Jinja2 environment with Chirp's filters and globals."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from chirp import __version__, visibility
from chirp.avatars.urls import avatar_path
from chirp.config import Settings
from chirp.media import display as media_display
from chirp.posts.reposts import QUOTE_POLICY_LABELS
from chirp.posts.text import post_html
from chirp.reactions import emoji
from chirp.users import profile_html
from chirp.web.csrf import CSRF_FIELD, csrf_token
from chirp.web.htmx import current_path
from chirp.web.timefmt import exact_time, iso_time, month_year, relative_time

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


def make_templates(settings: Settings) -> Jinja2Templates:
    """Create the template renderer for one app."""
    templates = Jinja2Templates(directory=TEMPLATE_DIR)
    env = templates.env
    env.globals.update(
        settings=settings,
        version=__version__,
        csrf_token=csrf_token,
        csrf_field=CSRF_FIELD,
        current_path=current_path,
        avatar_path=lambda user: avatar_path(user, settings),
        visibility_labels=visibility.LABELS,
        post_visibility_labels=visibility.POST_LABELS,
        common_reactions=emoji.COMMON,
        quote_policy_labels=QUOTE_POLICY_LABELS,
        profile_fields=profile_html.fields_html,
        media_src=lambda key: media_display.media_src(settings, key),
        media_placeholder=media_display.placeholder,
        media_grid_class=media_display.grid_class,
        media_accept=media_display.ACCEPT,
    )
    env.filters.update(
        post_html=post_html,
        note_html=profile_html.note_html,
        reltime=relative_time,
        exacttime=exact_time,
        isotime=iso_time,
        monthyear=month_year,
        num=thousands,
    )
    return templates


def thousands(value: int) -> str:
    """Return a count with thousands separators: ``12,345``."""
    return f"{value:,}"

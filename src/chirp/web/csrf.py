"""CSRF protection for the web UI: a signed double-submit token."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from chirp.auth.tokens import new_token, same_secret
from chirp.errors import Forbidden

CSRF_COOKIE = "chirp_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _sign(secret_key: str, raw: str) -> str:
    return hmac.new(secret_key.encode(), f"csrf:{raw}".encode(), hashlib.sha256).hexdigest()


def csrf_raw(request: Request) -> str:
    """Return this browser's CSRF secret, minting one for the response if it has none."""
    raw: str | None = getattr(request.state, "csrf_raw", None)
    if raw is None:
        raw = request.cookies.get(CSRF_COOKIE) or new_token()
        request.state.csrf_raw = raw
    return raw


def csrf_token(request: Request) -> str:
    """Return the token forms and htmx requests must send back."""
    return _sign(request.app.state.settings.secret_key, csrf_raw(request))


class CsrfFailed(Forbidden):
    """An unsafe request whose token does not match the browser's CSRF cookie: a page open
    since the cookie was lost or the key changed, or a request forged by another site.
    ``fields`` holds the form's text fields, to offer them back."""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        super().__init__(
            "Your form had expired, so nothing was sent (its security check failed). "
            "Reload the page and try again."
        )
        self.fields = fields


async def verify_csrf(request: Request) -> None:
    """Refuse an unsafe request whose token does not match the browser's CSRF cookie."""
    if request.method in _SAFE_METHODS:
        return
    raw = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    fields: list[tuple[str, str]] = []
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        if sent is None:
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    expected = _sign(request.app.state.settings.secret_key, raw) if raw else None
    if not expected or not sent or not same_secret(expected, sent):
        raise CsrfFailed([(k, v) for k, v in fields if k != CSRF_FIELD])

"""One-shot messages shown on the page after a redirect, kept in a short-lived signed cookie."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from fastapi import Request, Response

from chirp.auth.tokens import same_secret

FLASH_COOKIE = "chirp_flash"
_MAX_AGE = 60
_MAX_LENGTH = 300


def _sign(secret_key: str, data: str) -> str:
    return hmac.new(secret_key.encode(), f"flash:{data}".encode(), hashlib.sha256).hexdigest()


def set_flash(request: Request, response: Response, message: str) -> None:
    """Show ``message`` on the next page this browser renders."""
    settings = request.app.state.settings
    data = base64.urlsafe_b64encode(message[:_MAX_LENGTH].encode()).decode().rstrip("=")
    response.set_cookie(
        FLASH_COOKIE,
        f"{data}.{_sign(settings.secret_key, data)}",
        max_age=_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.https,
    )


def read_flash(request: Request) -> str | None:
    """Return the pending message, if its cookie is present and genuinely ours."""
    value = request.cookies.get(FLASH_COOKIE)
    if not value or "." not in value:
        return None
    data, signature = value.rsplit(".", 1)
    # Signed so that nothing but this server can put words on its pages.
    if not same_secret(_sign(request.app.state.settings.secret_key, data), signature):
        return None
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def clear_flash(response: Response) -> None:
    """Remove the message once a page has shown it."""
    response.delete_cookie(FLASH_COOKIE)

"""A form refused by the CSRF check is offered back, as typed, with a fresh token."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request, Response

from chirp.web.csrf import CsrfFailed, csrf_token
from chirp.web.htmx import is_htmx, render

# Fields a person typed, shown again to check (by their label); any other field goes back
# as it came, hidden. Passwords are never sent back: the person types them again.
TYPED = {
    "text": "Your post",
    "spoiler_text": "Content warning",
    "login": "Username or email",
    "username": "Username",
    "email": "Email",
    "display_name": "Display name",
    "bio": "Bio",
    "note": "Bio",
}
LONG = {"text", "bio", "note"}


def _same_origin(request: Request) -> bool:
    # Only a form of this site is offered back: one forged by another site must not become a
    # page of ours with a button that sends it (browsers send Origin with every form POST).
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    return bool(origin) and urlsplit(origin).netloc == request.url.netloc


async def csrf_failed(request: Request, exc: Exception) -> Response:
    """Answer a CSRF refusal: a fresh token for htmx to retry with, the form again for a page."""
    assert isinstance(exc, CsrfFailed)
    fresh = {"X-CSRF-Token": csrf_token(request)}  # also sets a new cookie if it was lost
    if is_htmx(request):
        # chirp.js sends the request once more with this token; the body says why otherwise.
        return render(
            request,
            "error.html",
            {"status": 403, "message": exc.message},
            status_code=403,
            headers=fresh,
        )
    if not _same_origin(request):
        return render(
            request, "error.html", {"status": 403, "message": exc.message}, status_code=403
        )
    typed = [(k, v, TYPED[k], k in LONG) for k, v in exc.fields if k in TYPED]
    hidden = [(k, v) for k, v in exc.fields if k not in TYPED and "password" not in k]
    passwords = sorted({k for k, _ in exc.fields if "password" in k})
    context = {"action": request.url.path, "typed": typed, "hidden": hidden, "passwords": passwords}
    return render(request, "csrf_retry.html", context, status_code=403, headers=fresh)

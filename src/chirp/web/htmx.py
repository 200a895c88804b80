"""Rendering helpers shared by the page handlers: full pages, htmx partials, redirects."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from chirp.users.models import User
from chirp.web.flash import FLASH_COOKIE, clear_flash, read_flash, set_flash


def is_htmx(request: Request) -> bool:
    """Whether htmx sent this request (it then wants a fragment, not a page)."""
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    viewer: User | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render a template with the viewer and request in its context."""
    # A fragment never shows the message: the page around it already did.
    full_page = not is_htmx(request)
    flash = read_flash(request) if full_page else None
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request,
        template,
        {"viewer": viewer, "flash": flash, **(context or {})},
        status_code=status_code,
        headers=headers,
    )
    if full_page and FLASH_COOKIE in request.cookies:
        clear_flash(response)
    return response


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after a form, never another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return default
    return target


def local_referer(request: Request) -> str | None:
    """The path (and query) of the page of this site that sent the request, if any."""
    referer = request.headers.get("referer", "")
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc != request.url.netloc:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""), "") or None


def current_path(request: Request) -> str:
    """The local path (and query) of the page the browser shows: for htmx, the page around it."""
    if is_htmx(request):
        shown = request.headers.get("hx-current-url", "")
        parts = urlsplit(shown)
        if shown and parts.netloc == request.url.netloc:
            return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def redirect(
    request: Request, url: str, *, message: str | None = None, status_code: int = 303
) -> Response:
    """Redirect (303 by default), optionally with a message for the next page."""
    response = RedirectResponse(url, status_code=status_code)
    if message:
        set_flash(request, response, message)
    return response


def back(
    request: Request, next_url: str | None, default: str = "/", *, message: str | None = None
) -> Response:
    """Redirect (303) to ``next`` or the referring page of this site."""
    target = safe_next(next_url or local_referer(request), default)
    return redirect(request, target, message=message)


def form_error(request: Request, message: str, *, target: str) -> Response:
    """Answer an htmx form with an error shown in ``target`` (status 422)."""
    return render(
        request,
        "_form_error.html",
        {"message": message},
        status_code=422,
        headers={"HX-Retarget": target, "HX-Reswap": "innerHTML"},
    )

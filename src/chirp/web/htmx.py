"""Rendering helpers shared by the page handlers: full pages, htmx partials, redirects."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from chirp.users.models import User


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
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        template,
        {"viewer": viewer, **(context or {})},
        status_code=status_code,
        headers=headers,
    )


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after a form, never another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def back(request: Request, next_url: str | None, default: str = "/") -> Response:
    """Redirect (303) to ``next`` or the referring page of this site."""
    referer = request.headers.get("referer", "")
    local_referer = None
    if referer:
        parts = urlsplit(referer)
        if parts.netloc == request.url.netloc:
            local_referer = parts.path + (f"?{parts.query}" if parts.query else "")
    return RedirectResponse(safe_next(next_url or local_referer, default), status_code=303)


def form_error(request: Request, message: str, *, target: str) -> Response:
    """Answer an htmx form with an error shown in ``target`` (status 422)."""
    return render(
        request,
        "_form_error.html",
        {"message": message},
        status_code=422,
        headers={"HX-Retarget": target, "HX-Reswap": "innerHTML"},
    )

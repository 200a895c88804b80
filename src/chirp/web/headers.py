"""Security and cache headers on every response: CSP, HSTS, nosniff, no-store for private data."""

from __future__ import annotations

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chirp.web.session import SESSION_COOKIE

_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
# Every HTML page: only this origin's scripts, styles, images and forms; no inline script or
# style (injected markup cannot run), no framing. htmx is configured to need no more
# (base.html's htmx-config). A page may send its own (OAuth's authorize page does).
_POLICY = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
]
CONTENT_SECURITY_POLICY = "; ".join([*_POLICY, "form-action 'self'"])
# Browsers apply form-action to the redirects after a form is sent too, and approving an app
# redirects to the app's own address (any host or scheme), as on Mastodon.
OAUTH_AUTHORIZE_POLICY = "; ".join(_POLICY)
# A year; without includeSubDomains, which would bind hosts Chirp does not serve.
HSTS = "max-age=31536000"
# Mastodon's default for its API: answers carry someone's data (or a token) and no cache may
# keep them. Pages shown to a logged-in person get the same.
PRIVATE = "private, no-store"
_PRIVATE_PREFIXES = ("/api/", "/oauth/")


class SecurityHeadersMiddleware:
    """Add security headers, and the CSP and Cache-Control a response lacks."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.always = list(_ALWAYS)
        if https:
            self.always.append((b"strict-transport-security", HSTS.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(self.always)
                headers.extend(_lacking(scope, headers))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _lacking(scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    names = {name.lower(): value for name, value in headers}
    extra = []
    html = names.get(b"content-type", b"").startswith(b"text/html")
    if html and b"content-security-policy" not in names:
        extra.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
    private = (html and _logged_in(scope)) or scope["path"].startswith(_PRIVATE_PREFIXES)
    if private and b"cache-control" not in names:
        extra.append((b"cache-control", PRIVATE.encode()))
    return extra


def _logged_in(scope: Scope) -> bool:
    # The session dependency leaves the user in the request's state; pages that do not ask
    # for it (an error page) may still show who is logged in, so a session cookie counts.
    if scope["state"].get("user") is not None:
        return True
    return any(
        SESSION_COOKIE in cookie_parser(value.decode("latin-1"))
        for name, value in scope["headers"]
        if name == b"cookie"
    )

"""Cross-origin access as Mastodon allows it: any origin, on the API and OAuth token paths only.

Browser clients served from another host (Elk, Phanpy, Pinafore-style apps) call the API
from their own origin. Mastodon (``config/initializers/cors.rb``) opens ``/api/*``,
``/oauth/token``, ``/oauth/revoke`` and ``/.well-known/*`` to every origin without
credentials, and never the HTML pages or ``/oauth/authorize``, where a signed-in person's
cookie is the credential.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# Headers a browser client must be able to read: paging and rate limits (and the request id,
# to report a problem).
EXPOSED_HEADERS = (
    "Link",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-Request-Id",
)
# How long a browser may reuse a preflight answer (Rack::Cors's default, as Mastodon sends).
PREFLIGHT_MAX_AGE = 7200

# Path prefix (or exact path) -> methods a cross-origin caller may use there.
_RULES: tuple[tuple[str, bool, tuple[str, ...]], ...] = (
    ("/api/", True, ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")),
    ("/oauth/token", False, ("POST",)),
    ("/oauth/revoke", False, ("POST",)),
    ("/.well-known/", True, ("GET", "HEAD")),
)


class ScopedCORSMiddleware:
    """Starlette's CORS handling (preflight and response headers) on Mastodon's paths only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._rules = [
            (
                path,
                is_prefix,
                CORSMiddleware(
                    app,
                    allow_origins=["*"],
                    allow_methods=methods,
                    # Any header the client asks for (Authorization, Content-Type,
                    # Idempotency-Key, ...): the answer never depends on cookies.
                    allow_headers=["*"],
                    allow_credentials=False,
                    expose_headers=EXPOSED_HEADERS,
                    max_age=PREFLIGHT_MAX_AGE,
                ),
            )
            for path, is_prefix, methods in _RULES
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            for rule_path, is_prefix, cors in self._rules:
                if path == rule_path or (is_prefix and path.startswith(rule_path)):
                    await cors(scope, receive, send)
                    return
        await self.app(scope, receive, send)

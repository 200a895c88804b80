"""ASGI middleware: per-IP limits on the API and form posts, and X-RateLimit-* headers."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chirp.ratelimit.limiter import RateLimiter, Verdict

_API_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke")


def client_ip(scope: Scope) -> str:
    """The caller's address (uvicorn's --proxy-headers puts the real one here)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _limited(scope: Scope) -> bool:
    path: str = scope["path"]
    return path.startswith(_API_PREFIXES) or scope["method"] not in ("GET", "HEAD", "OPTIONS")


def limit_headers(verdict: Verdict) -> list[tuple[bytes, bytes]]:
    """The X-RateLimit-* headers Mastodon sends."""
    return [
        (b"x-ratelimit-limit", str(verdict.limit).encode()),
        (b"x-ratelimit-remaining", str(max(verdict.remaining, 0)).encode()),
        (b"x-ratelimit-reset", verdict.reset_iso.encode()),
    ]


class RateLimitMiddleware:
    """Counts API calls and form posts per IP; account limits are added by the auth layer."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limiter.enabled or not _limited(scope):
            await self.app(scope, receive, send)
            return
        verdict = await self.limiter.hit("api", f"ip:{client_ip(scope)}")
        if not verdict.allowed:
            await _too_many(send, verdict)
            return
        state = scope.setdefault("state", {})
        state["ratelimit"] = verdict

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                # The auth layer may have counted a stricter, per-account window meanwhile.
                binding: Verdict = state["ratelimit"]
                headers = list(message.get("headers", []))
                if not any(name == b"x-ratelimit-limit" for name, _ in headers):
                    headers += limit_headers(binding)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


async def _too_many(send: Send, verdict: Verdict) -> None:
    body = json.dumps({"error": "Too many requests"}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *limit_headers(verdict),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""ASGI middleware: refuse request bodies over the configured size (413), as they arrive."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chirp.api.errors import error_response

TOO_LARGE = "Payload too large"


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


class BodyLimitMiddleware:
    """Answer 413 for a body over its limit: at once when its length is declared, else as
    soon as the bytes received pass the limit, so an oversized body is never buffered."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_multipart_bytes: int,
        upload_limits: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_multipart_bytes = max_multipart_bytes
        # Multipart limits of the routes that take image uploads, by exact path.
        self.upload_limits = upload_limits or {}

    def limit(self, scope: Scope) -> int:
        """The largest body this request may carry: uploads come as multipart forms."""
        content_type = (_header(scope, b"content-type") or b"").lower()
        if not content_type.startswith(b"multipart/"):
            return self.max_bytes
        return self.upload_limits.get(scope.get("path", ""), self.max_multipart_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = _header(scope, b"content-length")
        if declared is not None:
            # Servers refuse a malformed length before the app sees it; this is a safety net.
            if not declared.isdigit():  # bytes.isdigit: ASCII digits only
                await error_response(Request(scope), 400, "Bad request")(scope, receive, send)
                return
            if len(declared) > len(str(limit)) or int(declared) > limit:
                # Refused before a byte of it is read (the server discards the rest).
                await error_response(Request(scope), 413, TOO_LARGE)(scope, receive, send)
                return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside whatever is reading the body; the app's handlers answer
                    # it like any HTTP error (Mastodon's shape on the API, a page elsewhere).
                    raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, counted_receive, send)

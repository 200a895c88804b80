"""ASGI middleware for the web UI: CSRF cookie issuing (security headers: ``web.headers``)."""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chirp.web.csrf import CSRF_COOKIE


class WebResponseMiddleware:
    """Set a freshly minted CSRF cookie on the response that minted it."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool) -> None:
        self.app = app
        self.secure = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = self._csrf_cookie(scope)
                if cookie:
                    headers = list(message.get("headers", []))
                    headers.append((b"set-cookie", cookie.encode("latin-1")))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _csrf_cookie(self, scope: Scope) -> str | None:
        raw = scope["state"].get("csrf_raw")
        if not raw:
            return None
        sent = SimpleCookie()
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                sent.load(value.decode("latin-1"))
        if CSRF_COOKIE in sent and sent[CSRF_COOKIE].value == raw:
            return None
        cookie = SimpleCookie()
        cookie[CSRF_COOKIE] = raw
        morsel = cookie[CSRF_COOKIE]
        morsel["path"] = "/"
        morsel["httponly"] = True
        morsel["samesite"] = "Lax"
        morsel["max-age"] = 60 * 60 * 24 * 365
        if self.secure:
            morsel["secure"] = True
        return morsel.OutputString()

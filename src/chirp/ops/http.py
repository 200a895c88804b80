"""The outermost layers of every request: its id, HEAD as GET, and the last-resort answer.

An outage (``ops.failures``) is answered with 503 and ``Retry-After`` and logged as one line
per kind of failure every few seconds; a bug with 500, and its traceback once per place and
interval. Both answer in the caller's form ({"error": ...} on the API, the error page on
the web) and leave the client's keep-alive connection open.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chirp.api.errors import error_response
from chirp.ops import failures
from chirp.ops.logging import FailureLog, RequestIdMiddleware

log = logging.getLogger("chirp.errors")

RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable; try again shortly"


class HeadAsGetMiddleware:
    """Answer ``HEAD`` wherever ``GET`` answers: the GET response's status and headers only.

    FastAPI routes declared with ``@router.get`` answer 405 to HEAD, which load balancers
    and link checkers send.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


class ServerErrorGuard:
    """Answer any error the app did not handle; outermost, so nothing escapes to the server.

    Starlette's own last resort answers in plain text and re-raises, and uvicorn then closes
    the client's connection (and logs a traceback per request).
    """

    def __init__(self, app: ASGIApp, *, failure_log: FailureLog | None = None) -> None:
        self.app = app
        self.failures = failure_log or FailureLog(log)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = finished = False

        async def send_tracked(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            if started and not finished:
                raise  # half an answer is out: only closing the connection can say so
            cause = failures.unavailability(exc)
            # Failing after the answer went out (a session's clean-up on a connection that
            # died meanwhile) is logged, and the client keeps its connection.
            what = "after answering" if finished else "answering 503"
            if cause is not None:
                self.failures.report(
                    f"unavailable:{type(cause).__name__}",
                    f"store unavailable, {what}: {failures.describe(cause)}",
                )
            else:
                where = _origin(exc)
                self.failures.report(
                    f"bug:{type(exc).__name__}:{where}",
                    f"unhandled error on {scope['method']} {scope['path']} ({where})",
                    exc=exc,
                    level=logging.ERROR,
                )
            if finished:
                return
            response = (
                error_response(Request(scope), 503, UNAVAILABLE_MESSAGE)
                if cause is not None
                else error_response(Request(scope), 500, "Internal server error")
            )
            if cause is not None:
                response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            await response(scope, receive, send)


def _origin(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    return f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"


def install_outer_middleware(app: Starlette) -> None:
    """Wrap the app in the layers that must see every request; call after all others."""
    # add_middleware puts each layer outside those added before it.
    app.add_middleware(ServerErrorGuard)
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(RequestIdMiddleware)

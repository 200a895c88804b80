"""Logging for ``chirp serve`` and ``chirp worker``: one format, request ids, no SQL values.

Every line reads ``time level [pid] [request id] logger: message``. The request id is set
per request by ``RequestIdMiddleware`` and is ``-`` outside requests (the worker, start-up).
"""

from __future__ import annotations

import logging
import logging.config
import re
import secrets
import time
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = b"x-request-id"
request_id: ContextVar[str] = ContextVar("chirp_request_id", default="-")

FORMAT = "%(asctime)s %(levelname)s [%(process)d] [%(request_id)s] %(name)s: %(message)s"
# An incoming id is kept only if it is short and plain: it is written into every log line.
_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
# PostgreSQL's error details quote the offending values ("Key (email)=(a@b.c) already
# exists", "Failing row contains (..., <password hash>, ...)"), and asyncpg puts them into
# the exception's text; SQLAlchemy's own "[parameters: ...]" is already off (hide_parameters).
_SQL_DETAIL = re.compile(r"^(\s*DETAIL:).*$", re.MULTILINE)
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\]$", re.MULTILINE | re.DOTALL)


class RequestIdFilter(logging.Filter):
    """Give every record the current request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class RedactingFormatter(logging.Formatter):
    """Chirp's line format, with values quoted by database errors left out."""

    def format(self, record: logging.LogRecord) -> str:
        """Format the record, then remove database values from message and traceback."""
        return redact(super().format(record))


def redact(text: str) -> str:
    """``text`` without the row values database errors quote."""
    text = _SQL_DETAIL.sub(r"\1 (values hidden)", text)
    return _SQL_PARAMETERS.sub("[parameters hidden]", text)


def log_config(level: str = "INFO") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of Chirp's processes (uvicorn applies it per worker)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "chirp.ops.logging.RequestIdFilter"}},
        "formatters": {"chirp": {"()": "chirp.ops.logging.RedactingFormatter", "fmt": FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "chirp",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        # uvicorn's loggers would otherwise keep handlers and formats of their own.
        "loggers": {
            name: {"handlers": [], "level": level, "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure_logging(level: str = "INFO") -> None:
    """Configure this process's logging (``chirp worker``; uvicorn does it for the web)."""
    logging.config.dictConfig(log_config(level))


class RequestIdMiddleware:
    """Give each request an id (the caller's ``X-Request-Id`` if sane) for logs and answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or secrets.token_hex(8)
        raw = rid.encode()
        # Not reset afterwards: uvicorn writes the access line after the app returns, in
        # this same context, and each request runs in a context of its own.
        request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, raw)]
            await send(message)

        await self.app(scope, receive, send_with_id)


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return value.decode() if _SANE_ID.fullmatch(value) else None
    return None


class FailureLog:
    """Log a recurring failure once per ``interval`` per kind, with how often it recurred."""

    def __init__(self, logger: logging.Logger, interval: float = 10.0) -> None:
        self.logger = logger
        self.interval = interval
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def report(
        self,
        kind: str,
        message: str,
        *,
        exc: BaseException | None = None,
        level: int = logging.WARNING,
    ) -> bool:
        """Log ``message`` unless ``kind`` was logged within the interval; whether it was."""
        now = time.monotonic()
        last = self._last.get(kind)
        if last is not None and now - last < self.interval:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return False
        self._last[kind] = now
        repeats = self._suppressed.pop(kind, 0)
        if repeats:
            message = f"{message} ({repeats} more since the last report)"
        self.logger.log(level, "%s", message, exc_info=exc)
        return True

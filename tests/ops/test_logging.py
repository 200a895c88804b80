"""Log lines: time, level, process id and request id; never SQL values; ids on responses."""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.ops.logging import FORMAT, RedactingFormatter, RequestIdFilter, log_config
from chirp.users.models import User
from tests.factories import make_user

SECRET_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$NEVER-IN-THE-LOG-0123456789"
LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) "
    r"\[(?P<pid>\d+)\] \[(?P<rid>[^\]]+)\] [\w.]+: "
)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What Chirp's errors logger writes, formatted as ``chirp serve`` configures it."""
    config = log_config()
    assert config["formatters"]["chirp"]["fmt"] == FORMAT
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(RedactingFormatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("chirp.errors")
    logger.addHandler(handler)
    try:
        yield buffer
    finally:
        logger.removeHandler(handler)


async def test_every_response_carries_a_request_id_and_a_sane_one_is_kept(
    client: httpx.AsyncClient,
) -> None:
    first, second = await client.get("/health"), await client.get("/health")
    assert re.fullmatch(r"[0-9a-f]{16}", first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    kept = await client.get("/health", headers={"X-Request-Id": "lb-7f3a.2"})
    assert kept.headers["x-request-id"] == "lb-7f3a.2"
    for insane in ("a b", "x" * 65, "id\u00e9", "<script>"):
        r = await client.get("/health", headers={"X-Request-Id": insane.encode("utf-8")})
        assert re.fullmatch(r"[0-9a-f]{16}", r.headers["x-request-id"]), insane


async def test_a_failed_statement_logs_no_sql_values_and_the_request_id(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, log_lines: io.StringIO
) -> None:
    alice = await make_user(session, "alice", email="alice.secret@example.com")

    async def duplicate_email(request: Request) -> None:
        # A bug as the log sees it: an INSERT that breaks a unique constraint, its
        # parameters an email address and a password hash.
        async with request.app.state.session_factory() as s:
            s.add(
                User(
                    username="alice2",
                    username_key="alice2",
                    email=alice.email,
                    email_key=alice.email_key,
                    password_hash=SECRET_HASH,
                )
            )
            await s.commit()

    app.add_api_route("/api/v1/test-duplicate", duplicate_email, methods=["POST"])
    r = await client.post("/api/v1/test-duplicate", headers={"X-Request-Id": "dup-1"})
    assert r.status_code == 500 and r.json() == {"error": "Internal server error"}
    text = log_lines.getvalue()
    assert "IntegrityError" in text and "Traceback" in text  # a bug: its traceback, once
    assert "alice.secret" not in text and "NEVER-IN-THE-LOG" not in text
    first = text.splitlines()[0]
    match = LINE.match(first)
    assert match, first
    assert match["pid"] == str(os.getpid()) and match["rid"] == "dup-1"

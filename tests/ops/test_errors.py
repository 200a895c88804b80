"""Errors the app did not foresee: answered in the caller's form, connection kept open."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from chirp.config import Settings
from chirp.main import create_app
from chirp.migrate import upgrade
from tests.services import settings_for


def _add_failing_routes(app: FastAPI) -> None:
    """Test-only routes that fail as a bug would (never registered by the app itself)."""

    async def boom() -> None:
        raise RuntimeError("a bug the tests planted")

    app.add_api_route("/api/v1/test-boom", boom, methods=["GET"])
    app.add_api_route("/test-boom", boom, methods=["GET"])


async def test_an_unhandled_error_answers_json_on_the_api_and_the_error_page_on_the_web(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    _add_failing_routes(app)
    api = await client.get("/api/v1/test-boom")
    assert api.status_code == 500
    assert api.headers["content-type"] == "application/json"
    assert api.json() == {"error": "Internal server error"}
    web = await client.get("/test-boom")
    assert web.status_code == 500
    assert web.headers["content-type"].startswith("text/html")
    assert 'class="card error-card"' in web.text and "Something went wrong" in web.text
    assert "RuntimeError" not in web.text and "Traceback" not in web.text


@pytest.fixture
def keepalive_server(tmp_path: Path) -> Iterator[int]:
    """A real uvicorn serving Chirp (SQLite) with the failing routes; yields its port."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'errors.db'}"
    upgrade(url)
    settings: Settings = settings_for(url)
    app = create_app(settings)
    _add_failing_routes(app)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    """Read one HTTP/1.1 response with a Content-Length; return its status and body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed after {data!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed mid-body")
        body += chunk
    return int(lines[0].split()[1]), body


@pytest.mark.parametrize("path", ["/api/v1/test-boom", "/test-boom"])
def test_a_500_keeps_the_clients_keepalive_connection(keepalive_server: int, path: str) -> None:
    with socket.create_connection(("127.0.0.1", keepalive_server), timeout=10) as sock:
        request = f"GET {path} HTTP/1.1\r\nHost: testserver\r\n\r\n".encode()
        sock.sendall(request)
        assert _read_response(sock)[0] == 500
        # The same connection serves the next request (uvicorn closed it after a re-raise).
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: testserver\r\n\r\n")
        status, body = _read_response(sock)
        assert status == 200 and b'"database":"ok"' in body

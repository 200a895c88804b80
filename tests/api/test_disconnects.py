"""A client that hangs up mid-request is not a server error."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from chirp.api.errors import CLIENT_CLOSED_REQUEST


async def test_a_client_hanging_up_while_sending_its_form_is_not_a_500(app: FastAPI) -> None:
    # The first half of the form arrives, then the connection closes (wrk stopping, a phone
    # losing signal): the app must answer quietly instead of raising through the server.
    incoming: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"client_name=half", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/apps",
        "raw_path": b"/api/v1/apps",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", b"200"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)  # raised ClientDisconnect before
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == CLIENT_CLOSED_REQUEST

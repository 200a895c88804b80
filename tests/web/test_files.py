"""Files sent from disk: whole even when deleted while being sent, 404 when already gone."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.types import Message

from chirp.errors import NotFound
from chirp.web.files import send_file


async def _answer(response: object, method: str = "GET") -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "asgi": {"spec_version": "2.4"}}
    await response(scope, receive, send)  # type: ignore[operator]
    return sent


async def test_a_file_deleted_after_the_answer_began_is_still_sent_whole(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    content = bytes(range(256)) * 700  # several chunks, and not a whole number of them
    path.write_bytes(content)
    response = await send_file(path, media_type="image/png", headers={"Cache-Control": "x"})
    path.unlink()  # a replaced avatar's file, deleted by a job in between

    start, *bodies = await _answer(response)
    headers = dict(start["headers"])
    assert start["status"] == 200
    assert headers[b"content-length"] == str(len(content)).encode()
    assert headers[b"content-type"] == b"image/png"
    assert b"".join(b["body"] for b in bodies) == content
    assert [b["more_body"] for b in bodies][-1] is False
    assert response.file.closed  # type: ignore[attr-defined]


async def test_head_sends_the_length_and_no_body(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    path.write_bytes(b"x" * 1000)
    response = await send_file(
        path, media_type="application/zip", headers={}, download_as="a b.zip"
    )

    start, body = await _answer(response, "HEAD")
    headers = dict(start["headers"])
    assert headers[b"content-length"] == b"1000"
    assert headers[b"content-disposition"] == b"attachment; filename*=utf-8''a%20b.zip"
    assert body == {"type": "http.response.body", "body": b"", "more_body": False}


async def test_a_file_already_gone_is_not_found_before_anything_is_sent(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="gone"):
        await send_file(tmp_path / "missing", media_type="image/png", headers={}, missing="gone")
    with pytest.raises(NotFound):
        await send_file(tmp_path, media_type="image/png", headers={})  # a directory is no file

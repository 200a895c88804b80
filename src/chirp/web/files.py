"""Files sent from disk, opened before the answer starts: one deleted meanwhile still goes whole."""

from __future__ import annotations

import os
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from chirp.errors import NotFound

_CHUNK = 64 * 1024


class OpenFileResponse(Response):
    """Streams an already opened file, its length taken from the open file itself.

    Starlette's FileResponse sends the headers from a stat of the path and only then opens
    it, so a file deleted in between (a replaced avatar, an expired archive) broke the
    answer after its headers. An open file outlives its name on POSIX, and a missing one is
    an ordinary 404 before anything is sent.
    """

    def __init__(
        self,
        file: anyio.AsyncFile[bytes],
        *,
        media_type: str,
        headers: dict[str, str],
    ) -> None:
        self.file = file
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)
        stat = os.fstat(file.wrapped.fileno())
        self.headers["content-length"] = str(stat.st_size)
        self.headers["last-modified"] = formatdate(stat.st_mtime, usegmt=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            start = {"status": self.status_code, "headers": self.raw_headers}
            await send({"type": "http.response.start", **start})
            more = scope["method"] != "HEAD"
            while more:
                chunk = await self.file.read(_CHUNK)
                more = len(chunk) == _CHUNK
                await send({"type": "http.response.body", "body": chunk, "more_body": more})
            if scope["method"] == "HEAD":
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            # Closing must finish even when the client left and the transfer was cancelled.
            with anyio.CancelScope(shield=True):
                await self.file.aclose()


def _attachment(name: str) -> str:
    quoted = quote(name)
    if quoted == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename*=utf-8''{quoted}"


async def send_file(
    path: Path,
    *,
    media_type: str,
    headers: dict[str, str],
    download_as: str | None = None,
    missing: str = NotFound.DEFAULT,
) -> OpenFileResponse:
    """The file at path as a response, or NotFound (with missing as its message) if it is gone."""
    try:
        file = await anyio.open_file(path, "rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise NotFound(missing) from None
    if download_as is not None:
        headers = {**headers, "Content-Disposition": _attachment(download_as)}
    return OpenFileResponse(file, media_type=media_type, headers=headers)

"""Gravatar images fetched by the server and kept on disk, so visitors never contact Gravatar."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from hashlib import md5
from pathlib import Path

import httpx

from chirp import __version__
from chirp.config import Settings

log = logging.getLogger(__name__)

# Raster images only: an SVG from elsewhere, served from this origin, could carry a script.
ALLOWED_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
MAX_IMAGE_BYTES = 2**20
SIZE = 256  # pixels: twice the largest avatar a page shows
RETRY_SECONDS = 60.0  # after a failed fetch, the identicon is shown this long without asking
_NONE = b"none"


@dataclass(frozen=True, slots=True)
class Image:
    """An image's bytes and content type."""

    data: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class Found:
    """What Gravatar has for an address: an image, or None when it has none (or none yet)."""

    image: Image | None
    # False when Gravatar did not answer (in time): the identicon stands in only for now.
    settled: bool


class _Refused(Exception):
    """Gravatar's answer cannot be used (a status, type or size Chirp does not accept)."""


class GravatarCache:
    """Fetch Gravatar images in the background, one fetch per address at a time, kept on disk."""

    def __init__(self, settings: Settings) -> None:
        self._base = settings.gravatar_url.rstrip("/")
        self._dir = Path(settings.gravatar_cache_dir)
        self._timeout = settings.gravatar_timeout
        self._refresh = settings.gravatar_refresh_seconds
        self._max_bytes = settings.gravatar_cache_mb * 2**20
        self._client: httpx.AsyncClient | None = None
        self._fetches: dict[str, asyncio.Task[Found]] = {}
        self._failed_until: dict[str, float] = {}
        self._written = 0
        self._swept = False
        self._warned_at = -RETRY_SECONDS

    async def lookup(self, email_key: str) -> Found:
        """What to show for an address, waiting at most the timeout for a first fetch."""
        digest = md5(email_key.encode(), usedforsecurity=False).hexdigest()
        kept = await asyncio.to_thread(self._read, digest)
        if kept is not None:
            fetched_at, image = kept
            if time.time() - fetched_at >= self._refresh:
                self._start(digest)  # served as it is while it is fetched again
            return Found(image, settled=True)
        task = self._start(digest)
        if task is None:
            return Found(None, settled=False)
        try:
            # Shielded: a request that stops waiting leaves the fetch to fill the cache.
            return await asyncio.wait_for(asyncio.shield(task), self._timeout)
        except TimeoutError:
            return Found(None, settled=False)

    async def aclose(self) -> None:
        """Stop the fetches under way and close the HTTP client."""
        tasks = list(self._fetches.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    def _start(self, digest: str) -> asyncio.Task[Found] | None:
        task = self._fetches.get(digest)
        if task is not None:
            return task
        if self._failed_until.get(digest, 0.0) > time.monotonic():
            return None
        task = asyncio.create_task(self._fetch(digest))
        self._fetches[digest] = task
        task.add_done_callback(lambda _: self._fetches.pop(digest, None))
        return task

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                follow_redirects=False,
                headers={"User-Agent": f"Chirp/{__version__}"},
            )
        return self._client

    async def _fetch(self, digest: str) -> Found:
        # A lookup that read the file just before another fetch renewed it would fetch again:
        # the file's age, read anew, tells whether that fetch already happened.
        kept = await asyncio.to_thread(self._read, digest)
        if kept is not None and time.time() - kept[0] < self._refresh:
            return Found(kept[1], settled=True)
        url = f"{self._base}/avatar/{digest}"
        try:
            async with asyncio.timeout(self._timeout):
                image = await self._download(url)
        except (httpx.HTTPError, TimeoutError, OSError, _Refused) as exc:
            self._failed(digest, exc)
            return Found(None, settled=False)
        self._failed_until.pop(digest, None)
        size = await asyncio.to_thread(self._write, digest, image)
        self._written += size
        if not self._swept or self._written > self._max_bytes // 10:
            self._swept, self._written = True, 0
            await asyncio.to_thread(self._sweep)
        return Found(image, settled=True)

    async def _download(self, url: str) -> Image | None:
        # d=404: Gravatar answers 404 for an address it has no image of, instead of drawing one.
        params = {"s": str(SIZE), "d": "404"}
        async with self._http().stream("GET", url, params=params) as response:
            if response.status_code == 404:
                return None
            content_type = response.headers.get("content-type", "").split(";")[0].strip()
            if response.status_code != 200 or content_type not in ALLOWED_TYPES:
                raise _Refused(f"status {response.status_code}, type {content_type!r}")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_IMAGE_BYTES:
                    raise _Refused("image larger than 1 MiB")
            return Image(bytes(data), content_type)

    def _failed(self, digest: str, exc: BaseException) -> None:
        if len(self._failed_until) > 10_000:
            self._failed_until.clear()  # bounded: forgetting only means asking again
        self._failed_until[digest] = time.monotonic() + RETRY_SECONDS
        now = time.monotonic()
        if now - self._warned_at >= RETRY_SECONDS:
            self._warned_at = now
            log.warning("Gravatar unavailable, identicons shown: %r", exc)

    def _path(self, digest: str) -> Path:
        return self._dir / digest[:2] / digest

    def _read(self, digest: str) -> tuple[float, Image | None] | None:
        path = self._path(digest)
        try:
            with path.open("rb") as file:
                fetched_at = os.fstat(file.fileno()).st_mtime
                kind, _, data = file.read().partition(b"\n")
        except FileNotFoundError:
            return None
        if kind == _NONE:
            return fetched_at, None
        content_type = kind.decode("ascii", "replace")
        if content_type not in ALLOWED_TYPES:
            return None  # not written by this code: fetched again
        return fetched_at, Image(data, content_type)

    def _write(self, digest: str, image: Image | None) -> int:
        path = self._path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = _NONE + b"\n" if image is None else image.content_type.encode() + b"\n" + image.data
        # Written aside and renamed: another process reading it sees the old file or the new.
        temporary = path.with_name(f"{digest}.{os.getpid()}.tmp")
        temporary.write_bytes(body)
        temporary.replace(path)
        return len(body)

    def _sweep(self) -> None:
        """Delete the longest-kept files until the cache is under its size again."""
        files = []
        for path in self._dir.glob("*/*"):
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        if total <= self._max_bytes:
            return
        files.sort()
        for _, size, path in files:
            if total <= self._max_bytes * 9 // 10:
                break
            path.unlink(missing_ok=True)
            total -= size

"""Where image files are kept: one small interface, a local directory or an S3 bucket.

Keys are content addresses (``<sha256 of the bytes>.<ext>``): the same bytes stored twice
share one file, so a file is deleted only once no row refers to its key
(``media.service.delete_unreferenced``). Keys are never taken from a client.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import anyio
import anyio.to_thread

from chirp.config import Settings

# What a key looks like: 64 hex digits and a known extension, nothing else (no path).
KEY_PATTERN = re.compile(r"^[0-9a-f]{64}\.(jpg|png|gif|webp)$")
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
EXTENSIONS = {value: key for key, value in CONTENT_TYPES.items()}
# The path local files are served at (``media.files``), and S3 files by default.
PUBLIC_PATH = "/media"


def key_for(data: bytes, content_type: str) -> str:
    """The content address of ``data``: its SHA-256 and the extension of its type."""
    return f"{hashlib.sha256(data).hexdigest()}.{EXTENSIONS[content_type]}"


def is_key(value: str) -> bool:
    """Whether ``value`` is a well-formed storage key (and so safe as a file name)."""
    return KEY_PATTERN.fullmatch(value) is not None


def content_type_of(key: str) -> str:
    """The content type of a stored key, from its extension (Chirp chose it when storing)."""
    return CONTENT_TYPES[key.rsplit(".", 1)[1]]


def extension_of(key: str) -> str:
    """The file name extension of a stored key (``jpg``, ``png``, ``gif`` or ``webp``)."""
    return key.rsplit(".", 1)[1]


class NotStored(LookupError):
    """No file is stored under the key: never stored, deleted, or lost by the storage."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no file is stored under {key}")


class StoredFile(NamedTuple):
    """A file in the storage, as listed: its key and when it was written."""

    key: str
    stored_at: datetime


class Storage(Protocol):
    """Keeps bytes under keys, and says where browsers read them."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (the same key always holds the same bytes)."""
        ...

    async def delete(self, key: str) -> None:
        """Delete ``key``; a key already gone is no error."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        ...

    async def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; ``NotStored`` if there are none.

        A whole file at once: stored files are re-encoded images of a few MB at most.
        """
        ...

    def listing(self) -> AsyncIterator[list[StoredFile]]:
        """Every stored file, a batch at a time (names that are no keys left out)."""
        ...

    def url(self, key: str) -> str:
        """The absolute URL browsers load ``key`` from."""
        ...


class LocalStorage:
    """Files in a directory, served by Chirp itself at ``/media/<key>``."""

    def __init__(self, root: str | Path, *, base_url: str) -> None:
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")

    def path(self, key: str) -> Path:
        """The file of ``key``: under the root, two levels of fan-out, never outside it."""
        if not is_key(key):
            raise ValueError("not a media key")
        return self.root / key[:2] / key[2:4] / key

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write the file atomically (a reader never sees half of it)."""
        await anyio.to_thread.run_sync(self._write, self.path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return  # content-addressed: the same key already holds these bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def delete(self, key: str) -> None:
        """Remove the file if it is there."""
        await anyio.to_thread.run_sync(functools.partial(self.path(key).unlink, missing_ok=True))

    async def exists(self, key: str) -> bool:
        """Whether the file is there."""
        return await anyio.to_thread.run_sync(self.path(key).is_file)

    async def get(self, key: str) -> bytes:
        """The file's bytes; ``NotStored`` if it is not there."""
        try:
            return await anyio.to_thread.run_sync(self.path(key).read_bytes)
        except FileNotFoundError as exc:
            raise NotStored(key) from exc

    async def listing(self) -> AsyncIterator[list[StoredFile]]:
        """The files, one first-level directory (1/256 of them) at a time."""
        if not self.root.is_dir():
            return
        for top in sorted(await anyio.to_thread.run_sync(_subdirectories, self.root)):
            batch = await anyio.to_thread.run_sync(_files_under, top)
            if batch:
                yield batch

    def url(self, key: str) -> str:
        """``<site>/media/<key>``."""
        return f"{self.base_url}{PUBLIC_PATH}/{key}"


class S3Storage:
    """Objects in an S3-compatible bucket (boto3, run in threads)."""

    def __init__(self, client: Any, bucket: str, *, public_url: str) -> None:
        self.client = client
        self.bucket = bucket
        self.public_url = public_url.rstrip("/")
        # Objects listed per request (S3's most).
        self.page_size = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        """A client for the bucket the ``media_s3_*`` settings name."""
        import boto3  # only S3 deployments pay for importing it

        assert settings.media_s3_bucket is not None
        client = boto3.client(
            "s3",
            endpoint_url=settings.media_s3_endpoint_url,
            region_name=settings.media_s3_region,
            aws_access_key_id=settings.media_s3_access_key_id,
            aws_secret_access_key=settings.media_s3_secret_access_key,
        )
        public = settings.media_s3_public_url or settings.base_url + PUBLIC_PATH
        return cls(client, settings.media_s3_bucket, public_url=public)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Upload the object with its type and the cache headers browsers keep it by."""
        if not is_key(key):
            raise ValueError("not a media key")
        await anyio.to_thread.run_sync(
            functools.partial(
                self.client.put_object,
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                CacheControl=CACHE_CONTROL,
            )
        )

    async def delete(self, key: str) -> None:
        """Delete the object (S3 answers a missing key like a deleted one)."""
        await anyio.to_thread.run_sync(
            functools.partial(self.client.delete_object, Bucket=self.bucket, Key=key)
        )

    async def exists(self, key: str) -> bool:
        """Whether the object is there."""
        from botocore.exceptions import ClientError

        try:
            await anyio.to_thread.run_sync(
                functools.partial(self.client.head_object, Bucket=self.bucket, Key=key)
            )
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    async def get(self, key: str) -> bytes:
        """The object's bytes; ``NotStored`` if there is no such object."""
        from botocore.exceptions import ClientError

        if not is_key(key):
            raise ValueError("not a media key")
        try:
            return await anyio.to_thread.run_sync(self._read, key)
        except ClientError as exc:
            if _is_missing(exc):
                raise NotStored(key) from exc
            raise

    async def listing(self) -> AsyncIterator[list[StoredFile]]:
        """The objects, a page (up to 1,000) at a time."""
        token: str | None = None
        while True:
            page = await anyio.to_thread.run_sync(self._page, token)
            batch = [
                StoredFile(item["Key"], item["LastModified"])
                for item in page.get("Contents", [])
                if is_key(item["Key"])
            ]
            if batch:
                yield batch
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or token is None:
                return

    def _page(self, token: str | None) -> dict[str, Any]:
        options: dict[str, Any] = {"Bucket": self.bucket, "MaxKeys": self.page_size}
        if token is not None:
            options["ContinuationToken"] = token
        page: dict[str, Any] = self.client.list_objects_v2(**options)
        return page

    def _read(self, key: str) -> bytes:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data

    def url(self, key: str) -> str:
        """``<media_s3_public_url>/<key>``."""
        return f"{self.public_url}/{key}"


def _subdirectories(root: Path) -> list[Path]:
    return [path for path in root.iterdir() if path.is_dir()]


def _files_under(top: Path) -> list[StoredFile]:
    found = []
    for path in sorted(top.glob("*/*")):
        if is_key(path.name):
            try:
                moment = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except FileNotFoundError:
                continue  # deleted while listed
            found.append(StoredFile(path.name, moment))
    return found


def _is_missing(exc: Any) -> bool:
    """Whether a boto3 ``ClientError`` says there is no such object (HEAD answers a bare 404)."""
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


# Content never changes under a key: browsers and proxies may keep it for a year.
CACHE_CONTROL = "public, max-age=31536000, immutable"


def public_url(settings: Settings, key: str) -> str:
    """Where browsers load ``key``, by the settings alone (no client: pages call it often)."""
    if settings.media_s3_bucket and settings.media_s3_public_url:
        return f"{settings.media_s3_public_url.rstrip('/')}/{key}"
    return f"{settings.base_url}{PUBLIC_PATH}/{key}"


def page_src(settings: Settings, key: str) -> str:
    """Where a page loads ``key``: the bucket's public URL, else a path on this origin.

    A path (not ``base_url``) keeps the page loading from the host the browser asked, even
    when ``base_url`` names another address of the same site (``make run`` on 127.0.0.1).
    """
    if settings.media_s3_bucket and settings.media_s3_public_url:
        return f"{settings.media_s3_public_url.rstrip('/')}/{key}"
    return f"{PUBLIC_PATH}/{key}"


def from_settings(settings: Settings) -> Storage:
    """The storage the settings choose: the S3 bucket if one is set, else the directory."""
    if settings.media_s3_bucket:
        return S3Storage.from_settings(settings)
    return LocalStorage(settings.media_dir, base_url=settings.base_url)

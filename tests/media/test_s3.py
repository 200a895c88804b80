"""S3 storage, against a local S3-compatible server (moto) that the tests start themselves."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.exports import service as exports_service
from chirp.exports import storage as exports_storage
from chirp.media.storage import NotStored, S3Storage, key_for
from tests.conftest import MakeApp, client_of
from tests.factories import auth, make_token, make_user
from tests.media import images
from tests.media.conftest import BUCKET, CREDENTIALS
from tests.notifications.helpers import run_jobs


def _keys(client: Any) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


async def test_s3_storage_puts_types_reads_and_deletes(bucket: Any) -> None:
    storage = S3Storage(bucket, BUCKET, public_url="https://example.org/media/")
    data = images.png()
    key = key_for(data, "image/png")
    assert not await storage.exists(key)
    with pytest.raises(NotStored) as missing:
        await storage.get(key)
    assert missing.value.key == key
    await storage.put(key, data, "image/png")
    assert await storage.exists(key)
    assert await storage.get(key) == data
    head = bucket.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentType"] == "image/png" and "immutable" in head["CacheControl"]
    assert bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data
    assert storage.url(key) == f"https://example.org/media/{key}"
    await storage.delete(key)
    await storage.delete(key)  # already gone: no error
    assert not await storage.exists(key)
    with pytest.raises(NotStored):
        await storage.get(key)
    for bad in ("../escape.png", "x" * 64 + ".png"):
        with pytest.raises(ValueError):
            await storage.put(bad, data, "image/png")
        with pytest.raises(ValueError):
            await storage.get(bad)


async def test_uploads_go_to_the_bucket_and_leave_with_their_post(
    make_app: MakeApp, session: AsyncSession, bucket: Any, s3_endpoint: str
) -> None:
    app = await make_app(
        media_s3_bucket=BUCKET,
        media_s3_endpoint_url=s3_endpoint,
        media_s3_region="us-east-1",
        media_s3_public_url="https://testserver/media",
        **CREDENTIALS,
    )
    token = await make_token(session, await make_user(session, "alice"))
    async with client_of(app) as api:
        r = await api.post(
            "/api/v2/media",
            headers=auth(token),
            files={"file": ("a.jpg", images.jpeg_with_exif(), "image/jpeg")},
        )
        assert r.status_code == 200, r.text
        media = r.json()
        assert media["url"].startswith("https://testserver/media/")
        key = media["url"].rsplit("/", 1)[1]
        assert _keys(bucket) == {key, media["preview_url"].rsplit("/", 1)[1]}
        stored = bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert b"SecretCam" not in stored and b"Exif" not in stored
        post = await api.post(
            "/api/v1/statuses", headers=auth(token), json={"media_ids": [media["id"]]}
        )
        assert post.status_code == 200, post.text
        deleted = await api.delete(f"/api/v1/statuses/{post.json()['id']}", headers=auth(token))
        assert deleted.status_code == 200
        await run_jobs(app)
    assert _keys(bucket) == set()


async def test_a_data_archive_holds_the_images_kept_in_the_bucket(
    make_app: MakeApp, session: AsyncSession, bucket: Any, s3_endpoint: str, tmp_path: Path
) -> None:
    app = await make_app(
        media_s3_bucket=BUCKET,
        media_s3_endpoint_url=s3_endpoint,
        media_s3_region="us-east-1",
        media_s3_public_url="https://testserver/media",
        export_dir=str(tmp_path),
        **CREDENTIALS,
    )
    user = await make_user(session, "alice")
    token = await make_token(session, user)
    async with client_of(app) as api:
        r = await api.post(
            "/api/v2/media",
            headers=auth(token),
            files={"file": ("a.png", images.png(), "image/png")},
            data={"description": "A green field"},
        )
        assert r.status_code == 200, r.text
        media = r.json()
        post = await api.post(
            "/api/v1/statuses", headers=auth(token), json={"media_ids": [media["id"]]}
        )
        assert post.status_code == 200, post.text
    export = await exports_service.request(session, user=user)
    await session.commit()
    await run_jobs(app)
    await session.refresh(export)
    assert export.status == "done" and export.key
    path = exports_storage.local_file(app.state.settings, export.key)
    assert path is not None
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as zf:
        [listed] = json.loads(zf.read("posts.json"))[0]["media"]
        assert (listed["file"], listed["description"]) == (
            f"media/{media['id']}.png",
            "A green field",
        )
        key = media["url"].rsplit("/", 1)[1]
        assert zf.read(listed["file"]) == bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_the_server_is_local(s3_endpoint: str) -> None:
    assert httpx.URL(s3_endpoint).host == "127.0.0.1"

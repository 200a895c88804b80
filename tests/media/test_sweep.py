"""``chirp media sweep``: stored files no row uses are deleted once old; used ones never."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from chirp.cli import app as cli
from chirp.config import Settings
from chirp.db import utcnow
from chirp.media import profile_images, sweep
from chirp.media import service as media_service
from chirp.media.storage import LocalStorage, S3Storage, Storage, key_for
from chirp.posts import service as posts_service
from chirp.users.models import User
from tests.factories import make_user
from tests.media import images
from tests.media.conftest import BUCKET

TWO_DAYS = 2 * 24 * 3600


def _age(storage: LocalStorage, key: str, seconds: float) -> None:
    """Make a stored file look ``seconds`` old."""
    moment = time.time() - seconds
    os.utime(storage.path(key), (moment, moment))


async def _everything_in_use(
    session: AsyncSession, storage: Storage, settings: Settings
) -> tuple[set[str], User]:
    """ann's posted image, her upload not posted yet, avatar and header, and a deleted
    account's avatar: every file any row uses (and ann)."""
    ann = await make_user(session, "ann")
    gone = await make_user(session, "gone")
    posted = await media_service.upload(
        session, storage, settings, account=ann, data=images.jpeg(color=(1, 2, 3))
    )
    await session.commit()
    await posts_service.create_post(
        session, author=ann, text="look", max_length=500, media_ids=[posted.id]
    )
    waiting = await media_service.upload(
        session, storage, settings, account=ann, data=images.png(color=(4, 5, 6))
    )
    await profile_images.set_images(
        session,
        storage,
        settings,
        user=ann,
        avatar=images.png(color=(7, 8, 9)),
        header=images.jpeg(1600, 600, color=(9, 9, 9)),
    )
    await profile_images.set_avatar(
        session, storage, settings, user=gone, data=images.png(color=(10, 11, 12))
    )
    gone.deleted_at = utcnow()  # hidden at once; its pictures are the deletion job's to free
    await session.commit()
    used = {
        posted.original_key,
        posted.small_key,
        waiting.original_key,
        waiting.small_key,
        ann.avatar_key,
        ann.header_key,
        gone.avatar_key,
    }
    assert None not in used and len(used) == 7
    return {key for key in used if key}, ann


async def test_sweep_deletes_old_files_nothing_uses_and_keeps_the_rest(
    session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    storage = LocalStorage(tmp_path / "media", base_url=settings.base_url)
    used, _ann = await _everything_in_use(session, storage, settings)
    # A failed upload's files (old) and an upload in progress (new): used by nothing.
    orphan, fresh = images.png(color=(200, 0, 0)), images.png(color=(0, 200, 0))
    orphan_key, fresh_key = key_for(orphan, "image/png"), key_for(fresh, "image/png")
    await storage.put(orphan_key, orphan, "image/png")
    await storage.put(fresh_key, fresh, "image/png")
    for key in used | {orphan_key}:
        _age(storage, key, TWO_DAYS)

    dry = await sweep.sweep(session, storage, dry_run=True)
    assert (dry.files, dry.unreferenced, dry.deleted) == (9, 1, 0)
    assert await storage.exists(orphan_key)

    done = await sweep.sweep(session, storage)
    assert (done.files, done.unreferenced, done.deleted) == (9, 1, 1)
    assert not await storage.exists(orphan_key)
    for key in used | {fresh_key}:
        assert await storage.exists(key), key
    # Once old, the upload that never committed goes too; a second sweep finds nothing more.
    _age(storage, fresh_key, TWO_DAYS)
    again = await sweep.sweep(session, storage)
    assert (again.files, again.deleted) == (8, 1) and not await storage.exists(fresh_key)
    assert (await sweep.sweep(session, storage)).deleted == 0


async def test_sweep_reads_a_bucket_page_by_page(
    session: AsyncSession,
    settings: Settings,
    bucket: Any,
) -> None:
    storage = S3Storage(bucket, BUCKET, public_url="https://example.org/media/")
    storage.page_size = 3  # several pages from a handful of objects
    used, _ann = await _everything_in_use(session, storage, settings)
    orphans = [images.png(color=(i, 100, 100)) for i in range(4)]
    for data in orphans:
        await storage.put(key_for(data, "image/png"), data, "image/png")
    bucket.put_object(Bucket=BUCKET, Key="not-a-key.txt", Body=b"left alone")
    listed = [item.key async for batch in storage.listing() for item in batch]
    assert sorted(listed) == sorted(used | {key_for(d, "image/png") for d in orphans})
    # Objects cannot be dated back: every file counts as old here.
    done = await sweep.sweep(session, storage, older_than=timedelta(seconds=-60))
    assert (done.files, done.deleted) == (11, 4)
    left = {item["Key"] for item in bucket.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert left == used | {"not-a-key.txt"}


def test_the_command_says_what_it_found_and_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHIRP_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("CHIRP_ENVIRONMENT", "development")
    monkeypatch.setenv("CHIRP_MEDIA_DIR", str(tmp_path / "media"))
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    storage = LocalStorage(tmp_path / "media", base_url="http://x")
    data = images.png()
    key = key_for(data, "image/png")
    storage.path(key).parent.mkdir(parents=True)
    storage.path(key).write_bytes(data)
    _age(storage, key, TWO_DAYS)
    dry = runner.invoke(cli, ["media", "sweep", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.strip() == "1 file(s) stored, 1 used by nothing: would delete 1."
    assert storage.path(key).exists()
    done = runner.invoke(cli, ["media", "sweep"])
    assert done.output.strip() == "1 file(s) stored, 1 used by nothing: deleted 1."
    assert not storage.path(key).exists()
    refused = runner.invoke(cli, ["media", "sweep", "--older-than-hours", "0"])
    assert refused.exit_code == 2

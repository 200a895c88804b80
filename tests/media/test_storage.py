"""Local storage: files under a directory, read back as stored, by well-formed keys only."""

from __future__ import annotations

from pathlib import Path

import pytest

from chirp.media.storage import LocalStorage, NotStored, key_for
from tests.media import images


async def test_local_storage_puts_reads_and_deletes(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media", base_url="https://example.org/")
    data = images.jpeg()
    key = key_for(data, "image/jpeg")
    with pytest.raises(NotStored) as missing:
        await storage.get(key)
    assert missing.value.key == key
    await storage.put(key, data, "image/jpeg")
    assert await storage.exists(key)
    assert await storage.get(key) == data
    assert storage.url(key) == f"https://example.org/media/{key}"
    await storage.delete(key)
    await storage.delete(key)  # already gone: no error
    with pytest.raises(NotStored):
        await storage.get(key)
    # Only a key names a file: nothing outside the directory is ever read.
    secret = tmp_path / "secret.png"
    secret.write_bytes(data)
    for bad in ("../secret.png", "../../secret.png", "/etc/passwd", "x" * 64 + ".png"):
        with pytest.raises(ValueError):
            await storage.get(bad)

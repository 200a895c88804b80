"""Media API: upload, read, describe, delete; attach to posts; Status shape; avatars."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.db import utcnow
from chirp.jobs.models import Job
from chirp.media.models import MediaAttachment
from chirp.posts.models import Post
from tests.conftest import MakeApp, client_of
from tests.factories import auth, make_token, make_user
from tests.media import images
from tests.notifications.helpers import run_jobs


@pytest.fixture
async def media_app(make_app: MakeApp, tmp_path: Path) -> FastAPI:
    """The app storing uploads under a directory of this test's own."""
    return await make_app(media_dir=str(tmp_path / "media"), media_max_bytes=2 * 2**20)


@pytest.fixture
async def api(media_app: FastAPI) -> Any:
    async with client_of(media_app) as c:
        yield c


def _files(app: FastAPI) -> list[Path]:
    root = Path(app.state.settings.media_dir)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def _rows(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as s:
        return int(await s.scalar(select(func.count()).select_from(MediaAttachment)) or 0)


async def _upload(
    api: httpx.AsyncClient,
    token: str,
    data: bytes,
    *,
    name: str = "photo.jpg",
    content_type: str = "image/jpeg",
    version: str = "v2",
    **fields: str,
) -> httpx.Response:
    return await api.post(
        f"/api/{version}/media",
        headers=auth(token),
        files={"file": (name, data, content_type)},
        data=fields,
    )


async def _uploaded(api: httpx.AsyncClient, token: str, data: bytes, **fields: str) -> str:
    r = await _upload(api, token, data, **fields)
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


async def test_upload_answers_a_mastodon_media_attachment(
    api: httpx.AsyncClient, media_app: FastAPI, session: AsyncSession
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    r = await _upload(
        api, token, images.jpeg(3000, 1500), description="A red field", focus="0.5,-0.25"
    )
    assert r.status_code == 200, r.text
    media = r.json()
    assert media["type"] == "image" and media["description"] == "A red field"
    assert media["url"].startswith("http://testserver/media/") and media["url"].endswith(".jpg")
    assert media["preview_url"].startswith("http://testserver/media/")
    assert media["remote_url"] is None and media["preview_remote_url"] is None
    assert media["text_url"] is None and media["blurhash"]
    assert media["meta"]["original"] == {
        "width": 2048,
        "height": 1024,
        "size": "2048x1024",
        "aspect": 2.0,
    }
    assert media["meta"]["small"]["width"] == 400 and media["meta"]["small"]["height"] == 200
    assert media["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    # The files are served by Chirp itself, typed, and cached for good.
    served = await api.get(media["url"].removeprefix("http://testserver"))
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert "immutable" in served.headers["cache-control"]
    assert len(_files(media_app)) == 2
    # v1 (deprecated) answers the same; GET, PUT and DELETE work on one's own upload.
    r1 = await _upload(api, token, images.png(), version="v1")
    assert r1.status_code == 200 and r1.json()["url"].endswith(".png")
    got = await api.get(f"/api/v1/media/{media['id']}", headers=auth(token))
    assert got.status_code == 200 and got.json()["id"] == media["id"]
    put = await api.put(
        f"/api/v1/media/{media['id']}",
        headers=auth(token),
        data={"description": "Now described", "focus": "0,0"},
    )
    assert put.status_code == 200, put.text
    assert put.json()["description"] == "Now described" and put.json()["meta"]["focus"]["x"] == 0


async def test_media_file_paths_are_safe(api: httpx.AsyncClient) -> None:
    for path in ("/media/..%2F..%2Fetc%2Fpasswd", "/media/chirp.db", "/media/" + "a" * 64 + ".exe"):
        r = await api.get(path)
        assert r.status_code == 404, path


async def test_someone_elses_media_is_not_found(
    api: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice = await make_token(session, await make_user(session, "alice"))
    bob = await make_token(session, await make_user(session, "bob"))
    media_id = await _uploaded(api, alice, images.jpeg())
    for method in ("GET", "PUT", "DELETE"):
        r = await api.request(
            method, f"/api/v1/media/{media_id}", headers=auth(bob), data={"description": "x"}
        )
        assert r.status_code == 404, (method, r.text)


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (images.truncated_jpeg(), "photo.jpg", "image/jpeg"),
        (b"", "empty.png", "image/png"),
        (images.png_declaring(100_000, 100_000), "bomb.png", "image/png"),
        (images.png_declaring(10_000, 10_000), "huge.png", "image/png"),
        (images.animated_gif(1000), "long.gif", "image/gif"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.png", "image/png"),
    ],
    ids=["truncated", "empty", "bomb", "100-megapixels", "1000-frames", "svg-as-png"],
)
async def test_refused_uploads_are_422_and_change_nothing(
    api: httpx.AsyncClient,
    media_app: FastAPI,
    session: AsyncSession,
    db: async_sessionmaker[AsyncSession],
    data: bytes,
    name: str,
    content_type: str,
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    r = await _upload(api, token, data, name=name, content_type=content_type)
    assert r.status_code == 422, r.text
    assert "error" in r.json()
    assert await _rows(db) == 0 and _files(media_app) == []


async def test_a_png_named_jpg_and_a_gif_declared_png_are_judged_by_their_bytes(
    api: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    r = await _upload(api, token, images.png(), name="photo.jpg", content_type="image/jpeg")
    assert r.status_code == 200 and r.json()["url"].endswith(".png")
    gif = images.animated_gif(3, size=32)
    r = await _upload(api, token, gif, name="x.png", content_type="image/png")
    assert r.status_code == 200 and r.json()["url"].endswith(".gif")


async def test_too_large_is_413_and_stores_nothing(
    api: httpx.AsyncClient,
    media_app: FastAPI,
    session: AsyncSession,
    db: async_sessionmaker[AsyncSession],
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    big = images.png(10, 10) + b"\0" * (2 * 2**20)
    r = await _upload(api, token, big, name="big.png", content_type="image/png")
    assert r.status_code == 413, r.text
    assert await _rows(db) == 0 and _files(media_app) == []


async def test_unsupported_and_bad_parameters_are_422(
    api: httpx.AsyncClient, session: AsyncSession, db: async_sessionmaker[AsyncSession]
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    jpeg = images.jpeg()
    for fields in ({"focus": "2,0"}, {"focus": "nan,0"}, {"description": "x" * 1501}):
        r = await _upload(api, token, jpeg, **fields)
        assert r.status_code == 422, (fields, r.text)
    r = await api.post(
        "/api/v2/media",
        headers=auth(token),
        files={"file": ("a.jpg", jpeg, "image/jpeg"), "thumbnail": ("t.jpg", jpeg, "image/jpeg")},
    )
    assert r.status_code == 422
    r = await api.post("/api/v2/media", headers=auth(token), data={"description": "no file"})
    assert r.status_code == 422
    assert await _rows(db) == 0


async def _post(api: httpx.AsyncClient, token: str, **body: Any) -> httpx.Response:
    return await api.post("/api/v1/statuses", headers=auth(token), json=body)


async def test_a_post_with_images_shows_them_in_order_everywhere(
    api: httpx.AsyncClient, session: AsyncSession, media_app: FastAPI
) -> None:
    alice_user = await make_user(session, "alice")
    alice = await make_token(session, alice_user)
    bob = await make_token(session, await make_user(session, "bob"))
    r = await api.post(f"/api/v1/accounts/{alice_user.id}/follow", headers=auth(bob))
    assert r.status_code == 200
    first = await _uploaded(api, alice, images.jpeg(color=(1, 2, 3)), description="first")
    second = await _uploaded(api, alice, images.png(color=(9, 8, 7)))
    # Images only: no text needed.
    r = await _post(api, alice, media_ids=[second, first], sensitive=True)
    assert r.status_code == 200, r.text
    status = r.json()
    assert status["content"] == "" and status["sensitive"] is True
    assert [m["id"] for m in status["media_attachments"]] == [second, first]
    assert status["media_attachments"][1]["description"] == "first"
    await run_jobs(media_app)
    # The same attachments on every surface: the status, a repost, timelines, profile.
    shown = await api.get(f"/api/v1/statuses/{status['id']}", headers=auth(bob))
    assert [m["id"] for m in shown.json()["media_attachments"]] == [second, first]
    reblog = await api.post(f"/api/v1/statuses/{status['id']}/reblog", headers=auth(bob))
    assert [m["id"] for m in reblog.json()["reblog"]["media_attachments"]] == [second, first]
    await run_jobs(media_app)
    home = (await api.get("/api/v1/timelines/home", headers=auth(bob))).json()
    posted = [s for s in home if s["id"] == status["id"]]
    assert posted and [m["id"] for m in posted[0]["media_attachments"]] == [second, first]
    public = (await api.get("/api/v1/timelines/public")).json()
    assert any(s["id"] == status["id"] and s["media_attachments"] for s in public)
    # Alt text stays editable after posting (as Mastodon's status edit allows).
    r = await api.put(f"/api/v1/media/{first}", headers=auth(alice), data={"description": "edited"})
    assert r.status_code == 200
    again = (await api.get(f"/api/v1/statuses/{status['id']}")).json()
    assert again["media_attachments"][1]["description"] == "edited"
    # Attached media cannot be deleted on its own (Mastodon 4.4).
    r = await api.delete(f"/api/v1/media/{first}", headers=auth(alice))
    assert r.status_code == 422


async def test_media_is_sensitive_by_default_for_whoever_asked_for_it(
    api: httpx.AsyncClient, session: AsyncSession
) -> None:
    careful = await make_token(session, await make_user(session, "careful"))
    plain = await make_token(session, await make_user(session, "plain"))
    r = await api.patch(
        "/api/v1/accounts/update_credentials",
        headers=auth(careful),
        data={"source[sensitive]": "true"},
    )
    assert r.status_code == 200 and r.json()["source"]["sensitive"] is True
    cases = [
        (careful, {}, True),  # images, nothing said: the default
        (careful, {"sensitive": False}, False),  # said otherwise for this post
        (plain, {}, False),
        (plain, {"sensitive": True}, True),
    ]
    for token, extra, expected in cases:
        image = await _uploaded(api, token, images.png())
        r = await _post(api, token, media_ids=[image], **extra)
        assert r.status_code == 200 and r.json()["sensitive"] is expected, (extra, r.text)
    # Without images there is nothing to hide: the default does not apply.
    r = await _post(api, careful, status="just words")
    assert r.json()["sensitive"] is False


async def test_attach_rules_are_422_and_post_nothing(
    api: httpx.AsyncClient,
    session: AsyncSession,
    db: async_sessionmaker[AsyncSession],
    make_app: MakeApp,
) -> None:
    alice = await make_token(session, await make_user(session, "alice"))
    bob = await make_token(session, await make_user(session, "bob"))
    mine = [await _uploaded(api, alice, images.jpeg(color=(i, 0, 0))) for i in range(5)]
    theirs = await _uploaded(api, bob, images.jpeg(color=(0, 0, 99)))

    async def posts() -> int:
        async with db() as s:
            return int(await s.scalar(select(func.count()).select_from(Post)) or 0)

    before = await posts()
    for ids in (
        [mine[0], theirs],  # someone else's
        mine,  # five: more than four
        [mine[0], mine[0]],  # the same twice
        ["12345"],  # nobody's
        ["not-an-id"],
    ):
        r = await _post(api, alice, status="look", media_ids=ids)
        assert r.status_code == 422, (ids, r.text)
    assert await posts() == before
    r = await _post(api, alice, status="")
    assert r.status_code == 422  # no text and no images
    r = await _post(api, alice, status="four", media_ids=mine[:4])
    assert r.status_code == 200
    # Already attached: refused for the next post.
    r = await _post(api, alice, status="again", media_ids=[mine[0]])
    assert r.status_code == 422
    async with db() as s:
        attached = await s.scalar(select(func.count()).where(MediaAttachment.post_id.is_not(None)))
    assert attached == 4


async def test_a_retried_post_with_images_returns_the_first_post(
    api: httpx.AsyncClient, session: AsyncSession
) -> None:
    # A client that lost the answer sends the same post again with the same key: its images
    # are attached by then, yet the retry gets the first post back, not a refusal.
    alice = await make_token(session, await make_user(session, "alice"))
    bob = await make_token(session, await make_user(session, "bob"))
    media_id = await _uploaded(api, alice, images.jpeg())
    sent = []
    for token in (alice, alice, bob):
        headers = {**auth(token), "Idempotency-Key": "retry-1"}
        body = {"status": "with an image", "media_ids": [media_id]}
        sent.append(await api.post("/api/v1/statuses", headers=headers, json=body))
    first, retry, other = sent
    assert first.status_code == retry.status_code == 200, retry.text
    assert retry.json()["id"] == first.json()["id"]
    assert [m["id"] for m in retry.json()["media_attachments"]] == [media_id]
    # bob's key is his own: alice's image is not his to attach.
    assert other.status_code == 422, other.text


async def test_only_media_lists_posts_with_images(
    api: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, "alice")
    token = await make_token(session, user)
    await _post(api, token, status="just text")
    media_id = await _uploaded(api, token, images.jpeg())
    with_image = (await _post(api, token, status="with image", media_ids=[media_id])).json()
    r = await api.get(f"/api/v1/accounts/{user.id}/statuses", params={"only_media": "true"})
    assert r.status_code == 200
    assert [s["id"] for s in r.json()] == [with_image["id"]]
    everything = await api.get(f"/api/v1/accounts/{user.id}/statuses")
    assert len(everything.json()) == 2


async def test_instance_reports_the_media_limits(make_app: MakeApp) -> None:
    app = await make_app(max_media_attachments=9, media_max_bytes=5_000_000)
    async with client_of(app) as c:
        for path in ("/api/v1/instance", "/api/v2/instance"):
            config = (await c.get(path)).json()["configuration"]
            assert config["statuses"]["max_media_attachments"] == 9
            media = config["media_attachments"]
            assert media["image_size_limit"] == 5_000_000
            assert media["image_matrix_limit"] == 50_000_000
            assert media["description_limit"] == 1500
            assert set(media["supported_mime_types"]) == {
                "image/jpeg",
                "image/png",
                "image/gif",
                "image/webp",
            }


async def test_unattached_uploads_are_deleted_after_a_day(
    api: httpx.AsyncClient,
    session: AsyncSession,
    db: async_sessionmaker[AsyncSession],
    media_app: FastAPI,
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    old = await _uploaded(api, token, images.jpeg(color=(10, 10, 10)))
    fresh = await _uploaded(api, token, images.jpeg(color=(20, 20, 20)))
    used = await _uploaded(api, token, images.jpeg(color=(30, 30, 30)))
    await _post(api, token, status="kept", media_ids=[used])
    assert len(_files(media_app)) == 6
    async with db() as s:
        # A day and more has passed for two of them; their clean-up jobs are due.
        await s.execute(
            update(MediaAttachment)
            .where(MediaAttachment.id.in_([int(old), int(used)]))
            .values(created_at=utcnow() - timedelta(days=2))
        )
        await s.execute(update(Job).values(run_at=utcnow() - timedelta(seconds=1)))
        await s.commit()
    await run_jobs(media_app)
    async with db() as s:
        left = set(await s.scalars(select(MediaAttachment.id)))
    assert left == {int(fresh), int(used)}
    assert len(_files(media_app)) == 4


async def test_deleting_a_post_deletes_files_nothing_else_uses(
    api: httpx.AsyncClient,
    session: AsyncSession,
    db: async_sessionmaker[AsyncSession],
    media_app: FastAPI,
) -> None:
    alice = await make_token(session, await make_user(session, "alice"))
    bob = await make_token(session, await make_user(session, "bob"))
    same = images.jpeg(color=(50, 60, 70))
    # The same bytes, uploaded by two people: one pair of files.
    a = await _uploaded(api, alice, same)
    b = await _uploaded(api, bob, same)
    other = await _uploaded(api, alice, images.png())
    post_a = (await _post(api, alice, status="a", media_ids=[a, other])).json()
    await _post(api, bob, status="b", media_ids=[b])
    assert len(_files(media_app)) == 4
    r = await api.delete(f"/api/v1/statuses/{post_a['id']}", headers=auth(alice))
    assert r.status_code == 200
    await run_jobs(media_app)
    # Alice's PNG is gone; the shared JPEG stays for Bob's post.
    assert len(_files(media_app)) == 2
    async with db() as s:
        assert set(await s.scalars(select(MediaAttachment.id))) == {int(b)}
    shown = (await api.get("/api/v1/timelines/public")).json()
    bob_post = next(s for s in shown if s["account"]["username"] == "bob")
    served = await api.get(
        bob_post["media_attachments"][0]["url"].removeprefix("http://testserver")
    )
    assert served.status_code == 200


async def test_deleting_an_unattached_upload_deletes_its_files(
    api: httpx.AsyncClient, session: AsyncSession, media_app: FastAPI
) -> None:
    token = await make_token(session, await make_user(session, "alice"))
    media_id = await _uploaded(api, token, images.jpeg())
    r = await api.delete(f"/api/v1/media/{media_id}", headers=auth(token))
    assert r.status_code == 200 and r.json()["id"] == media_id
    await run_jobs(media_app)
    assert _files(media_app) == []
    r = await api.get(f"/api/v1/media/{media_id}", headers=auth(token))
    assert r.status_code == 404


async def test_avatar_and_header_upload_and_removal(
    api: httpx.AsyncClient, session: AsyncSession, media_app: FastAPI
) -> None:
    user = await make_user(session, "alice")
    token = await make_token(session, user)
    before = (await api.get("/api/v1/accounts/verify_credentials", headers=auth(token))).json()
    assert before["avatar"] == f"http://testserver/avatars/{user.id}?v=i1"
    assert before["header"] == "http://testserver/static/header.png"
    r = await api.patch(
        "/api/v1/accounts/update_credentials",
        headers=auth(token),
        files={
            "avatar": ("me.jpg", images.jpeg(900, 300), "image/jpeg"),
            "header": ("h.png", images.png(600, 600), "image/png"),
        },
        data={"display_name": "Alice"},
    )
    assert r.status_code == 200, r.text
    account = r.json()
    assert account["display_name"] == "Alice"
    assert account["avatar"].startswith("http://testserver/media/")
    assert account["avatar_static"] == account["avatar"]
    assert account["header"].startswith("http://testserver/media/")
    avatar = await api.get(account["avatar"].removeprefix("http://testserver"))
    assert avatar.status_code == 200
    assert Image.open(io.BytesIO(avatar.content)).size == (400, 400)
    header = await api.get(account["header"].removeprefix("http://testserver"))
    assert Image.open(io.BytesIO(header.content)).size == (1500, 500)
    # Others see it on the account and on its posts.
    shown = (await api.get(f"/api/v1/accounts/{user.id}")).json()
    assert shown["avatar"] == account["avatar"]
    # A refused image changes nothing (422), the text sent with it neither.
    r = await api.patch(
        "/api/v1/accounts/update_credentials",
        headers=auth(token),
        files={"avatar": ("x.jpg", images.truncated_jpeg(), "image/jpeg")},
        data={"display_name": "Changed"},
    )
    assert r.status_code == 422
    same = (await api.get("/api/v1/accounts/verify_credentials", headers=auth(token))).json()
    assert same["display_name"] == "Alice" and same["avatar"] == account["avatar"]
    # Text where a file belongs is refused, naming it.
    for name in ("avatar", "header"):
        r = await api.patch(
            "/api/v1/accounts/update_credentials", headers=auth(token), json={name: "x.png"}
        )
        assert r.status_code == 422 and name in r.json()["error"]
    # Removing them brings the defaults back and deletes the files.
    r = await api.delete("/api/v1/profile/avatar", headers=auth(token))
    assert r.status_code == 200 and r.json()["avatar"] == before["avatar"]
    r = await api.delete("/api/v1/profile/header", headers=auth(token))
    assert r.status_code == 200 and r.json()["header"] == before["header"]
    await run_jobs(media_app)
    assert _files(media_app) == []

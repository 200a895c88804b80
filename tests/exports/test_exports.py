"""Download your data: the archive holds exactly the user's own data, for them alone."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import utcnow
from chirp.exports import archive, jobs, storage
from chirp.exports import service as exports_service
from chirp.exports.models import Export
from chirp.jobs import kinds
from chirp.jobs.models import Job
from chirp.jobs.worker import JobContext
from chirp.media.models import MediaAttachment
from chirp.users.models import User
from tests.conftest import MakeApp, client_of
from tests.factories import auth, make_token, make_user
from tests.media import images
from tests.notifications.helpers import run_jobs
from tests.web.helpers import csrf, login

NAMES = ("ann", "bob", "carl", "dave")


async def _world(session: AsyncSession) -> tuple[dict[str, User], dict[str, str]]:
    users = {name: await make_user(session, name) for name in NAMES}
    tokens = {name: await make_token(session, user) for name, user in users.items()}
    return users, tokens


async def _act(client: httpx.AsyncClient, token: str, path: str, **data: str) -> dict[str, Any]:
    r = await client.post(path, data=data, headers=auth(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _populate(
    client: httpx.AsyncClient, users: dict[str, User], tokens: dict[str, str]
) -> dict[str, Any]:
    """Overlapping follows, posts of every kind and likes; return what ann's archive holds."""
    for follower, followee in (
        ("ann", "bob"),
        ("ann", "carl"),
        ("carl", "ann"),
        ("dave", "ann"),
        ("bob", "carl"),
        ("dave", "bob"),
    ):
        await _act(client, tokens[follower], f"/api/v1/accounts/{users[followee].id}/follow")
    post = "/api/v1/statuses"
    first = await _act(client, tokens["ann"], post, status='first, with "quotes" and ü')
    secret = await _act(client, tokens["ann"], post, status="for followers", visibility="private")
    bobs = await _act(client, tokens["bob"], post, status="bob says hi")
    reply = await _act(
        client, tokens["ann"], post, status="@bob hello back", in_reply_to_id=bobs["id"]
    )
    dm = await _act(client, tokens["ann"], post, status="@carl psst", visibility="direct")
    await _act(client, tokens["carl"], post, status="carl's own")
    repost = await _act(client, tokens["ann"], f"/api/v1/statuses/{bobs['id']}/reblog")
    await _act(client, tokens["ann"], f"/api/v1/statuses/{bobs['id']}/favourite")
    await _act(client, tokens["bob"], f"/api/v1/statuses/{first['id']}/favourite")
    return {
        "posts": [first["id"], secret["id"], reply["id"], dm["id"], repost["id"]],
        "reply": (reply["id"], bobs["id"]),
        "repost": (repost["id"], bobs["id"]),
        "liked": [bobs["id"]],
    }


async def _post_images(
    client: httpx.AsyncClient, token: str, text: str, *files: tuple[bytes, str, str]
) -> dict[str, Any]:
    """Post ``text`` with images, each (bytes, content type, alt text); the Status."""
    ids = []
    for data, content_type, description in files:
        r = await client.post(
            "/api/v2/media",
            headers=auth(token),
            files={"file": ("image", data, content_type)},
            data={"description": description},
        )
        assert r.status_code == 200, r.text
        ids.append(r.json()["id"])
    r = await client.post(
        "/api/v1/statuses", headers=auth(token), json={"status": text, "media_ids": ids}
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _served(client: httpx.AsyncClient, url: str) -> bytes:
    """The bytes a browser gets for a media URL of this server."""
    r = await client.get(url.removeprefix("http://testserver"))
    assert r.status_code == 200
    return r.content


def _media(data: bytes) -> dict[str, bytes]:
    """The files under media/ in an archive, by name."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        return {name: zf.read(name) for name in zf.namelist() if name.startswith("media/")}


def _read(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {
            name: zf.read(name).decode() for name in zf.namelist() if not name.startswith("media/")
        }


async def _request(browser: httpx.AsyncClient) -> httpx.Response:
    token = await csrf(browser, "/settings/export")
    return await browser.post("/settings/export", data={"csrf_token": token})


async def test_the_archive_holds_exactly_the_users_own_data_and_only_they_get_it(
    make_app: MakeApp, session: AsyncSession, tmp_path: Path
) -> None:
    app = await make_app(export_dir=str(tmp_path))
    users, tokens = await _world(session)
    async with client_of(app) as api:
        expected = await _populate(api, users, tokens)
    async with client_of(app) as ann_browser, client_of(app) as bob_browser:
        await login(ann_browser, "ann")
        await login(bob_browser, "bob")
        page = await ann_browser.get("/settings/export")
        assert "You have not asked for an archive yet." in page.text
        r = await _request(ann_browser)
        assert r.status_code == 303
        await run_jobs(app)
        export = (await session.execute(select(Export))).scalar_one()
        assert (export.status, export.progress, export.user_id) == ("done", 100, users["ann"].id)
        page = (await ann_browser.get("/settings/export")).text
        link = f'href="/settings/export/{export.id}/download"'
        assert link in page and "every 2s" not in page  # done: no more polling

        r = await ann_browser.get(f"/settings/export/{export.id}/download")
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
        assert r.headers["content-disposition"].startswith("attachment;")
        assert "chirp-ann-" in r.headers["content-disposition"]
        files = _read(r.content)
        # Another user, or a visitor, cannot download it (nor learn it exists).
        assert (await bob_browser.get(f"/settings/export/{export.id}/download")).status_code == 404
        assert link not in (await bob_browser.get("/settings/export")).text
        async with client_of(app) as visitor:
            r = await visitor.get(f"/settings/export/{export.id}/download")
            assert r.status_code in (302, 303) and "/login" in r.headers["location"]

    assert set(files) == {
        "README.txt",
        "profile.json",
        "posts.json",
        "following_accounts.csv",
        "followers.csv",
        "likes.csv",
    }
    assert "following_accounts.csv" in files["README.txt"]
    profile = json.loads(files["profile.json"])
    assert (profile["username"], profile["email"]) == ("ann", "ann@example.com")
    posts = json.loads(files["posts.json"])
    # Every post of ann's (followers-only, direct, a reply and a repost) and nobody else's.
    assert [p["id"] for p in posts] == expected["posts"]
    by_id = {p["id"]: p for p in posts}
    assert by_id[expected["posts"][0]]["text"] == 'first, with "quotes" and ü'
    assert by_id[expected["posts"][1]]["visibility"] == "private"
    assert by_id[expected["posts"][3]]["visibility"] == "direct"
    reply_id, answered = expected["reply"]
    assert by_id[reply_id]["in_reply_to_id"] == answered
    repost_id, shared = expected["repost"]
    assert (by_id[repost_id]["reblog_of_id"], by_id[repost_id]["text"]) == (shared, "")
    following = list(csv.reader(io.StringIO(files["following_accounts.csv"])))
    assert following == [
        ["Account address", "Show boosts", "Notify on new posts", "Languages"],
        ["bob@testserver", "true", "false", ""],
        ["carl@testserver", "true", "false", ""],
    ]
    followers = list(csv.reader(io.StringIO(files["followers.csv"])))
    assert followers == [["Account address"], ["carl@testserver"], ["dave@testserver"]]
    likes = list(csv.reader(io.StringIO(files["likes.csv"])))
    assert [row[0] for row in likes] == [
        "Post URL",
        *(f"http://testserver/@bob/{i}" for i in expected["liked"]),
    ]


async def test_one_archive_at_a_time_and_one_a_day(
    make_app: MakeApp, session: AsyncSession, tmp_path: Path
) -> None:
    app = await make_app(export_dir=str(tmp_path))
    ann = await make_user(session, "ann")
    await make_user(session, "bob")
    # Asked for, not built yet: the page shows how far it is, and polls while it waits.
    await exports_service.request(session, user=ann)
    await session.commit()
    async with client_of(app) as browser:
        await login(browser, "ann")
        status = await browser.get("/settings/export/status", headers={"HX-Request": "true"})
        if (await session.execute(select(Export.status))).scalar_one() == "pending":
            assert 'hx-trigger="every 2s"' in status.text and "0%" in status.text
            assert "<html" not in status.text
            r = await _request(browser)
            assert r.status_code == 409 and "already being prepared" in r.text
        await run_jobs(app)
        page = await browser.get("/settings/export")
        assert "Download your archive" in page.text
        # A second archive within a day is refused, saying when the next one may be asked.
        r = await _request(browser)
        assert r.status_code == 429 and "one archive a day" in r.text
        assert 0 < int(r.headers["retry-after"]) <= 86400
        assert len((await session.execute(select(Export))).scalars().all()) == 1
        # bob's limit is his own.
        browser.cookies.clear()
        await login(browser, "bob")
        assert (await _request(browser)).status_code == 303
        # A day later, ann may ask again.
        await session.execute(
            update(Export)
            .where(Export.user_id == ann.id)
            .values(created_at=utcnow() - timedelta(days=1, seconds=1))
        )
        await session.commit()
        browser.cookies.clear()
        await login(browser, "ann")
        assert (await _request(browser)).status_code == 303


async def test_progress_climbs_in_batches_and_old_archives_are_deleted_after_a_week(
    make_app: MakeApp, session: AsyncSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "BATCH", 2)  # several batches from a handful of rows
    app = await make_app(export_dir=str(tmp_path))
    users, tokens = await _world(session)
    async with client_of(app) as api:
        for i in range(5):
            await _act(api, tokens["ann"], "/api/v1/statuses", status=f"post {i}")
        for name in ("bob", "carl", "dave"):
            await _act(api, tokens[name], f"/api/v1/accounts/{users['ann'].id}/follow")
    seen: list[int] = []

    async def report(percent: int) -> None:
        seen.append(percent)

    path = tmp_path / "built-directly.bin"
    built = await archive.build(
        app.state.session_factory,
        app.state.settings,
        media=app.state.media_storage,
        user_id=users["ann"].id,
        path=path,
        report=report,
    )
    assert built and seen == sorted(seen) and len(seen) >= 4 and seen[-1] == 99
    posts = json.loads(_read(path.read_bytes())["posts.json"])
    assert [p["text"] for p in posts] == [f"post {i}" for i in range(5)]

    export = await exports_service.request(session, user=users["ann"])
    await session.commit()
    await run_jobs(app)
    await session.refresh(export)
    assert export.status == "done" and export.key and export.size
    assert storage.local_file(app.state.settings, export.key) is not None
    # Its deletion is queued for a week later.
    expiry = (
        await session.execute(select(Job).where(Job.kind == kinds.EXPORT_EXPIRE))
    ).scalar_one()
    assert (
        timedelta(days=6, hours=23) < expiry.run_at - export.created_at < timedelta(days=7, hours=1)
    )
    context = JobContext(session_factory=app.state.session_factory, settings=app.state.settings)
    await jobs.expire_export(context, expiry.payload)
    await jobs.expire_export(context, expiry.payload)  # again: nothing left to do
    assert storage.local_file(app.state.settings, export.key) is None
    assert (await session.execute(select(Export))).scalars().all() == []
    async with client_of(app) as browser:
        await login(browser, "ann")
        r = await browser.get(f"/settings/export/{export.id}/download")
        assert r.status_code == 404

    # Account deletion takes a user's archives, files and all, and no one else's.
    for user in (users["ann"], users["bob"]):
        await exports_service.request(session, user=user)
        await session.commit()
    await run_jobs(app)
    settings = app.state.settings
    assert len(list(settings.exports_path.glob("*.zip"))) == 2
    assert await exports_service.delete_for_user(session, settings, user_id=users["ann"].id) == 1
    await session.commit()
    [left] = (await session.execute(select(Export))).scalars().all()
    assert left.user_id == users["bob"].id
    assert [p.name for p in settings.exports_path.glob("*.zip")] == [storage.key_for(left.id)]


async def test_a_failed_build_frees_the_place_to_ask_again(
    make_app: MakeApp, session: AsyncSession, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the directory should be")
    app = await make_app(export_dir=str(blocked))
    ann = await make_user(session, "ann")
    export = await exports_service.request(session, user=ann)
    await session.commit()
    await run_jobs(app)
    await session.refresh(export)
    assert export.status == "failed" and export.key is None
    async with client_of(app) as browser:
        await login(browser, "ann")
        assert "could not be made" in (await browser.get("/settings/export")).text
        assert (await _request(browser)).status_code == 303


async def test_the_archive_holds_the_users_images_as_stored_and_no_one_elses(
    make_app: MakeApp, session: AsyncSession, tmp_path: Path
) -> None:
    app = await make_app(export_dir=str(tmp_path / "exports"), media_dir=str(tmp_path / "media"))
    users, tokens = await _world(session)
    async with client_of(app) as api:
        two = await _post_images(
            api,
            tokens["ann"],
            "two pictures",
            (images.jpeg(900, 600), "image/jpeg", "A red field"),
            (images.png(), "image/png", "Green, with ü"),
        )
        plain = await _act(api, tokens["ann"], "/api/v1/statuses", status="no pictures")
        bobs = await _post_images(
            api, tokens["bob"], "bob's picture", (images.jpeg(color=(0, 0, 200)), "image/jpeg", "")
        )
        # Ann reposts, and answers with a picture: bob's picture stays his.
        await _act(api, tokens["ann"], f"/api/v1/statuses/{bobs['id']}/reblog")
        reply = await _post_images(
            api, tokens["ann"], "@bob nice", (images.animated_gif(3), "image/gif", "")
        )
        # An upload never posted is not part of her posts.
        r = await api.post(
            "/api/v2/media",
            headers=auth(tokens["ann"]),
            files={"file": ("x.jpg", images.jpeg(300, 300, (9, 9, 9)), "image/jpeg")},
        )
        assert r.status_code == 200
        r = await api.patch(
            "/api/v1/accounts/update_credentials",
            headers=auth(tokens["ann"]),
            files={
                "avatar": ("me.jpg", images.jpeg(500, 500), "image/jpeg"),
                "header": ("h.png", images.png(900, 300), "image/png"),
            },
        )
        assert r.status_code == 200, r.text
        account = r.json()
        # Carl has an avatar too; it is not ann's.
        r = await api.patch(
            "/api/v1/accounts/update_credentials",
            headers=auth(tokens["carl"]),
            files={"avatar": ("c.png", images.png(400, 400, (1, 2, 3)), "image/png")},
        )
        assert r.status_code == 200, r.text

        export = await exports_service.request(session, user=users["ann"])
        await session.commit()
        await run_jobs(app)
        await session.refresh(export)
        assert export.status == "done" and export.key
        path = storage.local_file(app.state.settings, export.key)
        assert path is not None
        archived = path.read_bytes()
        files, media = _read(archived), _media(archived)

        posts = {p["id"]: p for p in json.loads(files["posts.json"])}
        listed = {
            p_id: [(m["file"], m["type"], m["description"]) for m in p["media"]]
            for p_id, p in posts.items()
        }
        ids = [m["id"] for m in two["media_attachments"]]
        gif = reply["media_attachments"][0]
        assert listed[two["id"]] == [
            (f"media/{ids[0]}.jpg", "image", "A red field"),
            (f"media/{ids[1]}.png", "image", "Green, with ü"),
        ]
        assert listed[reply["id"]] == [(f"media/{gif['id']}.{gif['url'][-3:]}", "image", "")]
        assert listed[plain["id"]] == [] and bobs["id"] not in listed
        assert next(p for p in posts.values() if p["reblog_of_id"] == bobs["id"])["media"] == []
        first = posts[two["id"]]["media"][0]
        assert (first["content_type"], first["width"], first["height"]) == ("image/jpeg", 900, 600)

        profile = json.loads(files["profile.json"])
        avatar, header = profile["avatar"], profile["header"]
        assert (avatar[:13], header[:13]) == ("media/avatar.", "media/header.")
        # The zip holds exactly the files named, each the very bytes the server serves.
        served = {
            f"media/{ids[0]}.jpg": two["media_attachments"][0]["url"],
            f"media/{ids[1]}.png": two["media_attachments"][1]["url"],
            listed[reply["id"]][0][0]: gif["url"],
            avatar: account["avatar"],
            header: account["header"],
        }
        assert set(media) == set(served)
        for name, url in served.items():
            assert media[name] == await _served(api, url), name
        assert "media/" in files["README.txt"] and "Missing files" not in files["README.txt"]

        # bob's archive has his picture, not ann's.
        export = await exports_service.request(session, user=users["bob"])
        await session.commit()
        await run_jobs(app)
        await session.refresh(export)
        assert export.key
        path = storage.local_file(app.state.settings, export.key)
        assert path is not None
        bob_media = _media(path.read_bytes())
        bob_image = bobs["media_attachments"][0]
        assert list(bob_media) == [f"media/{bob_image['id']}.jpg"]
        assert bob_media[f"media/{bob_image['id']}.jpg"] == await _served(api, bob_image["url"])


async def test_a_file_missing_from_storage_is_skipped_and_said_so(
    make_app: MakeApp, session: AsyncSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "BATCH", 2)  # images of several batches of posts
    app = await make_app(export_dir=str(tmp_path / "exports"), media_dir=str(tmp_path / "media"))
    users, tokens = await _world(session)
    async with client_of(app) as api:
        statuses = []
        for i in range(5):
            picture = images.jpeg(color=(50 * i, 200 - 40 * i, 90))
            statuses.append(
                await _post_images(api, tokens["ann"], f"picture {i}", (picture, "image/jpeg", ""))
            )
        r = await api.patch(
            "/api/v1/accounts/update_credentials",
            headers=auth(tokens["ann"]),
            files={"avatar": ("me.jpg", images.jpeg(500, 500), "image/jpeg")},
        )
        assert r.status_code == 200, r.text
    # The storage lost one posted image and the avatar (a disk replaced without a backup).
    media = app.state.media_storage
    lost = statuses[2]
    [key] = (
        await session.execute(
            select(MediaAttachment.original_key).where(MediaAttachment.post_id == int(lost["id"]))
        )
    ).scalars()
    await media.delete(key)
    await session.refresh(users["ann"])
    assert users["ann"].avatar_key
    await media.delete(users["ann"].avatar_key)

    path = tmp_path / "built-directly.zip"

    async def report(percent: int) -> None:
        pass

    assert await archive.build(
        app.state.session_factory,
        app.state.settings,
        media=media,
        user_id=users["ann"].id,
        path=path,
        report=report,
    )
    files, zipped = _read(path.read_bytes()), _media(path.read_bytes())
    posts = json.loads(files["posts.json"])
    assert [p["text"] for p in posts] == [f"picture {i}" for i in range(5)]
    named = [p["media"][0]["file"] for p in posts]
    assert named[2] is None and all(named[i] for i in (0, 1, 3, 4))
    assert set(zipped) == {name for name in named if name}
    assert json.loads(files["profile.json"])["avatar"] is None
    readme = files["README.txt"]
    assert "Missing files" in readme and "2 of your files could not be found" in readme
    assert f"an image of http://testserver/@ann/{lost['id']}" in readme
    assert "your avatar" in readme
    # The files left are still served as they were; the archive matches them.
    async with client_of(app) as api:
        for status, name in zip(statuses, named, strict=True):
            if name:
                assert zipped[name] == await _served(api, status["media_attachments"][0]["url"])


async def test_progress_moves_while_the_images_of_one_post_are_written(
    make_app: MakeApp, session: AsyncSession, tmp_path: Path
) -> None:
    app = await make_app(export_dir=str(tmp_path / "exports"), media_dir=str(tmp_path / "media"))
    ann = await make_user(session, "ann")
    token = await make_token(session, ann)
    pictures = [(images.png(color=(60 * i, 20, 200)), "image/png", f"{i}") for i in range(4)]
    async with client_of(app) as api:
        await _post_images(api, token, "four pictures, one row", *pictures)
    seen: list[int] = []

    async def report(percent: int) -> None:
        seen.append(percent)

    path = tmp_path / "built-directly.zip"
    assert await archive.build(
        app.state.session_factory,
        app.state.settings,
        media=app.state.media_storage,
        user_id=ann.id,
        path=path,
        report=report,
    )
    # One post: counted by rows alone, it would jump from nothing to done.
    assert seen == sorted(seen) and len(seen) >= 4 and seen[-1] == 99
    assert len(_media(path.read_bytes())) == 4

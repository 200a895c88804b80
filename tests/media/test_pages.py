"""Images in the web UI: the composer (uploads and plain forms), the grid, sensitive media,
alt text edited after posting, and the profile's Media tab."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from chirp.media.models import MediaAttachment
from chirp.posts.models import Post
from tests.conftest import client_of
from tests.factories import make_post, make_user
from tests.media import images
from tests.web.helpers import csrf, htmx, login, post_ids

MAX_BYTES = 2 * 2**20


@pytest.fixture
async def media_app(make_app: Any, tmp_path: Path) -> FastAPI:
    """The app storing uploads under a directory of this test's own."""
    app: FastAPI = await make_app(media_dir=str(tmp_path / "media"), media_max_bytes=MAX_BYTES)
    return app


@pytest.fixture
async def web(media_app: FastAPI) -> Any:
    async with client_of(media_app) as c:
        yield c


def _jpeg(name: str, data: bytes | None = None) -> tuple[str, bytes, str]:
    return (name, data if data is not None else images.jpeg(), "image/jpeg")


def _grid(page: str) -> list[str]:
    """The grid classes of the posts a page shows, top to bottom."""
    return re.findall(r'class="media-grid (media-grid-\d)"', page)


def _alts(page: str) -> list[str]:
    return [html.unescape(a) for a in re.findall(r'class="media-img"[^>]* alt="([^"]*)"', page)]


async def _count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_plain_form_posts_two_images_with_alt_text_seen_by_a_follower(
    web: httpx.AsyncClient, session: AsyncSession
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    carol = await make_user(session, "carol")
    await follows_service.follow(session, follower=bob, followee=alice)
    await follows_service.follow(session, follower=carol, followee=bob)
    await session.commit()
    await login(web, "alice")
    token = await csrf(web, "/")
    # Without JavaScript: the files themselves, with the alt text typed beside each; the
    # third field left empty (a browser sends it as a nameless empty file).
    r = await web.post(
        "/posts",
        data={
            "text": "Two photos",
            "description_1": "A red barn at dusk",
            "description_2": 'Green "hills" & sheep',
            "description_3": "",
            "csrf_token": token,
        },
        files={
            "file_1": _jpeg("barn.jpg"),
            "file_2": ("hills.png", images.png(), "image/png"),
            "file_3": ("", b"", "application/octet-stream"),
        },
    )
    assert r.status_code == 303, r.text
    web.cookies.clear()
    await login(web, "bob")
    home = (await web.get("/")).text
    assert _grid(home) == ["media-grid-2"]
    assert _alts(home) == ["A red barn at dusk", 'Green "hills" & sheep']
    # Each links to its full-size file, on this server, which serves it.
    links = re.findall(r'class="media-link" href="(/media/[0-9a-f]{64}\.(?:jpg|png))"', home)
    assert len(links) == 2
    for link in links:
        got = await web.get(link)
        assert got.status_code == 200 and got.headers["content-type"].startswith("image/")
    # Lazy, sized, over a blurred placeholder drawn from the blurhash.
    assert home.count('loading="lazy" decoding="async"') >= 2
    assert len(re.findall(r'class="media-blur" src="data:image/png;base64,', home)) == 2
    # Read again (on PostgreSQL + Redis, from the cached timeline and post cache): the
    # cached posts carry their images too.
    assert _alts((await web.get("/")).text) == ["A red barn at dusk", 'Green "hills" & sheep']
    # Carol follows Bob only: the post is not on her home.
    web.cookies.clear()
    await login(web, "carol")
    assert _grid((await web.get("/")).text) == []


async def test_uploads_from_the_composer_then_a_post_with_their_ids(
    web: httpx.AsyncClient, session: AsyncSession, media_app: FastAPI
) -> None:
    await make_user(session, "alice")
    bob = await make_user(session, "bob")
    await login(web, "alice")
    token = await csrf(web, "/")
    ids = []
    for i in range(3):
        r = await web.post("/media", headers=htmx(token), files={"file": _jpeg(f"{i}.jpg")})
        assert r.status_code == 200, r.text
        assert "<html" not in r.text
        found = re.search(r'name="media_ids" value="(\d+)" checked', r.text)
        assert found and 'name="media_description_' in r.text
        ids.append(found.group(1))
    # Images only, no text, the second described and all marked sensitive; the text
    # is not required when images are attached.
    data = {"text": "", "media_ids": ids, "sensitive": "true", "csrf_token": token}
    data[f"media_description_{ids[1]}"] = "The middle one"
    r = await web.post("/posts", headers=htmx(token), data=data)
    assert r.status_code == 200, r.text
    assert _grid(r.text) == ["media-grid-3"]
    assert "media-sensitive" in r.text and "Sensitive content" in r.text
    post = await session.scalar(select(Post).order_by(Post.id.desc()).limit(1))
    assert post is not None and post.text == "" and post.sensitive
    rows = list(
        await session.scalars(
            select(MediaAttachment)
            .where(MediaAttachment.post_id == post.id)
            .order_by(MediaAttachment.position)
        )
    )
    assert [str(m.id) for m in rows] == ids
    assert [m.description for m in rows] == ["", "The middle one", ""]
    # Another's upload cannot be attached nor described.
    r = await web.post("/media", headers=htmx(token), files={"file": _jpeg("x.jpg")})
    alices = re.search(r'name="media_ids" value="(\d+)"', r.text)
    assert alices
    async with client_of(media_app) as other:
        await login(other, "bob")
        t = await csrf(other, "/")
        r = await other.post(
            "/posts",
            data={"text": "mine?", "media_ids": alices.group(1), "csrf_token": t},
            headers=htmx(t),
        )
        assert r.status_code == 422 and "Media not found" in r.text
        assert await session.scalar(select(func.count()).where(Post.author_id == bob.id)) == 0


@pytest.mark.parametrize("count", [1, 2, 3, 4])
async def test_grid_layout_follows_the_number_of_images(
    web: httpx.AsyncClient, session: AsyncSession, count: int
) -> None:
    await make_user(session, "alice")
    await login(web, "alice")
    token = await csrf(web, "/")
    files = {f"file_{i}": _jpeg(f"{i}.jpg", images.jpeg(40 + i, 30)) for i in range(1, count + 1)}
    r = await web.post("/posts", data={"text": f"{count}", "csrf_token": token}, files=files)
    assert r.status_code == 303, r.text
    page = (await web.get("/@alice")).text
    assert _grid(page) == [f"media-grid-{count}"]
    assert page.count('class="media-item"') == count


async def test_nine_images_in_three_rows_when_the_server_allows_nine(
    make_app: Any, session: AsyncSession, tmp_path: Path
) -> None:
    app = await make_app(media_dir=str(tmp_path / "m"), max_media_attachments=9)
    await make_user(session, "alice")
    async with client_of(app) as web:
        await login(web, "alice")
        token = await csrf(web, "/")
        page = (await web.get("/")).text
        assert 'name="file_9"' in page and 'name="file_10"' not in page
        files = {f"file_{i}": _jpeg(f"{i}.jpg", images.jpeg(20 + i, 20)) for i in range(1, 10)}
        r = await web.post("/posts", data={"text": "nine", "csrf_token": token}, files=files)
        assert r.status_code == 303, r.text
        assert _grid((await web.get("/@alice")).text) == ["media-grid-9"]


async def test_sensitive_media_and_content_warnings_hide_the_images(
    web: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    await login(web, "alice")
    token = await csrf(web, "/")
    for fields in ({"sensitive": "true"}, {"spoiler_text": "Spiders"}, {}):
        r = await web.post(
            "/posts",
            data={"text": "look", "csrf_token": token, **fields},
            files={"file_1": _jpeg("a.jpg")},
        )
        assert r.status_code == 303, r.text
    page = (await web.get("/@alice")).text
    articles = page.split('<article class="post"')[1:]
    plain, warned, sensitive = articles
    # Marked sensitive: the grid is inside a closed <details> whose summary says so.
    hidden = re.search(
        r'<details class="media-sensitive">\s*<summary>(.*?)</summary>', sensitive, re.S
    )
    assert hidden and "Sensitive content" in hidden.group(1) and "Show" in hidden.group(1)
    assert sensitive.index("media-sensitive") < sensitive.index("media-grid")
    # A content warning: the images are folded away with the text, with no second gate.
    cw = re.search(
        r'<details class="post-cw">(.*?)</details>\s*(?:<nav|<div class="post-actions)',
        warned,
        re.S,
    )
    assert cw and "media-grid" in cw.group(1) and "media-sensitive" not in warned
    # Neither: shown at once.
    assert "media-grid" in plain and '<details class="media-sensitive"' not in plain


async def test_a_bad_file_is_refused_with_its_reason_and_nothing_is_posted(
    web: httpx.AsyncClient, session: AsyncSession, media_app: FastAPI
) -> None:
    await make_user(session, "alice")
    await login(web, "alice")
    token = await csrf(web, "/")
    posts, uploads = await _count(session, Post), await _count(session, MediaAttachment)
    # No JavaScript: a good image beside a PNG that is no image at all.
    r = await web.post(
        "/posts",
        data={"text": "both", "description_1": "Good", "csrf_token": token},
        files={"file_1": _jpeg("good.jpg"), "file_2": ("bad.png", b"not an image", "image/png")},
    )
    assert r.status_code == 422
    assert re.search(r'class="form-error"[^>]*>Image 2: [^<]*', r.text)
    assert "both" in r.text  # what was typed is kept
    # No post; the good image is kept as an upload, shown again with its alt text to send
    # with the post once the bad one is left out (as an upload made with JavaScript).
    kept = re.findall(r'name="media_ids" value="(\d+)" checked', r.text)
    assert len(kept) == 1 and ">Good</textarea>" in r.text
    assert await _count(session, Post) == posts
    assert await _count(session, MediaAttachment) == uploads + 1
    uploads += 1
    # Too large: 413 with the limit.
    big = _jpeg("big.jpg", images.jpeg(10, 10) + b"\0" * (MAX_BYTES + 1))
    r = await web.post("/posts", data={"text": "big", "csrf_token": token}, files={"file_1": big})
    assert r.status_code == 413 and "Image 1: The file is too large" in r.text
    # With JavaScript: each upload says why it was refused, as a fragment by the file.
    r = await web.post(
        "/media",
        headers=htmx(token),
        files={"file": ("x.jpg", images.truncated_jpeg(), "image/jpeg")},
    )
    assert r.status_code == 422 and "data-error-message" in r.text and "<html" not in r.text
    r = await web.post("/media", headers=htmx(token), files={"file": big})
    assert r.status_code == 413
    assert await _count(session, Post) == posts
    assert await _count(session, MediaAttachment) == uploads


async def test_a_refused_post_shows_its_uploads_again_to_fix_and_send(
    web: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_user(session, "alice")
    await login(web, "alice")
    token = await csrf(web, "/")
    r = await web.post(
        "/posts",
        data={"text": "x" * 600, "description_1": "Kept alt", "csrf_token": token},
        files={"file_1": _jpeg("a.jpg")},
    )
    assert r.status_code == 422
    kept = re.search(r'name="media_ids" value="(\d+)" checked', r.text)
    assert kept and "Kept alt" in r.text
    r = await web.post(
        "/posts",
        data={
            "text": "Shorter",
            "media_ids": kept.group(1),
            f"media_description_{kept.group(1)}": "Kept alt, fixed",
            "csrf_token": token,
        },
    )
    assert r.status_code == 303, r.text
    assert _alts((await web.get("/@alice")).text) == ["Kept alt, fixed"]


async def test_only_the_author_edits_alt_text_after_posting(
    web: httpx.AsyncClient, session: AsyncSession, media_app: FastAPI
) -> None:
    await make_user(session, "alice")
    await make_user(session, "bob")
    await login(web, "alice")
    token = await csrf(web, "/")
    r = await web.post(
        "/posts", data={"text": "hi", "csrf_token": token}, files={"file_1": _jpeg("a.jpg")}
    )
    post_id = post_ids((await web.get("/@alice")).text)[0]
    page = (await web.get(f"/@alice/{post_id}")).text
    form = re.search(r'action="(/media/(\d+)/description)"', page)
    assert form and "Edit image descriptions" in page
    r = await web.post(
        form.group(1),
        data={"description": "Now described", "next": f"/@alice/{post_id}", "csrf_token": token},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/@alice/{post_id}"
    assert _alts((await web.get(f"/@alice/{post_id}")).text) == ["Now described"]
    async with client_of(media_app) as other:
        await login(other, "bob")
        t = await csrf(other, "/")
        assert "Edit image descriptions" not in (await other.get(f"/@alice/{post_id}")).text
        r = await other.post(form.group(1), data={"description": "Mine", "csrf_token": t})
        assert r.status_code == 404
    assert _alts((await web.get(f"/@alice/{post_id}")).text) == ["Now described"]
    # Too long is refused and changes nothing.
    r = await web.post(form.group(1), data={"description": "x" * 1501, "csrf_token": token})
    assert r.status_code == 422
    assert _alts((await web.get(f"/@alice/{post_id}")).text) == ["Now described"]


async def test_media_tab_lists_only_that_users_posts_with_images(
    make_app: Any, session: AsyncSession, tmp_path: Path
) -> None:
    app = await make_app(media_dir=str(tmp_path / "m"), page_size=2)
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    await follows_service.follow(session, follower=bob, followee=alice)
    await session.commit()
    async with client_of(app) as web:
        with_images: dict[str, list[int]] = {"alice": [], "bob": []}
        for who in ("alice", "bob"):
            web.cookies.clear()
            await login(web, who)
            token = await csrf(web, "/")
            for i in range(3):
                r = await web.post(
                    "/posts",
                    data={"text": f"{who} photo {i}", "csrf_token": token},
                    files={"file_1": _jpeg("a.jpg", images.jpeg(30 + i, 30))},
                )
                assert r.status_code == 303
                with_images[who].append(post_ids((await web.get(f"/@{who}")).text)[0])
                await make_post(session, alice if who == "alice" else bob, f"{who} words {i}")
        # Bob reposts one of Alice's: not on his Media tab (as Mastodon's only_media).
        r = await web.post(f"/posts/{with_images['alice'][0]}/repost", data={"csrf_token": token})
        web.cookies.clear()
        for who in ("alice", "bob"):
            page = (await web.get(f"/@{who}/media")).text
            assert 'href="/@' + who + '/media" aria-current="page"' in page
            shown = post_ids(page)
            more = re.search(r'hx-get="(/@' + who + r'/media\?max_id=\d+)"', page)
            assert more, "paged like the other tabs"
            rest = await web.get(more.group(1), headers={"HX-Request": "true"})
            assert "<html" not in rest.text
            shown += post_ids(rest.text)
            assert shown == sorted(with_images[who], reverse=True)
        empty = await make_user(session, "dora")
        page = (await web.get(f"/@{empty.username}/media")).text
        assert "hasn't posted any images yet" in page


async def test_a_reply_and_a_quote_carry_images_from_their_composers(
    web: httpx.AsyncClient, session: AsyncSession
) -> None:
    bob = await make_user(session, "bob")
    await make_user(session, "alice")
    question = await make_post(session, bob, "Show me your cat")
    await login(web, "alice")
    token = await csrf(web, "/")
    reply_page = (await web.get(f"/posts/{question.id}/reply")).text
    assert 'enctype="multipart/form-data"' in reply_page and 'name="file_1"' in reply_page
    r = await web.post(
        "/posts",
        data={"text": "", "in_reply_to_id": str(question.id), "csrf_token": token},
        files={"file_1": _jpeg("cat.jpg")},
    )
    assert r.status_code == 303, r.text
    thread = (await web.get(f"/@bob/{question.id}")).text
    assert _grid(thread) == ["media-grid-1"]
    quote_page = (await web.get(f"/posts/{question.id}/quote")).text
    assert 'name="file_1"' in quote_page
    r = await web.post(
        "/posts",
        data={"text": "Quoting", "quoted_status_id": str(question.id), "csrf_token": token},
        files={"file_1": _jpeg("q.jpg"), "file_2": _jpeg("r.jpg", images.png())},
    )
    assert r.status_code == 303, r.text
    assert _grid((await web.get(r.headers["location"])).text) == ["media-grid-2"]


async def test_the_composer_marks_media_sensitive_for_whoever_asked_for_it(
    web: httpx.AsyncClient, session: AsyncSession
) -> None:
    careful = await make_user(session, "careful")
    careful.default_sensitive = True
    await make_user(session, "plain")
    await session.commit()
    box = re.compile(r'<input type="checkbox" name="sensitive" value="true"( checked)?>')
    for name, checked in (("careful", True), ("plain", False)):
        web.cookies.clear()
        await login(web, name)
        found = box.search((await web.get("/")).text)
        assert found is not None and bool(found.group(1)) is checked, name


async def test_avatar_and_header_are_set_replaced_and_removed_on_the_edit_profile_page(
    web: httpx.AsyncClient, session: AsyncSession, media_app: FastAPI
) -> None:
    ann = await make_user(session, "ann")
    await make_user(session, "bob")
    await session.commit()
    await login(web, "ann")
    token = await csrf(web, "/settings/profile")
    form = {"csrf_token": token, "display_name": "Ann", "note": ""}

    async def save(files: dict[str, Any], **extra: str) -> httpx.Response:
        return await web.post("/settings/profile", data={**form, **extra}, files=files)

    # An empty file field (nothing chosen) changes nothing.
    r = await save({"avatar": ("", b"", "application/octet-stream")})
    assert r.status_code == 303
    await session.refresh(ann)
    assert (ann.avatar_key, ann.header_key) == (None, None)
    # A file that is not an image: said under its field, nothing saved (the name neither).
    r = await save({"header": ("h.png", b"not an image", "image/png")}, display_name="Changed")
    assert r.status_code == 422 and 'id="header-error"' in r.text
    await session.refresh(ann)
    assert (ann.display_name, ann.header_key) == ("Ann", None)
    # Both set at once: the avatar square, the header 3:1, shown on the profile to others.
    r = await save(
        {
            "avatar": ("a.jpg", images.jpeg(600, 400), "image/jpeg"),
            "header": ("h.png", images.png(900, 900), "image/png"),
        }
    )
    assert r.status_code == 303, r.text
    await session.refresh(ann)
    assert ann.avatar_key and ann.header_key and ann.display_name == "Ann"
    web.cookies.clear()
    await login(web, "bob")
    profile = (await web.get("/@ann")).text
    for key, size in ((ann.avatar_key, (400, 400)), (ann.header_key, (1500, 500))):
        # From this origin, whatever address the site's base URL names.
        assert f'src="/media/{key}"' in profile
        image = await web.get(f"/media/{key}")
        assert image.status_code == 200
        assert Image.open(io.BytesIO(image.content)).size == size
    # Removed: back to the defaults.
    web.cookies.clear()
    await login(web, "ann")
    token = await csrf(web, "/settings/profile")
    form["csrf_token"] = token
    r = await save({}, remove_avatar="1", remove_header="1")
    assert r.status_code == 303
    await session.refresh(ann)
    assert (ann.avatar_key, ann.header_key) == (None, None)


async def test_saving_in_place_shows_the_new_avatar_and_name_in_the_sidebar_too(
    web: httpx.AsyncClient, session: AsyncSession, media_app: FastAPI
) -> None:
    ann = await make_user(session, "ann", display_name="Ann")
    await session.commit()
    await login(web, "ann")
    token = await csrf(web, "/settings/profile")
    form = {"csrf_token": token, "display_name": "Ann Orange", "note": ""}
    files = {"avatar": ("a.png", images.png(300, 300), "image/png")}
    # htmx swaps the form alone: the account in the sidebar comes along, out of band, or it
    # would show the old avatar and name until the next page.
    r = await web.post("/settings/profile", data=form, files=files, headers=htmx(token))
    assert r.status_code == 200 and "<html" not in r.text
    await session.refresh(ann)
    chip = re.search(
        r'<a class="account-chip" id="account-chip"[^>]*hx-swap-oob="true".*?</a>', r.text, re.S
    )
    assert chip, r.text
    assert f'src="/media/{ann.avatar_key}"' in chip.group(0)
    assert "<strong>Ann Orange</strong>" in chip.group(0)
    # A full page has the one sidebar account, not swapped out of band.
    page = (await web.get("/settings/profile")).text
    assert page.count('id="account-chip"') == 1 and 'hx-swap-oob="true"' not in page

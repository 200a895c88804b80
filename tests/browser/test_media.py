"""Images in a real browser: uploads with a progress bar, alt text, the grid, the viewer
(keyboard, alt text, Esc), no accessibility violations, and screenshots in both themes."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from tests.browser.test_browser_flow import OUTPUT
from tests.browser.test_first_use import _axe, _in_db, _login
from tests.factories import PASSWORD, make_user
from tests.live import LiveServer
from tests.media import images

# Every value a progress bar of the page is given (the upload's progress, up to 100).
_WATCH_PROGRESS = """
window.__progress = [];
new MutationObserver((records) => {
  for (const r of records) {
    if (r.target.localName === "progress") window.__progress.push(Number(r.target.value));
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["value"] });
"""
COLOURS = [(196, 64, 52), (46, 125, 196), (64, 160, 90), (230, 170, 40)]


@pytest.fixture(scope="module")
def people(live_server: LiveServer) -> None:
    async def seed(session: AsyncSession) -> None:
        ann, bob = await make_user(session, "ann"), await make_user(session, "bob")
        await follows_service.follow(session, follower=bob, followee=ann)
        await session.commit()

    _in_db(live_server, seed)


def _photos(tmp_path: Path) -> list[Path]:
    paths = []
    for i, colour in enumerate(COLOURS):
        path = tmp_path / f"photo-{i + 1}.jpg"
        path.write_bytes(images.jpeg(900 - 120 * i, 600 + 80 * i, colour))
        paths.append(path)
    return paths


def _post_images(url: str, username: str, photos: list[Path]) -> None:
    """Post 1, 2, 3 and 4 images with a plain form (as without JavaScript)."""
    with httpx.Client(base_url=url) as client:
        token = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/login").text)
        assert token
        data = {"login": username, "password": PASSWORD, "csrf_token": token.group(1)}
        assert client.post("/login", data=data).status_code == 303
        for count in (1, 2, 3, 4):
            files = {
                f"file_{i + 1}": (p.name, p.read_bytes(), "image/jpeg")
                for i, p in enumerate(photos[:count])
            }
            fields = {f"description_{i + 1}": f"Photo {i + 1} of {count}" for i in range(count)}
            text = {"text": f"{count} image{'s' if count > 1 else ''} from the weekend"}
            r = client.post(
                "/posts", data={**text, **fields, "csrf_token": token.group(1)}, files=files
            )
            assert r.status_code == 303, r.text


def _shot(page: Page, name: str, **options: object) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"media-{name}.png"), **options)  # type: ignore[arg-type]


def test_post_two_images_with_alt_text_and_view_them(
    live_server: LiveServer, people: None, browser: Browser, tmp_path: Path
) -> None:
    url = live_server.url
    photos = _photos(tmp_path)
    # Motion reduced wherever axe runs: colours are judged at rest, never half-way through a
    # CSS transition (as right after a click under the mouse).
    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    context.add_init_script(_WATCH_PROGRESS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _login(page, url, "ann")
    composer = page.locator("#composer")
    # With JavaScript the plain file fields give way to one button; files go up at once.
    expect(composer.locator("[data-media-slots]")).to_be_hidden()
    expect(composer.locator("[data-media-add]")).to_be_visible()
    composer.locator("[data-media-input]").set_input_files([str(p) for p in photos[:2]])
    previews = composer.locator(".media-preview[data-media-id]")
    expect(previews).to_have_count(2)
    expect(composer.locator("[data-media-uploading]")).to_have_count(0)
    assert max(page.evaluate("window.__progress")) == 100
    previews.nth(0).locator("textarea").fill("A red tile roof under a clear sky")
    previews.nth(1).locator("textarea").fill("A blue lake, perfectly still")
    page.fill("#composer-text", "Two from the trip")
    page.locator("#composer-cw").focus()  # a screenshot of the composer as filled in
    _shot(page, "composer", clip={"x": 0, "y": 0, "width": 1280, "height": 700})
    page.emulate_media(color_scheme="dark")
    _shot(page, "composer-dark", clip={"x": 0, "y": 0, "width": 1280, "height": 700})
    page.emulate_media(color_scheme="light")
    assert not (violations := _axe(page)), violations

    page.click("#composer button[type=submit]")
    post = page.locator("#timeline article").first
    expect(post).to_contain_text("Two from the trip")
    expect(post.locator(".media-grid-2 .media-item")).to_have_count(2)
    expect(composer.locator(".media-preview")).to_have_count(0)  # ready for the next post

    # A follower sees them with their alt text, and opens the viewer.
    bob = browser.new_context(
        viewport={"width": 1280, "height": 900}, reduced_motion="reduce"
    ).new_page()
    bob.on("pageerror", lambda error: errors.append(str(error)))
    _login(bob, url, "bob")
    shown = bob.locator("#timeline article").first.locator(".media-img")
    expect(shown).to_have_count(2)
    assert shown.nth(1).get_attribute("alt") == "A blue lake, perfectly still"
    shown.nth(0).click()
    dialog = bob.locator("dialog.media-viewer")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".media-viewer-alt")).to_have_text("A red tile roof under a clear sky")
    expect(dialog.locator(".media-viewer-count")).to_have_text("Image 1 of 2")
    big = dialog.locator(".media-viewer-img")
    expect(big).to_have_js_property("complete", True)
    assert big.evaluate("el => el.naturalWidth") == 900
    _shot(bob, "viewer")
    assert not (violations := _axe(bob)), violations
    bob.keyboard.press("ArrowRight")
    expect(dialog.locator(".media-viewer-alt")).to_have_text("A blue lake, perfectly still")
    expect(dialog.locator(".media-viewer-count")).to_have_text("Image 2 of 2")
    href = dialog.locator(".media-viewer-original").get_attribute("href")
    assert href and re.fullmatch(r"/media/[0-9a-f]{64}\.jpg", href)
    # Focus stays in the dialog: Tab from its last control goes back to its first.
    for _ in range(6):
        bob.keyboard.press("Tab")
        assert bob.evaluate("document.activeElement.closest('dialog') !== null")
    bob.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Back on the image that opened it.
    assert bob.evaluate("document.activeElement.classList.contains('media-link')")
    # A reply with an image, from the reply composer opened in place.
    first = bob.locator("#timeline article").first
    first.locator("a.action-reply").click()
    reply = first.locator("[data-reply-composer]")
    expect(reply.locator("[data-media-add]")).to_be_visible()
    reply.locator("[data-media-input]").set_input_files(str(photos[3]))
    expect(reply.locator(".media-preview[data-media-id]")).to_have_count(1)
    reply.locator(".media-preview textarea").fill("A yellow wall")
    first.scroll_into_view_if_needed()
    _shot(bob, "reply-composer")
    reply.locator("button[type=submit]").click()
    expect(first.locator("[data-reply-sent]")).to_be_visible()
    bob.context.close()
    context.close()
    assert errors == []


def test_grids_of_one_to_four_images_in_both_themes_and_on_a_phone(
    live_server: LiveServer, people: None, browser: Browser, tmp_path: Path
) -> None:
    url = live_server.url
    _post_images(url, "bob", _photos(tmp_path))
    for name, options in (
        ("desktop", {"viewport": {"width": 1280, "height": 900}}),
        ("phone", {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}),
    ):
        context = browser.new_context(reduced_motion="reduce", **options)  # type: ignore[arg-type]
        page = context.new_page()
        page.goto(f"{url}/@bob/media")
        grids = page.locator("#timeline article", has_text="from the weekend").locator(
            ".media-grid"
        )
        expect(grids).to_have_count(4)
        classes = [g.get_attribute("class") for g in grids.all()]
        assert classes == [f"media-grid media-grid-{n}" for n in (4, 3, 2, 1)]
        for img in page.locator(".media-img").all():
            img.scroll_into_view_if_needed()
            expect(img).to_have_js_property("complete", True)
            assert img.evaluate("el => el.naturalWidth") > 0
        # The ALT badge shows the description without a script.
        page.locator(".media-alt summary").first.click()
        expect(page.locator(".media-alt-text").first).to_be_visible()
        page.evaluate("window.scrollTo(0, 0)")
        _shot(page, f"grids-{name}", full_page=True)
        page.emulate_media(color_scheme="dark")
        _shot(page, f"grids-{name}-dark", full_page=True)
        if name == "desktop":
            assert not (violations := _axe(page)), violations
        context.close()


def test_without_javascript_images_link_to_their_files_and_the_form_sends_them(
    live_server: LiveServer, people: None, browser: Browser, tmp_path: Path
) -> None:
    url = live_server.url
    photos = _photos(tmp_path)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    _login(page, url, "ann")
    composer = page.locator("#composer")
    expect(composer.locator("[data-media-slots]")).to_be_visible()
    page.fill("#composer-text", "Sent without a script")
    composer.locator("input[name=file_1]").set_input_files(str(photos[2]))
    composer.locator("textarea[name=description_1]").fill("Green field")
    composer.locator("input[name=sensitive]").check()
    _shot(page, "composer-nojs", clip={"x": 0, "y": 0, "width": 1280, "height": 900})
    page.click("#composer button[type=submit]")
    page.wait_for_url(f"{url}/")
    post = page.locator("#timeline article", has_text="Sent without a script").first
    post.scroll_into_view_if_needed()
    _shot(page, "sensitive")
    # Sensitive: hidden until "Show" is pressed, then a plain link to the full-size file.
    expect(post.locator(".media-img")).to_be_hidden()
    post.locator(".media-sensitive > summary").click()
    expect(post.locator(".media-img")).to_be_visible()
    href = post.locator(".media-link").get_attribute("href")
    assert href and href.startswith("/media/")
    # The author describes it anew on the post's page.
    page.goto(url + (post.locator("a.time").get_attribute("href") or ""))
    page.locator(".media-edit-alt > summary").click()
    page.fill(".media-edit-alt textarea", "A green field after rain")
    _shot(page, "edit-alt")
    page.click(".media-edit-alt button[type=submit]")
    expect(page.locator(".toast")).to_contain_text("description was saved")
    page.locator(".media-sensitive > summary").click()
    assert page.locator(".media-img").get_attribute("alt") == "A green field after rain"
    page.locator(".media-link").click()
    page.wait_for_url(re.compile(r"/media/[0-9a-f]{64}\.jpg$"))
    context.close()

"""In a real browser: a new avatar chosen on Edit profile shows, loaded, wherever the page
shows the account, and every request the pages make goes to the server itself."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image
from playwright.sync_api import Browser, Locator, Page, Request, expect

from tests.browser.pages import sign_up
from tests.live import LiveServer
from tests.media import images

# For a person to look at: the profile right after the edit.
SHOT = Path(tempfile.gettempdir()) / "shot_profile_avatar.png"
ORANGE = (240, 130, 20)


def _drawn(img: Locator) -> str:
    """The image's src, once it has loaded with a picture in it."""
    img.scroll_into_view_if_needed()
    expect(img).to_have_js_property("complete", True)
    assert img.evaluate("el => el.naturalWidth") > 0, img.get_attribute("src")
    src = img.get_attribute("src")
    assert src
    return src


def _avatar_path(page: Page, url: str, username: str) -> str:
    """Where the API says the account's avatar is, as a path on this server."""
    account = page.request.get(f"{url}/api/v1/accounts/lookup?acct={username}").json()
    return urlsplit(account["avatar"]).path


def test_a_new_avatar_shows_on_the_profile_nav_and_composer_from_this_server_only(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    url = live_server.url
    origin = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)
    sign_up(page, url, "av_ann")
    page.fill("#composer-text", "Before and after my new avatar")
    page.click("#composer button[type=submit]")
    expect(page.locator("#timeline article").first).to_contain_text("my new avatar")
    page.goto(f"{url}/@av_ann")
    before = _drawn(page.locator(".profile .avatar-xl img"))

    avatar = tmp_path / "avatar.png"
    avatar.write_bytes(images.png(300, 300, ORANGE))
    page.goto(f"{url}/settings/profile")
    page.fill("#profile-display-name", "Ann Orange")
    page.set_input_files("#profile-avatar", avatar)
    page.click("#profile-form button[type=submit]")
    expect(page.locator(".toast", has_text="Your profile was saved.")).to_have_count(1)
    new = _avatar_path(page, url, "av_ann")
    assert new.startswith("/media/") and new != before
    # The form shows the avatar it saved, in place.
    assert _drawn(page.locator("img.profile-image-now")) == new
    assert _drawn(page.locator(".account-chip .avatar img")) == new

    page.goto(f"{url}/@av_ann")
    expect(page.locator(".profile-name")).to_have_text("Ann Orange")
    assert _drawn(page.locator(".profile .avatar-xl img")) == new
    assert _drawn(page.locator(".account-chip .avatar img")) == new
    assert _drawn(page.locator("#timeline article .avatar img").first) == new
    page.locator(".profile").screenshot(path=str(SHOT))
    # And it is the picture chosen: the middle of the drawn avatar is its colour.
    drawn = Image.open(io.BytesIO(page.locator(".profile .avatar-xl img").screenshot()))
    pixel = drawn.convert("RGB").getpixel((drawn.width // 2, drawn.height // 2))
    assert isinstance(pixel, tuple)
    assert all(abs(a - b) <= 12 for a, b in zip(pixel, ORANGE, strict=True)), pixel
    page.goto(f"{url}/")
    assert _drawn(page.locator(".composer-avatar img")) == new
    assert _drawn(page.locator("#timeline article .avatar img").first) == new
    context.close()

    foreign = [
        u
        for u in requested
        if urlsplit(u).scheme not in ("data", "blob") and not u.startswith(origin + "/")
    ]
    assert foreign == []
    assert f"{origin}{new}" in requested  # the new avatar was loaded, from here

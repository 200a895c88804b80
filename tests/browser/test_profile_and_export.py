"""In a real browser: Edit profile saves in place, and an archive's progress leads to its file."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.pages import sign_up
from tests.live import LiveServer
from tests.live import live as live_with


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server (running its jobs itself) that writes archives to a directory of the test's."""
    exports = tmp_path_factory.mktemp("exports")
    with live_with(request.param, tmp_path_factory, export_dir=str(exports)) as server:
        yield server


def test_edit_profile_in_place_then_download_the_archive(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    url = live_server.url
    page = browser.new_context(accept_downloads=True).new_page()
    sign_up(page, url, "pe_ann")
    page.fill("#composer-text", "A post for the archive")
    page.click("#composer button[type=submit]")
    expect(page.locator("#timeline article").first).to_contain_text("A post for the archive")

    page.goto(f"{url}/@pe_ann")
    page.get_by_role("link", name="Edit profile").click()
    page.wait_for_url(f"{url}/settings/profile")
    page.fill("#profile-display-name", "Ann in a Browser")
    # The characters left, counted as the server counts (50 for a display name).
    expect(page.locator("[data-char-count-for='profile-display-name']")).to_have_text("34")
    page.fill("#profile-note", "Hello #birds")
    page.fill("#profile-field-0-name", "Site")
    page.fill("#profile-field-0-value", "https://ann.example/")
    page.click("#profile-form button[type=submit]")
    expect(page.locator(".toast", has_text="Your profile was saved.")).to_have_count(1)
    assert page.url == f"{url}/settings/profile"  # saved in place
    expect(page.locator("#profile-display-name")).to_have_value("Ann in a Browser")
    page.fill("#profile-field-1-name", "x" * 256)
    page.click("#profile-form button[type=submit]")
    expect(page.locator("#field-1-name-error")).to_contain_text("Field 2 label is too long")

    page.goto(f"{url}/@pe_ann")
    expect(page.locator(".profile-name")).to_have_text("Ann in a Browser")
    expect(page.locator(".profile-fields-list a[rel='me nofollow noopener']")).to_have_text(
        "https://ann.example/"
    )
    expect(page.locator(".bio a.hashtag")).to_have_text("#birds")

    page.goto(f"{url}/settings/export")
    page.get_by_role("button", name="Request your archive").click()
    # The page polls until the archive is ready, then offers it.
    link = page.get_by_role("link", name="Download your archive")
    expect(link).to_be_visible(timeout=30_000)
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.startswith("chirp-pe_ann-")
    saved = tmp_path / "archive.zip"
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert "A post for the archive" in archive.read("posts.json").decode()
        assert "Ann in a Browser" in archive.read("profile.json").decode()

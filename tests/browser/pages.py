"""Steps the browser tests share."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.factories import PASSWORD


def sign_up(page: Page, url: str, username: str) -> None:
    """Sign ``username`` up through the form and land on the home page."""
    page.goto(f"{url}/signup")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/signup'] button[type=submit]")
    page.wait_for_url(f"{url}/")

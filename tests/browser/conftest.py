"""The browser the browser tests drive: the system's Chromium through Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests import services

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for the tests of a module."""
    if shutil.which(services.CHROMIUM) is None and not Path(services.CHROMIUM).exists():
        services.unavailable(f"browser tests need Chromium at {services.CHROMIUM}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=services.CHROMIUM, args=ARGS)
        yield browser
        browser.close()

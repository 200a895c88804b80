"""Fixtures for account tests: a local SMTP server per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.accounts.helpers import Inbox, smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A local SMTP server: its inbox and port."""
    with smtp_server() as running:
        yield running

"""Reads, uploads, a web login and bounded waits shared by the end-to-end tests."""

from __future__ import annotations

import contextlib
import io
import re
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from PIL import Image

from tests.e2e.conftest import Deployment
from tests.e2e.test_read_after_write import CONNECTIONS, Api
from tests.loops import at_most

PASSWORD = "e2e-password-1"  # what Api.register signs up with
_CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')


def read(api: Api, path: str, user: str | None = None, **params: Any) -> Any:
    """GET ``path`` as ``user`` (anonymously if None) and return its JSON; 200 is required."""
    headers = api._auth(user) if user else {}
    response = api.http.get(path, params=params, headers=headers)
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
    return response.json()


def code(api: Api, path: str, user: str | None = None, **params: Any) -> int:
    """The status code of GET ``path`` as ``user`` (anonymously if None)."""
    headers = api._auth(user) if user else {}
    return api.http.get(path, params=params, headers=headers).status_code


def statuses(api: Api, path: str, user: str | None = None, **params: Any) -> list[dict[str, Any]]:
    """One page of statuses (40) from a timeline or an account's statuses."""
    found: list[dict[str, Any]] = read(api, path, user, limit=40, **params)
    return found


def upload(
    api: Api, user: str, data: bytes, name: str, content_type: str, **form: str
) -> dict[str, Any]:
    """Upload an image through POST /api/v2/media (``form``: its other fields)."""
    files = {"file": (name, data, content_type)}
    made = api.http.post("/api/v2/media", data=form, files=files, headers=api._auth(user))
    return api._ok(made)


def image_at(url: str) -> Image.Image:
    """The image an attachment or avatar URL serves, on a connection of its own.

    A new connection each time: the production shape's web processes share one listening
    socket, so fresh connections are what reach the processes other than the uploader's.
    """
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, f"GET {url}: {response.status_code}"
    assert response.headers["content-type"].startswith("image/"), response.headers
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


def gone(url: str) -> bool:
    """Whether a file's URL answers 404 now."""
    return httpx.get(url, timeout=10).status_code == 404


def near(image: Image.Image, color: tuple[int, int, int]) -> bool:
    """Whether the image's centre is ``color`` (lossy encodings shift it a little)."""
    pixel = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= 12 for a, b in zip(pixel, color, strict=True))


def until(check: Callable[[], bool], *, seconds: float, what: str) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``seconds``.

    Only for what Chirp, like Mastodon, does in a job after answering: a post's fan-out to
    followers' home timelines, and the removal of files and rows once they are released.
    """
    deadline = time.monotonic() + seconds
    for _ in at_most(100_000, "polls"):
        if check():
            return
        assert time.monotonic() < deadline, f"{what}: not after {seconds} s"
        time.sleep(0.1)


def web_login(url: str, username: str) -> tuple[httpx.Client, str]:
    """A browser-like client logged in through the form, and the CSRF token of its pages."""
    client = httpx.Client(base_url=url, timeout=10, limits=CONNECTIONS)
    token = _CSRF.search(client.get("/login").text)
    assert token, "no CSRF token on /login"
    form = {"login": username, "password": PASSWORD, "csrf_token": token.group(1)}
    response = client.post("/login", data=form)
    assert response.status_code == 303, response.text
    token = _CSRF.search(client.get("/").text)
    assert token, "no CSRF token on / once logged in"
    return client, token.group(1)


@contextlib.contextmanager
def worker_paused(deployment: Deployment) -> Iterator[None]:
    """Freeze the worker process for the block, so its reads see what requests alone did.

    The embedded shape has no worker process (its web process runs the jobs): nothing is
    paused there.
    """
    workers = [p for p in deployment.processes if p.name == "worker"]
    for worker in workers:
        worker.signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for worker in workers:
            worker.signal(signal.SIGCONT)

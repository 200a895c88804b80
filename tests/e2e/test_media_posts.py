"""Real processes, read right after each write: a post with two images, shown then deleted.

``chirp serve`` (two web processes) and ``chirp worker`` on PostgreSQL + Redis, and the
embedded ``chirp serve`` on SQLite. ann uploads two images, one described with the upload
and one after it, and posts both. bob and cat follow her (cat follows bob too), dan follows
bob only. Right after the post, the status, ann's profile (and its media tab), the public
timeline and ann's home show it with both images in order and their descriptions, and each
image's URL serves the picture; dan's home does not show it. Right after the delete, every
one of those reads, and the followers' homes, leave it out. The lags allowed are the ones
Mastodon has too, each done by a job: the fan-out of the new post into followers' homes,
and the deletion of the files.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e import helpers
from tests.e2e.conftest import PRODUCTION, Deployment
from tests.e2e.helpers import image_at, near, read, statuses, upload
from tests.e2e.test_read_after_write import Api
from tests.media import images

FANOUT_SECONDS = 5.0
CLEANUP_SECONDS = 30.0
RED, BLUE = (210, 40, 40), (40, 60, 200)


def _shown(status: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["id"], m["description"]) for m in status["media_attachments"]]


def _find(found: list[dict[str, Any]], post_id: int) -> dict[str, Any] | None:
    return next((s for s in found if s["id"] == str(post_id)), None)


def test_a_post_with_two_images_shows_everywhere_then_vanishes_everywhere(
    deployment: Deployment,
) -> None:
    api = Api(deployment.url)
    ann, bob, _, _ = (api.register(u) for u in ("im_ann", "im_bob", "im_cat", "im_dan"))
    api.follow("im_bob", ann)
    api.follow("im_cat", ann)
    api.follow("im_cat", bob)
    api.follow("im_dan", bob)  # follows someone who follows ann, never ann herself
    api.post("im_bob", "bob was here first")
    try:
        red = images.jpeg(64, 48, RED)
        first = upload(api, "im_ann", red, "red.jpg", "image/jpeg", description="Red")
        second = upload(api, "im_ann", images.png(40, 30, BLUE), "blue.png", "image/png")
        assert first["type"] == second["type"] == "image"
        path = f"/api/v1/media/{second['id']}"
        described = api.http.put(path, data={"description": "Blue"}, headers=api._auth("im_ann"))
        assert api._ok(described)["description"] == "Blue"
        body = {"status": "Two colours", "media_ids[]": [first["id"], second["id"]]}
        made = api._ok(api.http.post("/api/v1/statuses", data=body, headers=api._auth("im_ann")))
        post = int(made["id"])
        want = [(first["id"], "Red"), (second["id"], "Blue")]
        assert _shown(made) == want

        # The very next reads, anonymous and as readers.
        reads = {
            "the status": [read(api, f"/api/v1/statuses/{post}")],
            "ann's profile": statuses(api, f"/api/v1/accounts/{ann}/statuses"),
            "ann's media": statuses(api, f"/api/v1/accounts/{ann}/statuses", only_media="true"),
            "the public timeline": statuses(api, "/api/v1/timelines/public"),
            "ann's home": statuses(api, "/api/v1/timelines/home", "im_ann"),
            "the status, read by bob": [read(api, f"/api/v1/statuses/{post}", "im_bob")],
        }
        for where, found in reads.items():
            status = _find(found, post)
            assert status is not None, f"{where} lacks the post right after it was made"
            assert _shown(status) == want, where
        assert _find(statuses(api, "/api/v1/timelines/home", "im_dan"), post) is None

        # Followers' homes get it from the fan-out job (Mastodon's FeedInsertWorker too).
        for user in ("im_bob", "im_cat"):

            def in_home(user: str = user) -> bool:
                return _find(statuses(api, "/api/v1/timelines/home", user), post) is not None

            helpers.until(in_home, seconds=FANOUT_SECONDS, what=f"the post in {user}'s home")
            status = _find(statuses(api, "/api/v1/timelines/home", user), post)
            assert status is not None and _shown(status) == want, user
        assert _find(statuses(api, "/api/v1/timelines/home", "im_dan"), post) is None

        # Each file from fresh connections: in production any web process may answer, and
        # only the one that took the upload wrote it.
        urls = []
        attachments = read(api, f"/api/v1/statuses/{post}")["media_attachments"]
        tries = 4 if deployment.shape == PRODUCTION else 1
        for attachment, color, size in zip(
            attachments, (RED, BLUE), ((64, 48), (40, 30)), strict=True
        ):
            for _ in range(tries):
                original = image_at(attachment["url"])
                assert original.size == size and near(original, color)
                assert near(image_at(attachment["preview_url"]), color)
            urls += [attachment["url"], attachment["preview_url"]]

        # In production the worker waits meanwhile: the reads see what the request did alone.
        with helpers.worker_paused(deployment):
            api.delete("im_ann", post)
            assert api.http.get(f"/api/v1/statuses/{post}").status_code == 404
            after = {
                "ann's profile": statuses(api, f"/api/v1/accounts/{ann}/statuses"),
                "ann's media": statuses(api, f"/api/v1/accounts/{ann}/statuses", only_media="true"),
                "the public timeline": statuses(api, "/api/v1/timelines/public"),
                **{
                    f"{user}'s home": statuses(api, "/api/v1/timelines/home", user)
                    for user in ("im_ann", "im_bob", "im_cat", "im_dan")
                },
            }
            for where, found in after.items():
                assert _find(found, post) is None, f"{where} still shows the post once deleted"
        # The files are deleted by a job once nothing refers to them (as in Mastodon).
        helpers.until(
            lambda: all(helpers.gone(url) for url in urls),
            seconds=CLEANUP_SECONDS,
            what="the deleted post's image files gone",
        )
    except (AssertionError, httpx.HTTPError) as exc:  # with what the processes said
        raise AssertionError(f"{exc}\n{deployment.logs()}") from exc

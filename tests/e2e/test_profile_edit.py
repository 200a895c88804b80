"""Real processes, read right after each write: a profile edit, with a new avatar, twice.

``chirp serve`` (two web processes) and ``chirp worker`` on PostgreSQL + Redis, and the
embedded ``chirp serve`` on SQLite. ann posts and bob follows her; every read below is made
once before the edit, so any cache the production shape keeps (posts and pages in Redis,
in each web process) is warm with the old profile. Right after ``update_credentials`` sets
her name, bio, fields and avatar, the account read by bob and anonymously, her own
credentials, the lookup, her web profile and the posts in bob's home (API and web) and on
the public timeline show the new profile, and the avatar URL serves the new picture. A
second edit does it again with another avatar, and removing that avatar brings the default one back
everywhere; each avatar no longer used has its file deleted by a job (the one lag allowed,
as in Mastodon).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.e2e import helpers
from tests.e2e.conftest import Deployment
from tests.e2e.helpers import image_at, near, read, statuses
from tests.e2e.test_read_after_write import Api
from tests.media import images

FANOUT_SECONDS = 5.0
CLEANUP_SECONDS = 30.0


def _edit(api: Api, user: str, name: str, color: tuple[int, int, int]) -> dict[str, Any]:
    form = {
        "display_name": name,
        "note": f"Bio of {name}",
        "fields_attributes[0][name]": "Colour",
        "fields_attributes[0][value]": f"{color}",
    }
    avatar = {"avatar": ("me.png", images.png(120, 90, color), "image/png")}
    path = "/api/v1/accounts/update_credentials"
    return api._ok(api.http.patch(path, data=form, files=avatar, headers=api._auth(user)))


def _profile(account: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]], str]:
    fields = [(f["name"], f["value"]) for f in account["fields"]]
    return account["display_name"], account["note"], fields, account["avatar"]


def _everywhere(api: Api, ann: int, post: int) -> dict[str, dict[str, Any]]:
    """ann's account as every read shows it, right now."""
    bob_home = statuses(api, "/api/v1/timelines/home", "pe_bob")
    public = statuses(api, "/api/v1/timelines/public")
    return {
        "the account, read by bob": read(api, f"/api/v1/accounts/{ann}", "pe_bob"),
        "the account, read anonymously": read(api, f"/api/v1/accounts/{ann}"),
        "her credentials": read(api, "/api/v1/accounts/verify_credentials", "pe_ann"),
        "the lookup": read(api, "/api/v1/accounts/lookup", acct="pe_ann"),
        "her post in bob's home": next(s for s in bob_home if s["id"] == str(post))["account"],
        "her post on the public timeline": next(s for s in public if s["id"] == str(post))[
            "account"
        ],
        "her post": read(api, f"/api/v1/statuses/{post}", "pe_bob")["account"],
    }


def _check(api: Api, bob_web: httpx.Client, ann: int, post: int, saved: dict[str, Any]) -> None:
    want = _profile(saved)
    for where, account in _everywhere(api, ann, post).items():
        assert _profile(account) == want, f"{where} right after the edit"
    name, _, _, avatar = want
    page = httpx.get(str(bob_web.base_url.join("/@pe_ann")), timeout=10).text  # anonymously
    for shown in (name, f"Bio of {name}", "Colour", urlsplit(avatar).path):
        assert shown in page, f"the web profile lacks {shown!r} right after the edit"
    home = bob_web.get("/").text
    for shown in (name, urlsplit(avatar).path):
        assert shown in home, f"bob's web home lacks {shown!r} right after the edit"


def test_a_profile_edit_shows_on_every_read_right_after_it(deployment: Deployment) -> None:
    url = deployment.url
    api = Api(url)
    ann, _ = (api.register(u) for u in ("pe_ann", "pe_bob"))
    api.follow("pe_bob", ann)
    post = api.post("pe_ann", "before and after")
    try:
        # Fan-out of the new post into bob's home is a job (as in Mastodon).
        helpers.until(
            lambda: (
                str(post) in {s["id"] for s in statuses(api, "/api/v1/timelines/home", "pe_bob")}
            ),
            seconds=FANOUT_SECONDS,
            what="ann's post in bob's home",
        )
        before = _everywhere(api, ann, post)  # and warm every cache with the old profile
        assert {a["display_name"] for a in before.values()} == {""}
        assert httpx.get(f"{url}/@pe_ann", timeout=10).status_code == 200
        bob_web, _ = helpers.web_login(url, "pe_bob")
        assert "before and after" in bob_web.get("/").text

        # In production the worker waits meanwhile: the reads see what the requests did alone.
        with helpers.worker_paused(deployment):
            first = _edit(api, "pe_ann", "Ann Red", (220, 30, 30))
            assert first["source"]["note"] == "Bio of Ann Red"
            _check(api, bob_web, ann, post, first)
            assert near(image_at(first["avatar"]), (220, 30, 30))

            second = _edit(api, "pe_ann", "Ann Blue", (30, 60, 220))
            assert second["avatar"] != first["avatar"]
            _check(api, bob_web, ann, post, second)
            assert near(image_at(second["avatar"]), (30, 60, 220))
        helpers.until(
            lambda: helpers.gone(first["avatar"]),
            seconds=CLEANUP_SECONDS,
            what="the replaced avatar's file deleted",
        )
        assert near(image_at(second["avatar"]), (30, 60, 220))

        # Removing it brings back the default everywhere, on the next read too.
        removed = api._ok(api.http.delete("/api/v1/profile/avatar", headers=api._auth("pe_ann")))
        assert removed["avatar"] not in (first["avatar"], second["avatar"])
        _check(api, bob_web, ann, post, removed)
        default = httpx.get(removed["avatar"], timeout=10)  # a drawing, in SVG
        assert default.headers["content-type"].startswith("image/"), default.headers
        helpers.until(
            lambda: helpers.gone(second["avatar"]),
            seconds=CLEANUP_SECONDS,
            what="the removed avatar's file deleted",
        )
    except (AssertionError, httpx.HTTPError) as exc:  # with what the processes said
        raise AssertionError(f"{exc}\n{deployment.logs()}") from exc

"""Real processes, read right after each write: likes, reposts, replies and reactions.

``chirp serve`` and ``chirp worker`` on PostgreSQL + Redis, and the embedded ``chirp serve``
on SQLite. ann posts; bob (who follows ann) likes, reposts and reacts to it; cat (who follows
bob, not ann) sees the repost and answers the post. After each write, the next read of the
post, the timelines and the thread shows it; the one lag allowed is the fan-out of the repost
into cat's home timeline, as for any new post.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from tests.e2e.conftest import Deployment
from tests.e2e.test_read_after_write import Api
from tests.loops import at_most

FANOUT_SECONDS = 5.0


def _status(api: Api, post_id: int, user: str | None) -> dict[str, Any]:
    headers = api._auth(user) if user else {}
    return api._ok(api.http.get(f"/api/v1/statuses/{post_id}", headers=headers))


def _act(api: Api, user: str, post_id: int, verb: str) -> dict[str, Any]:
    return api._ok(api.http.post(f"/api/v1/statuses/{post_id}/{verb}", headers=api._auth(user)))


def _until_in_home(api: Api, user: str, post_id: int) -> list[int]:
    """The user's home once it holds ``post_id``, or after the fan-out's time is up."""
    deadline = time.monotonic() + FANOUT_SECONDS
    home = api.home(user)
    for _ in at_most(200):
        if post_id in home or time.monotonic() > deadline:
            break
        time.sleep(0.05)
        home = api.home(user)
    return home


def test_likes_reposts_replies_and_reactions_show_on_the_very_next_read(
    deployment: Deployment,
) -> None:
    api = Api(deployment.url)
    ann, bob, _ = (api.register(u) for u in ("ix_ann", "ix_bob", "ix_cat"))
    api.follow("ix_bob", ann)
    api.follow("ix_cat", bob)
    post = api.post("ix_ann", "worth passing on")
    try:
        liked = _act(api, "ix_bob", post, "favourite")
        assert (liked["favourited"], liked["favourites_count"]) == (True, 1)
        # Everyone's count, each reader's own flag, on the next read.
        assert _status(api, post, "ix_ann")["favourites_count"] == 1
        assert _status(api, post, "ix_ann")["favourited"] is False
        assert _status(api, post, "ix_bob")["favourited"] is True

        wrapper = _act(api, "ix_bob", post, "reblog")
        repost = int(wrapper["id"])
        assert repost != post and wrapper["reblog"]["id"] == str(post)
        shown = _status(api, post, "ix_bob")
        assert (shown["reblogs_count"], shown["reblogged"]) == (1, True)
        assert repost in api.profile(bob)
        # cat follows bob, not ann: the repost reaches cat's home through the fan-out.
        assert repost in _until_in_home(api, "ix_cat", repost)
        assert post not in api.home("ix_cat")  # the original only inside the repost

        emoji = quote("🎉")
        path = f"/api/v1/pleroma/statuses/{post}/reactions/{emoji}"
        api._ok(api.http.put(path, headers=api._auth("ix_bob")))
        reactions = _status(api, post, "ix_ann")["emoji_reactions"]
        assert reactions == [{"name": "🎉", "count": 1, "me": False}]

        body = {"status": "@ix_ann agreed", "in_reply_to_id": str(post)}
        made = api.http.post("/api/v1/statuses", data=body, headers=api._auth("ix_cat"))
        reply = int(api._ok(made)["id"])
        assert _status(api, post, None)["replies_count"] == 1
        context = api._ok(api.http.get(f"/api/v1/statuses/{post}/context"))
        assert [int(s["id"]) for s in context["descendants"]] == [reply]
        # bob follows ann but not cat: a reply by someone bob doesn't follow stays out.
        assert reply not in api.home("ix_bob")

        undone = _act(api, "ix_bob", post, "unreblog")
        assert (undone["reblogged"], undone["reblogs_count"]) == (False, 0)
        assert repost not in api.home("ix_cat")  # gone on the very next read
        assert repost not in api.profile(bob)

        api.delete("ix_ann", post)
        # The reply stays, still answering the deleted post; the thread starts at it now.
        left = _status(api, reply, None)
        assert left["in_reply_to_id"] == str(post)
        assert api._ok(api.http.get(f"/api/v1/statuses/{reply}/context"))["ancestors"] == []
        assert api.http.get(f"/api/v1/statuses/{post}").status_code == 404
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{deployment.logs()}") from None

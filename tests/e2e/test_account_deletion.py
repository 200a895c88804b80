"""Real processes: an account deleted through the web form is gone from every read at once.

``chirp serve`` (two web processes) and ``chirp worker`` on PostgreSQL + Redis, and the
embedded ``chirp serve`` on SQLite. zed has an avatar and posts (one with an image, one with
a hashtag, a reply and a direct message to amy), reposts and likes amy's post, follows amy
and is followed by ben and by amy, who likes one of zed's posts. Every read below is made
once before the deletion, so the production shape's Redis timelines and cached posts hold zed.
Right after zed deletes the account on the settings page, its profile, look-up, posts, its
place in amy's and ben's homes (API and web), the public and hashtag timelines, the thread,
likers and reposters of amy's post, amy's favourites, conversations and notifications, the
follower and following lists (API and web) and the directory all leave it out; its name
stays taken, its address is free. Its rows and files are then removed by a job (as
Mastodon's DeleteAccountService runs in a worker): within a minute its image URLs answer
404, the counts it was part of are back to zero, and the database holds nothing of it but
its emptied row.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from sqlalchemy import func, select

from chirp.db import make_engine
from chirp.follows.models import Follow
from chirp.likes.models import Favourite
from chirp.media.models import MediaAttachment
from chirp.posts.models import Post
from chirp.users.models import User
from tests.e2e import helpers
from tests.e2e.conftest import PRODUCTION, Deployment
from tests.e2e.helpers import PASSWORD, code, read, statuses, upload
from tests.e2e.test_read_after_write import Api
from tests.media import images

FANOUT_SECONDS = 5.0
REMOVAL_SECONDS = 60.0
PROFILE = "/api/v1/accounts/update_credentials"
STATUSES = "/api/v1/statuses"
_CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')


def _ids(found: list[dict[str, Any]]) -> set[int]:
    return {int(s["id"]) for s in found}


def _write(
    api: Api,
    user: str,
    method: str,
    path: str,
    data: dict[str, Any] | None = None,
    files: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response = api.http.request(method, path, data=data, files=files, headers=api._auth(user))
    return api._ok(response)


def _conversations_with(api: Api, user: str, account: int, status: int) -> list[str]:
    """The user's conversations that show ``account`` or end with ``status``."""
    return [
        c["id"]
        for c in read(api, "/api/v1/conversations", user)
        if str(account) in {a["id"] for a in c["accounts"]}
        or (c["last_status"] or {}).get("id") == str(status)
    ]


def _accounts(api: Api, path: str, user: str | None = None) -> set[int]:
    return {int(a["id"]) for a in read(api, path, user, limit=80)}


def _delete_on_the_settings_page(url: str, username: str) -> None:
    web, _ = helpers.web_login(url, username)
    token = _CSRF.search(web.get("/settings/delete").text)
    assert token, "no CSRF token on /settings/delete"
    form = {"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    done = web.post("/settings/delete", data=form)
    assert done.status_code == 303, done.text
    assert web.get("/settings/delete").status_code in (303, 401)  # logged out


async def _left(database_url: str, user_id: int) -> dict[str, Any]:
    """What the database still holds of the account."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:

            async def count(stmt: Any) -> int:
                return int((await conn.execute(stmt)).scalar_one())

            follows = (Follow.follower_id == user_id) | (Follow.followee_id == user_id)
            user = (await conn.execute(select(User).where(User.id == user_id))).one()
            return {
                "posts": await count(select(func.count()).where(Post.author_id == user_id)),
                "media": await count(
                    select(func.count()).where(MediaAttachment.account_id == user_id)
                ),
                "follows": await count(select(func.count()).where(follows)),
                "likes": await count(select(func.count()).where(Favourite.user_id == user_id)),
                "profile": (user.display_name, user.bio, user.avatar_key),
            }
    finally:
        await engine.dispose()


def test_a_deleted_account_is_gone_from_every_read_then_its_rows_and_files(
    deployment: Deployment,
) -> None:
    url = deployment.url
    api = Api(url)
    zed, amy, ben = (api.register(u) for u in ("dz_zed", "dz_amy", "dz_ben"))
    api.follow("dz_zed", amy)
    api.follow("dz_amy", zed)
    api.follow("dz_ben", zed)
    avatar = {"avatar": ("zed.png", images.png(80, 80, (10, 200, 90)), "image/png")}
    avatar_url = _write(api, "dz_zed", "PATCH", PROFILE, {"display_name": "Zed"}, avatar)["avatar"]
    amys = api.post("dz_amy", "amy writes")
    photo = upload(api, "dz_zed", images.jpeg(50, 40, (90, 20, 160)), "z.jpg", "image/jpeg")
    posted = _write(
        api, "dz_zed", "POST", STATUSES, {"status": "zed's", "media_ids[]": photo["id"]}
    )
    answer = {"status": "@dz_amy hello", "in_reply_to_id": str(amys)}
    reply = int(_write(api, "dz_zed", "POST", STATUSES, answer)["id"])
    repost = int(_write(api, "dz_zed", "POST", f"{STATUSES}/{amys}/reblog")["id"])
    writes = api.post("dz_zed", "zed writes #zedtag")
    own = {int(posted["id"]), writes, reply}
    direct = {"status": "@dz_amy just for you", "visibility": "direct"}
    message = int(_write(api, "dz_zed", "POST", STATUSES, direct)["id"])
    zeds = own | {repost, message}
    _write(api, "dz_zed", "POST", f"{STATUSES}/{amys}/favourite")
    _write(api, "dz_amy", "POST", f"{STATUSES}/{writes}/favourite")
    attachment = posted["media_attachments"][0]
    files = [avatar_url, attachment["url"], attachment["preview_url"]]
    # amy's home has her post already: zed's repost of it is not added; ben follows zed, not
    # amy, so zed's reply to her is not in his home (both as in Mastodon).
    homes = {"dz_amy": own, "dz_ben": own - {reply} | {repost}}
    try:
        # zed's posts reach the followers' homes through the fan-out job (as in Mastodon).
        for user, want in homes.items():

            def arrived(user: str = user, want: set[int] = want) -> bool:
                return want <= _ids(statuses(api, "/api/v1/timelines/home", user))

            helpers.until(arrived, seconds=FANOUT_SECONDS, what=f"zed's posts in {user}'s home")
        # Every read once before, so every cache holds zed.
        # No reposts and no replies to others there (as in Mastodon).
        assert own - {reply} <= _ids(statuses(api, "/api/v1/timelines/public"))
        assert zed in _accounts(api, f"/api/v1/statuses/{amys}/favourited_by")
        assert zed in _accounts(api, f"/api/v1/accounts/{amy}/followers")
        assert zed in _accounts(api, "/api/v1/directory")
        assert httpx.get(f"{url}/@dz_zed", timeout=10).status_code == 200
        for file in files:
            helpers.image_at(file)
        assert [n["account"]["id"] for n in read(api, "/api/v1/notifications", "dz_amy")]
        assert _ids(statuses(api, "/api/v1/timelines/tag/zedtag")) & zeds
        pages = ("/users", "/@dz_amy/followers", "/@dz_amy/following", f"/@dz_amy/{amys}")
        for path in pages:
            assert "dz_zed" in httpx.get(f"{url}{path}", timeout=10).text, path
        assert writes in _ids(statuses(api, "/api/v1/favourites", "dz_amy"))
        assert _conversations_with(api, "dz_amy", zed, message)
        ben_web, _ = helpers.web_login(url, "dz_ben")
        assert "zed writes" in ben_web.get("/").text

        # In production, the account's removal waits for the worker: every read below sees
        # what the request did alone, as a client does until the job has run.
        with helpers.worker_paused(deployment):
            _delete_on_the_settings_page(url, "dz_zed")

            gone = {
                "the web profile": httpx.get(f"{url}/@dz_zed", timeout=10).status_code,
                "the account": code(api, f"/api/v1/accounts/{zed}"),
                "the account, read by amy": code(api, f"/api/v1/accounts/{zed}", "dz_amy"),
                "the look-up": code(api, "/api/v1/accounts/lookup", acct="dz_zed"),
                "its statuses": code(api, f"/api/v1/accounts/{zed}/statuses"),
                **{f"post {i}": code(api, f"/api/v1/statuses/{i}", "dz_ben") for i in sorted(zeds)},
            }
            assert gone == dict.fromkeys(gone, 404)
            assert code(api, "/api/v1/accounts/verify_credentials", "dz_zed") == 401
            for user in ("dz_amy", "dz_ben"):
                home = _ids(statuses(api, "/api/v1/timelines/home", user))
                assert not home & zeds, f"{user}'s home still shows zed's posts"
            assert not _ids(statuses(api, "/api/v1/timelines/public")) & zeds
            assert amys in _ids(statuses(api, "/api/v1/timelines/public"))
            context = read(api, f"/api/v1/statuses/{amys}/context")
            assert context["descendants"] == []
            assert zed not in _accounts(api, f"/api/v1/statuses/{amys}/favourited_by")
            assert zed not in _accounts(api, f"/api/v1/statuses/{amys}/reblogged_by")
            assert zed not in _accounts(api, f"/api/v1/accounts/{amy}/followers")
            assert zed not in _accounts(api, f"/api/v1/accounts/{amy}/following")
            assert zed not in _accounts(api, f"/api/v1/accounts/{ben}/following")
            assert zed not in _accounts(api, "/api/v1/directory")
            assert not _ids(statuses(api, "/api/v1/timelines/tag/zedtag")) & zeds
            assert not _ids(statuses(api, "/api/v1/favourites", "dz_amy")) & zeds
            assert not _conversations_with(api, "dz_amy", zed, message)
            notified = read(api, "/api/v1/notifications", "dz_amy")
            assert [n["type"] for n in notified if n["account"]["id"] == str(zed)] == []
            # The web pages, from the same services.
            for path in pages:
                assert "dz_zed" not in httpx.get(f"{url}{path}", timeout=10).text, path
            assert "zed writes" not in ben_web.get("/").text
            if deployment.shape == PRODUCTION:  # so all of the above was read before the job
                assert asyncio.run(_left(deployment.database_url, zed))["posts"] == len(zeds)

        # The name stays taken (no one can pose as zed); the address is free at once.
        signup = {
            "email": "dz_zed@example.com",
            "password": PASSWORD,
            "agreement": "true",
        }
        app = {"Authorization": f"Bearer {api.app_token}"}
        again = api.http.post(
            "/api/v1/accounts", data={**signup, "username": "dz_zed"}, headers=app
        )
        assert again.status_code == 422, again.text
        other = api.http.post(
            "/api/v1/accounts", data={**signup, "username": "dz_zed2"}, headers=app
        )
        assert other.status_code == 200, other.text

        # The job removes the rest; the counts it was part of follow.
        def removed() -> bool:
            shown = read(api, f"/api/v1/statuses/{amys}")
            account = read(api, f"/api/v1/accounts/{amy}")
            counts = (shown["favourites_count"], shown["reblogs_count"], shown["replies_count"])
            follows = (account["followers_count"], account["following_count"])
            ben_follows = read(api, f"/api/v1/accounts/{ben}")["following_count"]
            files_gone = all(helpers.gone(file) for file in files)
            return counts == (0, 0, 0) and follows == (0, 0) and ben_follows == 0 and files_gone

        helpers.until(removed, seconds=REMOVAL_SECONDS, what="zed's rows and files removed")
        left = asyncio.run(_left(deployment.database_url, zed))
        assert left == {
            "posts": 0,
            "media": 0,
            "follows": 0,
            "likes": 0,
            "profile": ("", "", None),
        }
    except (AssertionError, httpx.HTTPError) as exc:  # with what the processes said
        raise AssertionError(f"{exc}\n{deployment.logs()}") from exc

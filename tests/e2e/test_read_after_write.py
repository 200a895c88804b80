"""Real processes, read right after each write, as a client would: every page matches the writes.

``chirp serve`` (two web processes) and ``chirp worker`` on PostgreSQL + Redis, and the
embedded ``chirp serve`` on SQLite, run the same scenario through the Mastodon API: several
users with overlapping follows post, delete, follow and unfollow. After each write the next
read of every user's home timeline (those the write concerns first), the author's profile and
the public timeline is compared with a model of the writes kept by the test (never with what
the server said), and at the end the model with what SQL holds. The one lag allowed
is a new post's way into its followers' home timelines (the worker's fan-out): those reads may
miss the new post, and nothing else, until it lands within a few seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select

from chirp.db import make_engine
from chirp.follows.models import Follow
from chirp.posts.models import Post
from tests.e2e.conftest import Deployment

USERS = ("ann", "bob", "cat", "dan", "eve")
LIMIT = 40  # every timeline of the scenario fits one page
# uvicorn closes a connection idle for 5 s, httpx reuses one idle for up to 5 s: a request
# sent as the server closes it fails ("Server disconnected"). Idle ones are dropped sooner.
CONNECTIONS = httpx.Limits(keepalive_expiry=1.0)
FANOUT_SECONDS = 5.0  # a new post reaches its followers' home timelines within this


@dataclass
class Model:
    """What the timelines must show, from the writes the server acknowledged."""

    account: dict[str, int] = field(default_factory=dict)
    posts: dict[int, str] = field(default_factory=dict)  # live post id -> author
    labels: dict[int, str] = field(default_factory=dict)  # post id -> its text, for messages
    follows: set[tuple[str, str]] = field(default_factory=set)
    replied_to: dict[int, str] = field(default_factory=dict)  # reply id -> account answered

    def home(self, user: str) -> list[int]:
        """The user's posts and those of everyone they follow, newest first; a reply to
        another account only if the user is that account or follows it (Mastodon's rule)."""
        followed = {b for a, b in self.follows if a == user}

        def shown(post_id: int, author: str) -> bool:
            to = self.replied_to.get(post_id, author)
            if author == user:
                return True
            return author in followed and (to in (author, user) or to in followed)

        return sorted((i for i, a in self.posts.items() if shown(i, a)), reverse=True)

    def profile(self, user: str) -> list[int]:
        """The user's own posts, newest first."""
        return sorted((i for i, a in self.posts.items() if a == user), reverse=True)

    def public(self) -> list[int]:
        """Every post but replies to others, newest first."""
        return sorted((i for i in self.posts if i not in self.replied_to), reverse=True)

    def followers(self, user: str) -> set[str]:
        """Who follows the user."""
        return {a for a, b in self.follows if b == user}

    def show(self, ids: Collection[int]) -> list[str]:
        """Ids as the posts' texts, so a failure reads as who posted what."""
        return [self.labels.get(i, str(i)) for i in ids]


class Api:
    """A Mastodon API client with one token per user."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=10, limits=CONNECTIONS)
        self.tokens: dict[str, str] = {}
        scopes = "read write follow"
        app = self._ok(
            self.http.post(
                "/api/v1/apps",
                data={
                    "client_name": "e2e",
                    "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                    "scopes": scopes,
                },
            )
        )
        grant = {
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": scopes,
        }
        self.app_token = self._ok(self.http.post("/oauth/token", data=grant))["access_token"]

    @staticmethod
    def _ok(response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, (
            f"{response.request.method} {response.request.url}: "
            f"{response.status_code} {response.text}"
        )
        body: dict[str, Any] = response.json()
        return body

    def _auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def register(self, user: str) -> int:
        """Sign up through the API; return the new account's id."""
        account = {
            "username": user,
            "email": f"{user}@example.com",
            "password": "e2e-password-1",
            "agreement": "true",
        }
        headers = {"Authorization": f"Bearer {self.app_token}"}
        body = self._ok(self.http.post("/api/v1/accounts", data=account, headers=headers))
        self.tokens[user] = body["access_token"]
        me = self._ok(
            self.http.get("/api/v1/accounts/verify_credentials", headers=self._auth(user))
        )
        return int(me["id"])

    def post(self, user: str, text: str, reply_to: int | None = None) -> int:
        """Post (or reply) as the user; return the post's id."""
        data = {"status": text, **({"in_reply_to_id": str(reply_to)} if reply_to else {})}
        body = self._ok(self.http.post("/api/v1/statuses", data=data, headers=self._auth(user)))
        return int(body["id"])

    def delete(self, user: str, post_id: int) -> None:
        """Delete one of the user's posts."""
        self._ok(self.http.delete(f"/api/v1/statuses/{post_id}", headers=self._auth(user)))

    def follow(self, user: str, account_id: int, *, unfollow: bool = False) -> None:
        """Follow (or unfollow) an account as the user."""
        verb = "unfollow" if unfollow else "follow"
        path = f"/api/v1/accounts/{account_id}/{verb}"
        relationship = self._ok(self.http.post(path, headers=self._auth(user)))
        assert relationship["following"] is (not unfollow)

    def _ids(self, path: str, user: str | None, params: dict[str, int]) -> list[int]:
        headers = self._auth(user) if user else {}
        response = self.http.get(path, params={"limit": LIMIT, **params}, headers=headers)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return [int(s["id"]) for s in response.json()]

    def home(self, user: str, **params: int) -> list[int]:
        """The user's home timeline, one page."""
        return self._ids("/api/v1/timelines/home", user, params)

    def profile(self, account_id: int, **params: int) -> list[int]:
        """An account's statuses, one page, read anonymously."""
        return self._ids(f"/api/v1/accounts/{account_id}/statuses", None, params)

    def public(self, **params: int) -> list[int]:
        """The public timeline, one page, read anonymously."""
        return self._ids("/api/v1/timelines/public", None, params)


class Scenario:
    """Writes through the API, each followed at once by the reads that must show it."""

    def __init__(self, api: Api, model: Model) -> None:
        self.api = api
        self.model = model
        self.numbers = itertools.count(1)
        self.step = ""
        self.concerned: set[str] = set()  # whose home the write changes
        self.authors: tuple[str, ...] = ()  # whose profile it changes

    def post(self, author: str, reply_to: str | None = None) -> int:
        """``author`` posts, or answers ``reply_to``'s newest post; followers may see it only
        once the fan-out has run."""
        text = f"{author} {next(self.numbers)}"
        to = self.model.profile(reply_to)[0] if reply_to else None
        if reply_to:
            text += f" (to {reply_to})"
        self.step = f"{text} posted"
        self.concerned = {author} | self.model.followers(author)
        self.authors = (author,)
        post_id = self.api.post(author, text, reply_to=to)
        self.model.posts[post_id] = author
        if reply_to and reply_to != author:
            self.model.replied_to[post_id] = reply_to
        self.model.labels[post_id] = text
        self.check(lagging={u: {post_id} for u in self.model.followers(author)})
        return post_id

    def delete(self, author: str, index: int) -> None:
        """``author`` deletes their ``index``-th post (newest first): gone from every read."""
        post_id = self.model.profile(author)[index]
        self.step = f"{self.model.labels[post_id]} deleted"
        self.concerned = {author} | self.model.followers(author)
        self.authors = (author,)
        self.api.delete(author, post_id)
        del self.model.posts[post_id]
        self.check()

    def follow(self, user: str, other: str) -> None:
        """``user`` follows ``other``: their posts are in ``user``'s home on the next read."""
        self.step = f"{user} followed {other}"
        self.concerned = {user}
        self.authors = ()
        self.api.follow(user, self.model.account[other])
        self.model.follows.add((user, other))
        self.check()

    def unfollow(self, user: str, other: str) -> None:
        """``user`` unfollows ``other``: their posts leave ``user``'s home on the next read."""
        self.step = f"{user} unfollowed {other}"
        self.concerned = {user}
        self.authors = ()
        self.api.follow(user, self.model.account[other], unfollow=True)
        self.model.follows.discard((user, other))
        self.check()

    def check(self, lagging: dict[str, set[int]] | None = None) -> None:
        """Read everything once, at once; ``lagging`` posts may be missing from those homes."""
        lagging = lagging or {}
        model = self.model
        late = {}
        # Homes first, the users the write concerns first: the very next read, before the
        # worker has had the time other reads would give it.
        for user in sorted(USERS, key=lambda u: u not in self.concerned):
            want = model.home(user)
            got = self.api.home(user)
            if got == want:
                continue
            allowed = [i for i in want if i not in lagging.get(user, set())]
            assert model.show(got) == model.show(allowed), (
                f"{user}'s home right after {self.step}: want {model.show(want)}"
            )
            late[user] = allowed
        assert model.show(self.api.public()) == model.show(model.public()), (
            f"public timeline right after {self.step}"
        )
        for user in self.authors:
            got = self.api.profile(model.account[user])
            assert model.show(got) == model.show(model.profile(user)), (
                f"{user}'s profile right after {self.step}"
            )
        deadline = time.monotonic() + FANOUT_SECONDS
        for user, allowed in late.items():
            want = model.home(user)
            while (got := self.api.home(user)) != want:
                assert got == allowed, f"{user}'s home after {self.step}: {model.show(got)}"
                assert time.monotonic() < deadline, (
                    f"{user}'s home still lacks {model.show(set(want) - set(got))} "
                    f"{FANOUT_SECONDS} s after {self.step}"
                )
                time.sleep(0.02)

    def check_paging(self) -> None:
        """Page through every home and the public timeline three posts at a time."""
        self.step, self.authors = "the last write", USERS
        self.check()
        for user in [*USERS, None]:
            want = self.model.home(user) if user else self.model.public()
            seen: list[int] = []
            for _ in range(len(want) // 3 + 2):  # bounded: one page more than needed
                older = {"max_id": seen[-1]} if seen else {}
                page = (
                    self.api.home(user, limit=3, **older)
                    if user
                    else self.api.public(limit=3, **older)
                )
                if not page:
                    break
                seen += page
            assert self.model.show(seen) == self.model.show(want), f"paging {user or 'public'}"


async def _stored(database_url: str) -> tuple[dict[int, int], set[tuple[int, int]]]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(Post.id, Post.author_id))
            posts = {post_id: author_id for post_id, author_id in rows}
            rows = await conn.execute(select(Follow.follower_id, Follow.followee_id))
            follows = {(follower_id, followee_id) for follower_id, followee_id in rows}
    finally:
        await engine.dispose()
    return posts, follows


def test_every_read_right_after_a_write_matches_the_writes(deployment: Deployment) -> None:
    api = Api(deployment.url)
    model = Model()
    for user in USERS:
        model.account[user] = api.register(user)
    s = Scenario(api, model)
    try:
        for author, count in [("bob", 4), ("cat", 3), ("ann", 2), ("dan", 1), ("eve", 1)]:
            for _ in range(count):
                s.post(author)
        # Overlapping follows: ann follows bob and cat, bob follows cat, dan follows ann.
        s.follow("ann", "bob")
        s.follow("ann", "cat")
        s.follow("bob", "cat")
        s.follow("dan", "ann")
        s.follow("eve", "bob")
        s.follow("eve", "cat")
        for author in ("cat", "bob", "ann", "dan", "cat"):
            s.post(author)
        s.delete("cat", -1)  # cat's oldest, in ann's, bob's and eve's homes
        s.unfollow("ann", "bob")
        s.post("bob")  # to eve, not to ann any more
        s.follow("ann", "bob")  # again: all of bob's posts are back
        s.delete("bob", 0)  # bob's newest, in ann's and eve's homes
        s.follow("dan", "cat")
        s.unfollow("eve", "cat")
        s.unfollow("bob", "cat")
        s.post("cat")  # to ann and dan only
        s.delete("ann", 0)  # in dan's home
        # Replies follow the home rule: bob answers dan, whom his followers (ann, eve) do
        # not follow, so it is in no home but his own.
        s.post("bob", reply_to="dan")
        s.follow("ann", "dan")  # the answer shows in ann's home at once
        s.post("eve", reply_to="bob")  # eve answers bob: to no follower of hers (none)
        s.follow("bob", "eve")  # bob sees eve's posts, the answer to him among them
        s.unfollow("ann", "dan")  # bob's answer to dan leaves ann's home
        s.check_paging()
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{deployment.logs()}") from None

    # The model is what the database holds, so the pages above were compared with SQL.
    posts, follows = asyncio.run(_stored(deployment.database_url))
    account = model.account
    assert posts == {i: account[a] for i, a in model.posts.items()}
    assert follows == {(account[a], account[b]) for a, b in model.follows}


def test_a_followers_only_post_is_theirs_alone_right_after_each_write(
    deployment: Deployment,
) -> None:
    api = Api(deployment.url)
    author, follower, _ = (api.register(u) for u in ("pia", "quin", "ray"))
    api.follow("quin", author)
    api.follow("ray", follower)  # a reader with follows of her own, none of them pia
    body = {"status": "for my followers", "visibility": "private", "spoiler_text": "cw"}
    made = api.http.post("/api/v1/statuses", data=body, headers=api._auth("pia"))
    post = int(api._ok(made)["id"])

    def status_as(user: str | None) -> int:
        headers = api._auth(user) if user else {}
        return api.http.get(f"/api/v1/statuses/{post}", headers=headers).status_code

    try:
        assert [status_as(u) for u in ("pia", "quin", "ray", None)] == [200, 200, 404, 404]
        assert post not in api.public()
        assert post not in api.profile(author)  # read anonymously
        assert post not in api.home("ray")
        # Fan-out may take a moment in production (as for any new post): at most 5 s.
        deadline = time.monotonic() + 5
        for _ in itertools.count():
            if post in api.home("quin") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert post in api.home("quin")
        api.follow("quin", author, unfollow=True)
        # Access ends with the unfollow, on the very next read.
        assert status_as("quin") == 404
        assert post not in api.home("quin")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{deployment.logs()}") from None

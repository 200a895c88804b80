"""Reposts in home timelines: which to show, on the database path and the Redis path.

Both paths: reposts of accounts followed with ``reblogs=false`` never show, and within a page
a post shows once, as itself if the page holds it, else at its newest repost (``dedupe``).
The Redis timeline also keeps one repost per shared post across its whole cached window
(``scripts.ADD_REPOST``), and a rebuild from the database applies the same rule
(``keep_one_repost``), so a rebuilt timeline gives the pages the cache gave.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from chirp.posts.models import PostView


def dedupe(posts: list[PostView]) -> list[PostView]:
    """Drop reposts of posts a page already shows, newest first.

    A post shared by several people the reader follows shows once, at its newest repost; a
    post shown as itself (its author is followed) does not come back as a repost. Within a
    page on every path; the Redis timeline also keeps one repost per post across its whole
    cached window (see ``scripts.ADD_REPOST``).
    """
    itself = {p.id for p in posts if p.reblog_of_id is None}
    seen: set[int] = set()
    kept: list[PostView] = []
    for post in posts:
        original = post.reblog_of_id
        if original is not None:
            if original in itself or original in seen:
                continue
            seen.add(original)
        kept.append(post)
    return kept


def keep_one_repost(
    ids: list[int], shares: dict[int, int]
) -> tuple[list[int], dict[int, int], set[int]]:
    """A rebuilt timeline as fan-out would have left it: ``scripts.ADD_REPOST`` applied to
    ``ids`` (newest first) oldest first. ``shares``: repost id -> shared post id.

    Returns the ids kept (newest first), the reposts kept by shared post, and the reposts
    that replaced an earlier one.
    """
    kept: set[int] = set()
    shared: dict[int, int] = {}
    moved: set[int] = set()
    for post_id in reversed(ids):
        original = shares.get(post_id)
        if original is None:
            kept.add(post_id)
            continue
        earlier = shared.get(original)
        if original in kept or (earlier is not None and earlier >= post_id):
            continue
        if earlier is not None:
            kept.discard(earlier)
            moved.add(post_id)
        shared[original] = post_id
        kept.add(post_id)
    return [i for i in ids if i in kept], shared, moved & kept


class HidingReblogs:
    """Which followed accounts' reposts a reader hides (``reblogs=false``), looked up once."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.known: dict[int, bool] = {}

    def learn(self, followed: Collection[int], hiding: Collection[int]) -> None:
        """Record what a query made anyway found: of ``followed``, those in ``hiding`` hide."""
        self.known.update({a: a in hiding for a in followed if a != self.user_id})

    async def tidy(self, session: AsyncSession, posts: list[PostView]) -> list[PostView]:
        """``posts`` without hidden accounts' reposts and without repeated reposts."""
        asked = {
            p.author_id for p in posts if p.reblog_of_id is not None and p.author_id != self.user_id
        } - set(self.known)
        if asked:
            # One small query, and only for pages that hold reposts of accounts not asked yet.
            hidden = await follows_service.hiding_reblogs(
                session, follower_id=self.user_id, candidates=list(asked)
            )
            self.known.update({a: a in hidden for a in asked})
        shown = [p for p in posts if p.reblog_of_id is None or not self.known.get(p.author_id)]
        return dedupe(shown)

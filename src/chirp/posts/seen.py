"""Which posts a reader may see, as one SQL condition for lists that join ``Post``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, or_

from chirp import visibility as post_visibility
from chirp.follows.models import Follow
from chirp.posts.models import Mention, Post


def visible_to(user_id: int) -> Any:
    """Posts ``user_id`` may see now: their own; else public or unlisted ones, followers-only
    ones by someone they follow, and direct messages that mention them."""
    follows = exists().where(Follow.follower_id == user_id, Follow.followee_id == Post.author_id)
    mentioned = exists().where(Mention.post_id == Post.id, Mention.user_id == user_id)
    return or_(
        Post.author_id == user_id,
        Post.visibility.in_([post_visibility.PUBLIC, post_visibility.UNLISTED]),
        and_(Post.visibility == post_visibility.PRIVATE, follows),
        and_(Post.visibility == post_visibility.DIRECT, mentioned),
    )

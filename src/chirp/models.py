"""Imports every ORM model so metadata is complete (for Alembic and tests)."""

from chirp.auth.models import WebSession
from chirp.follows.models import Follow
from chirp.jobs.models import Job
from chirp.likes.models import Favourite
from chirp.oauth.models import OAuthApp, OAuthCode, OAuthToken
from chirp.posts.models import IdempotencyKey, Post
from chirp.reactions.models import Reaction, ReactionCount
from chirp.users.models import User

__all__ = [
    "Favourite",
    "Follow",
    "IdempotencyKey",
    "Job",
    "OAuthApp",
    "OAuthCode",
    "OAuthToken",
    "Post",
    "Reaction",
    "ReactionCount",
    "User",
    "WebSession",
]

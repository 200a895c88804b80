"""Imports every ORM model so metadata is complete (for Alembic and tests)."""

from chirp.auth.models import WebSession
from chirp.follows.models import Follow
from chirp.jobs.models import Job
from chirp.oauth.models import OAuthApp, OAuthCode, OAuthToken
from chirp.posts.models import IdempotencyKey, Post
from chirp.users.models import User

__all__ = [
    "Follow",
    "IdempotencyKey",
    "Job",
    "OAuthApp",
    "OAuthCode",
    "OAuthToken",
    "Post",
    "User",
    "WebSession",
]

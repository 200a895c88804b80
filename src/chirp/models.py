"""Imports every ORM model so metadata is complete (for Alembic and tests)."""

from chirp.auth.models import AccountToken, WebSession
from chirp.conversations.models import ConversationMember
from chirp.exports.models import Export
from chirp.follows.models import Follow
from chirp.jobs.models import Job
from chirp.likes.models import Favourite
from chirp.markers.models import Marker
from chirp.media.models import MediaAttachment
from chirp.notifications.models import Notification
from chirp.oauth.models import OAuthApp, OAuthCode, OAuthToken
from chirp.posts.models import IdempotencyKey, Mention, Post
from chirp.reactions.models import Reaction, ReactionCount
from chirp.tags.models import PostTag, Tag
from chirp.users.models import User

__all__ = [
    "AccountToken",
    "ConversationMember",
    "Export",
    "Favourite",
    "Follow",
    "IdempotencyKey",
    "Job",
    "Marker",
    "MediaAttachment",
    "Mention",
    "Notification",
    "OAuthApp",
    "OAuthCode",
    "OAuthToken",
    "Post",
    "PostTag",
    "Reaction",
    "ReactionCount",
    "Tag",
    "User",
    "WebSession",
]

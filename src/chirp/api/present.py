"""Turn ORM rows into Mastodon entities, in bulk (no query per item)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from chirp.avatars.urls import avatar_path
from chirp.config import Settings
from chirp.follows.service import Relationship
from chirp.posts.models import PostView
from chirp.posts.schemas import ApplicationOut, StatusOut
from chirp.posts.text import to_html
from chirp.users.models import User
from chirp.users.profile import Profile
from chirp.users.schemas import (
    AccountOut,
    AdminAccountOut,
    CredentialAccountOut,
    RelationshipOut,
    RoleOut,
    SourceOut,
)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as Mastodon writes times."""
    # isoformat is several times faster than strftime, and a page formats dozens of times.
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def account(user: Profile, settings: Settings) -> AccountOut:
    """Mastodon's Account entity for a user."""
    # A page builds one of these per author: each attribute is read once, and dates are
    # formatted with isoformat (strftime alone was a third of the cost).
    base = settings.base_url
    username = user.username
    avatar = base + avatar_path(user, settings)
    last_post = user.last_post_at
    header = f"{base}/static/header.png"
    return AccountOut(
        id=str(user.id),
        username=username,
        acct=username,
        display_name=user.display_name,
        # Mastodon gives the day an account was made, at midnight UTC.
        created_at=f"{user.created_at.date().isoformat()}T00:00:00.000Z",
        note=str(to_html(user.bio)) if user.bio else "",
        url=f"{base}/@{username}",
        uri=f"{base}/users/{username}",
        avatar=avatar,
        avatar_static=avatar,
        header=header,
        header_static=header,
        followers_count=user.followers_count,
        following_count=user.following_count,
        statuses_count=user.posts_count,
        last_status_at=last_post.date().isoformat() if last_post else None,
    )


# Mastodon's built-in roles. Everyone's role (id -99) grants nothing here: Mastodon's
# default lets everyone invite people (permissions 65536), and Chirp has no invitations.
_EVERYONE_ROLE = RoleOut(id="-99", name="", permissions="0", color="", highlighted=False)
_ADMIN_ROLE = RoleOut(id="3", name="Admin", permissions="1", color="", highlighted=True)


def role(user: User) -> RoleOut:
    """Mastodon's Role entity for a user: Admin, or the default role everyone has."""
    return _ADMIN_ROLE if user.is_admin else _EVERYONE_ROLE


def credential_account(user: User, settings: Settings) -> CredentialAccountOut:
    """The authenticated user's own Account, with its editable source and role."""
    base = account(user, settings).model_dump()
    return CredentialAccountOut(
        **base,
        source=SourceOut(
            note=user.bio, privacy=user.default_privacy, language=user.default_language
        ),
        role=role(user),
    )


def statuses(
    posts: Sequence[PostView], settings: Settings, *, viewer: User | None = None
) -> list[StatusOut]:
    """Status entities for posts, sharing one Account entity per author."""
    accounts: dict[int, AccountOut] = {}
    out = []
    for post in posts:
        if post.author_id not in accounts:
            accounts[post.author_id] = account(post.author, settings)
        out.append(_status(post, accounts[post.author_id], viewer=viewer))
    return out


def status(post: PostView, settings: Settings, *, viewer: User | None = None) -> StatusOut:
    """The Status entity for one post."""
    return statuses([post], settings, viewer=viewer)[0]


def _status(post: PostView, author: AccountOut, *, viewer: User | None) -> StatusOut:
    # Per-viewer flags are false for a signed-in reader and absent for anonymous ones.
    flag = False if viewer is not None else None
    post_id = str(post.id)
    return StatusOut(
        id=post_id,
        uri=f"{author.uri}/statuses/{post_id}",
        url=f"{author.url}/{post_id}",
        created_at=iso(post.created_at),
        account=author,
        content=str(to_html(post.text)),
        application=ApplicationOut(name=post.app_name) if post.app_name else None,
        visibility=post.visibility,
        sensitive=post.sensitive,
        spoiler_text=post.spoiler_text,
        language=post.language,
        favourited=flag,
        reblogged=flag,
        muted=flag,
        bookmarked=flag,
        pinned=flag,
        filtered=[] if viewer is not None else None,
    )


def relationship(rel: Relationship) -> RelationshipOut:
    """Mastodon's Relationship entity."""
    return RelationshipOut(
        id=str(rel.id),
        following=rel.following,
        showing_reblogs=rel.showing_reblogs,
        notifying=rel.notifying,
        followed_by=rel.followed_by,
    )


def admin_account(user: User, settings: Settings) -> AdminAccountOut:
    """Mastodon's Admin::Account entity."""
    return AdminAccountOut(
        id=str(user.id),
        username=user.username,
        created_at=iso(user.created_at),
        email=user.email,
        role=role(user),
        account=account(user, settings),
    )

"""Turn ORM rows into Mastodon entities, in bulk (no query per item)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from chirp.avatars.urls import avatar_url, header_url
from chirp.config import Settings
from chirp.follows.service import Relationship
from chirp.media import present as media_present
from chirp.media.schemas import MediaAttachmentOut
from chirp.posts.entities import find_tags, unique_names
from chirp.posts.feed import Feed
from chirp.posts.models import PostView
from chirp.posts.schemas import (
    ApplicationOut,
    EmojiReactionOut,
    PleromaStatusOut,
    QuoteApprovalOut,
    QuoteOut,
    StatusOut,
)
from chirp.posts.text import mention_names, tag_path, to_html
from chirp.users import profile_html
from chirp.users.models import User
from chirp.users.profile import Profile
from chirp.users.schemas import (
    AccountOut,
    AdminAccountOut,
    CredentialAccountOut,
    FieldOut,
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
    avatar = avatar_url(user, settings)
    last_post = user.last_post_at
    header = header_url(user, settings)
    return AccountOut(
        id=str(user.id),
        username=username,
        acct=username,
        display_name=user.display_name,
        # Mastodon gives the day an account was made, at midnight UTC.
        created_at=f"{user.created_at.date().isoformat()}T00:00:00.000Z",
        note=str(profile_html.note_html(user, base)),
        locked=user.locked,
        fields=[
            FieldOut(name=name, value=str(value)) for name, value in profile_html.fields_html(user)
        ],
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
            note=user.bio,
            fields=[FieldOut(name=f["name"], value=f["value"]) for f in user.fields or []],
            privacy=user.default_privacy,
            sensitive=user.default_sensitive,
            language=user.default_language,
        ),
        role=role(user),
    )


def statuses(feed: Feed, settings: Settings) -> list[StatusOut]:
    """Status entities for a feed's posts, sharing one Account entity per author."""
    return _Statuses(feed, settings).all()


def status(feed: Feed, settings: Settings) -> StatusOut:
    """The Status entity for the one post of a feed."""
    return statuses(feed, settings)[0]


class _Statuses:
    """Builds Status entities for one feed, each Account entity once."""

    def __init__(self, feed: Feed, settings: Settings) -> None:
        self.feed = feed
        self.settings = settings
        self.accounts: dict[int, AccountOut] = {}

    def all(self) -> list[StatusOut]:
        return [self.entity(post) for post in self.feed.posts]

    def account(self, author: Profile) -> AccountOut:
        if author.id not in self.accounts:
            self.accounts[author.id] = account(author, self.settings)
        return self.accounts[author.id]

    def entity(self, post: PostView) -> StatusOut:
        if post.reblog_of_id is None:
            return StatusOut(**self.proper(post, quoted=True))
        original = StatusOut(**self.proper(self.feed.shown(post), quoted=True))
        # The wrapper has no text or counts of its own; the reader's flags are the original's.
        fields = self.base(post)
        fields.update(
            reblog=original,
            content="",
            favourited=original.favourited,
            reblogged=original.reblogged,
        )
        return StatusOut(**fields)

    def base(self, post: PostView) -> dict[str, Any]:
        """What every status has, with per-viewer flags false (absent for anonymous readers)."""
        author = self.account(post.author)
        viewer = self.feed.viewer
        flag = False if viewer is not None else None
        post_id = str(post.id)
        return {
            "id": post_id,
            "uri": f"{author.uri}/statuses/{post_id}",
            "url": f"{author.url}/{post_id}",
            "created_at": iso(post.created_at),
            "account": author,
            "content": str(
                to_html(post.text, mention_names(post.mentions), self.settings.base_url)
            ),
            "mentions": _mentions(post.mentions, self.settings.base_url),
            "tags": _tags(post.text, self.settings.base_url),
            "application": _application(post.app_name) if post.app_name else None,
            "visibility": post.visibility,
            "sensitive": post.sensitive,
            "spoiler_text": post.spoiler_text,
            "language": post.language,
            "favourited": flag,
            "reblogged": flag,
            "muted": flag,
            "bookmarked": flag,
            "pinned": flag,
            "filtered": [] if viewer is not None else None,
        }

    def media(self, post: PostView) -> list[MediaAttachmentOut]:
        """A post's images, in order."""
        return [media_present.attachment(m, self.settings) for m in self.feed.attachments(post)]

    def proper(self, post: PostView, *, quoted: bool) -> dict[str, Any]:
        """A post (not a repost) with its counts, reactions, reply and quote."""
        state = self.feed.state(post)
        fields = self.base(post)
        reactions = [EmojiReactionOut(name=r.name, count=r.count, me=r.me) for r in state.reactions]
        pleroma = PleromaStatusOut(emoji_reactions=reactions) if reactions else _NO_REACTIONS
        quote = None
        state_name = self.feed.quote_state(post)
        if state_name is not None:
            inner = self.feed.quoted(post)
            # A quote inside a quote is not expanded again (Mastodon's ShallowQuote).
            shown = None
            if inner is not None and quoted:
                shown = StatusOut(**self.proper(inner, quoted=False))
            quote = QuoteOut(state=state_name, quoted_status=shown)
        fields.update(
            media_attachments=self.media(post),
            in_reply_to_id=_str(post.in_reply_to_id),
            in_reply_to_account_id=_str(post.in_reply_to_account_id),
            replies_count=state.replies,
            reblogs_count=state.reblogs,
            favourites_count=state.favourites,
            quotes_count=state.quotes,
            emoji_reactions=reactions,
            pleroma=pleroma,
            quote=quote,
            quote_approval=_quote_approval(
                post.quote_approval_policy, _CURRENT_USER[self.feed.may_quote(post)]
            ),
        )
        if self.feed.viewer is not None:
            fields.update(favourited=state.favourited, reblogged=state.reblogged)
        return fields


# Mastodon's QuoteApproval lists for each policy Chirp stores.
_APPROVAL = {"public": ["public"], "followers": ["followers"], "nobody": []}
_CURRENT_USER = {True: "automatic", False: "denied", None: "unknown"}


# Shared by every status that has the same (the models are frozen): built once, not per post.
_NO_REACTIONS = PleromaStatusOut()


@functools.cache
def _quote_approval(policy: str, current_user: str) -> QuoteApprovalOut:
    return QuoteApprovalOut(automatic=_APPROVAL.get(policy, []), current_user=current_user)


@functools.lru_cache(maxsize=1024)
def _application(name: str) -> ApplicationOut:
    return ApplicationOut(name=name)


def _mentions(mentions: list[list[Any]] | None, base: str) -> list[dict[str, object]]:
    """Mastodon's Status mentions, from the post's ``mentions`` column (no query)."""
    return [
        {"id": str(user_id), "username": name, "acct": name, "url": f"{base}/@{name}"}
        for user_id, name in mentions or []
    ]


def _tags(text: str, base: str) -> list[dict[str, object]]:
    """Mastodon's Status tags: each tag of the text once, as first written."""
    return [{"name": name, "url": url} for name, url in _tag_links(text, base)]


# Most texts have no "#": those cost one look for it. Texts with tags recur on every page
# that shows them, and finding tags searches for links too: remember them like their HTML.
@functools.lru_cache(maxsize=8192)
def _tag_links(text: str, base: str) -> tuple[tuple[str, str], ...]:
    if "#" not in text:
        return ()
    return tuple((name, base + tag_path(name)) for name in unique_names(find_tags(text)))


def _str(value: int | None) -> str | None:
    return None if value is None else str(value)


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

"""Notification types: those Chirp creates, and every one Mastodon clients may ask for."""

from __future__ import annotations

MENTION = "mention"  # a mention, or a reply (as Mastodon: a reply is a mention)
FOLLOW = "follow"
FAVOURITE = "favourite"
REBLOG = "reblog"
QUOTE = "quote"  # Mastodon 4.5
REACTION = "pleroma:emoji_reaction"  # as Pleroma and Akkoma name it

CREATED = (MENTION, FOLLOW, FAVOURITE, REBLOG, QUOTE, REACTION)
# Every type a client may name in ``types[]``/``exclude_types[]`` (Mastodon's, and Pleroma's
# reactions). Those Chirp never creates match nothing; names no server defines are dropped,
# as Mastodon drops them, so a client that knows newer types still gets an answer.
KNOWN = (
    *CREATED,
    "status",
    "follow_request",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
    "severed_relationships",
    "moderation_warning",
    "quoted_update",
    "added_to_collection",
    "collection_update",
)
# Types Mastodon 4.3 groups (``admin.sign_up`` too, which Chirp never creates).
GROUPABLE = (FAVOURITE, REBLOG, FOLLOW)
# Types that carry a post.
WITH_POST = (MENTION, FAVOURITE, REBLOG, QUOTE, REACTION)

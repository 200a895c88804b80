"""Every parameter Mastodon documents is honoured as Mastodon defines it, or refused with 422.

``MASTODON_DOCUMENTED`` is transcribed from docs.joinmastodon.org (the mastodon/documentation
repository, ``content/en/methods/*.md``, as of July 2026), one entry per operation Chirp
serves, leaving out the ``Authorization`` header and path ids (the route itself). ``TABLE``
says what Chirp does with each: honoured (with the test that proves it) or refused (with a
value to send). The tests check that the table covers exactly what Mastodon documents for
every Mastodon operation in ``/openapi.json``, that every pointer names a real test, and that
each refused parameter is answered 422 naming it, with nothing changed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from chirp.follows.models import Follow
from chirp.oauth.models import OAuthApp, OAuthToken
from chirp.posts.models import Post
from chirp.users.models import User
from tests.api.helpers import client_token, register_app
from tests.factories import PASSWORD, auth, make_post, make_token, make_user

Op = tuple[str, str]
UPDATE_CREDENTIALS = "/api/v1/accounts/update_credentials"

MASTODON_DOCUMENTED: dict[Op, list[str]] = {
    ("GET", "/api/v1/instance"): [],
    ("GET", "/api/v2/instance"): [],
    ("POST", "/api/v1/apps"): ["client_name", "redirect_uris", "scopes", "website"],
    ("GET", "/api/v1/apps/verify_credentials"): [],
    ("POST", "/oauth/token"): [
        "grant_type",
        "code",
        "client_id",
        "client_secret",
        "redirect_uri",
        "code_verifier",
        "scope",
    ],
    ("POST", "/oauth/revoke"): ["client_id", "client_secret", "token"],
    ("GET", "/.well-known/oauth-authorization-server"): [],
    ("POST", "/api/v1/accounts"): [
        "username",
        "email",
        "password",
        "agreement",
        "locale",
        "reason",
        "date_of_birth",
    ],
    ("GET", "/api/v1/accounts/verify_credentials"): [],
    ("GET", "/api/v1/preferences"): [],
    ("PATCH", "/api/v1/accounts/update_credentials"): [
        "display_name",
        "note",
        "avatar",
        "header",
        "locked",
        "bot",
        "discoverable",
        "hide_collections",
        "indexable",
        "attribution_domains[]",
        "fields_attributes",
        "source[privacy]",
        "source[sensitive]",
        "source[language]",
        "source[quote_policy]",
    ],
    ("GET", "/api/v1/accounts/relationships"): ["id[]", "with_suspended"],
    ("GET", "/api/v1/accounts/lookup"): ["acct"],
    ("GET", "/api/v1/accounts/:id"): [],
    ("GET", "/api/v1/accounts/:id/statuses"): [
        "max_id",
        "since_id",
        "min_id",
        "limit",
        "only_media",
        "exclude_replies",
        "exclude_reblogs",
        "pinned",
        "tagged",
    ],
    ("GET", "/api/v1/accounts/:id/followers"): ["max_id", "since_id", "min_id", "limit"],
    ("GET", "/api/v1/accounts/:id/following"): ["max_id", "since_id", "min_id", "limit"],
    ("POST", "/api/v1/accounts/:id/follow"): ["reblogs", "notify", "languages[]"],
    ("POST", "/api/v1/accounts/:id/unfollow"): [],
    ("GET", "/api/v1/directory"): ["offset", "limit", "order", "local"],
    ("POST", "/api/v1/statuses"): [
        "Idempotency-Key",
        "status",
        "media_ids[]",
        "poll[options][]",
        "poll[expires_in]",
        "poll[multiple]",
        "poll[hide_totals]",
        "in_reply_to_id",
        "sensitive",
        "spoiler_text",
        "visibility",
        "language",
        "scheduled_at",
        "quoted_status_id",
        "quote_approval_policy",
    ],
    ("GET", "/api/v1/statuses/:id"): [],
    ("POST", "/api/v2/media"): ["file", "thumbnail", "description", "focus"],
    ("POST", "/api/v1/media"): ["file", "thumbnail", "description", "focus"],
    ("GET", "/api/v1/media/:id"): [],
    ("PUT", "/api/v1/media/:id"): ["thumbnail", "description", "focus"],
    ("DELETE", "/api/v1/media/:id"): [],
    ("DELETE", "/api/v1/profile/avatar"): [],
    ("DELETE", "/api/v1/profile/header"): [],
    ("GET", "/api/v1/statuses/:id/context"): [],
    ("DELETE", "/api/v1/statuses/:id"): ["delete_media"],
    ("POST", "/api/v1/statuses/:id/favourite"): [],
    ("POST", "/api/v1/statuses/:id/unfavourite"): [],
    ("GET", "/api/v1/statuses/:id/favourited_by"): ["max_id", "since_id", "limit"],
    ("GET", "/api/v1/favourites"): ["max_id", "since_id", "min_id", "limit"],
    ("GET", "/api/v1/conversations"): ["max_id", "since_id", "min_id", "limit"],
    ("DELETE", "/api/v1/conversations/:id"): [],
    ("POST", "/api/v1/conversations/:id/read"): [],
    ("POST", "/api/v1/statuses/:id/reblog"): ["visibility"],
    ("POST", "/api/v1/statuses/:id/unreblog"): [],
    ("GET", "/api/v1/statuses/:id/reblogged_by"): ["max_id", "since_id", "limit"],
    ("GET", "/api/v1/statuses/:id/quotes"): ["max_id", "since_id", "limit"],
    ("PUT", "/api/v1/statuses/:id/interaction_policy"): ["quote_approval_policy"],
    ("GET", "/api/v1/timelines/home"): ["max_id", "since_id", "min_id", "limit"],
    ("GET", "/api/v1/timelines/public"): [
        "local",
        "remote",
        "only_media",
        "max_id",
        "since_id",
        "min_id",
        "limit",
    ],
    ("GET", "/api/v1/timelines/tag/:id"): [
        "any[]",
        "all[]",
        "none[]",
        "local",
        "remote",
        "only_media",
        "max_id",
        "since_id",
        "min_id",
        "limit",
    ],
    ("GET", "/api/v1/tags/:id"): [],
    ("GET", "/api/v1/trends/tags"): ["limit", "offset"],
    ("GET", "/api/v1/notifications"): [
        "max_id",
        "since_id",
        "min_id",
        "limit",
        "types[]",
        "exclude_types[]",
        "account_id",
        "include_filtered",
        "supported_types[]",
    ],
    ("GET", "/api/v1/notifications/:id"): ["supported_types[]"],
    ("POST", "/api/v1/notifications/clear"): [],
    ("POST", "/api/v1/notifications/:id/dismiss"): [],
    ("GET", "/api/v1/notifications/unread_count"): [
        "limit",
        "types[]",
        "exclude_types[]",
        "account_id",
    ],
    ("GET", "/api/v2/notifications"): [
        "max_id",
        "since_id",
        "min_id",
        "limit",
        "types[]",
        "exclude_types[]",
        "account_id",
        "expand_accounts",
        "grouped_types[]",
        "include_filtered",
        "supported_types[]",
    ],
    ("GET", "/api/v2/notifications/unread_count"): [
        "limit",
        "types[]",
        "exclude_types[]",
        "account_id",
        "grouped_types[]",
    ],
    ("GET", "/api/v2/notifications/:id"): ["supported_types[]"],
    ("GET", "/api/v2/notifications/:id/accounts"): ["max_id", "since_id", "min_id", "limit"],
    ("POST", "/api/v2/notifications/:id/dismiss"): [],
    ("GET", "/api/v1/streaming/health"): [],
    ("GET", "/api/v1/markers"): ["timeline[]"],
    ("POST", "/api/v1/markers"): ["home[last_read_id]", "notifications[last_read_id]"],
    ("POST", "/api/v1/emails/confirmations"): ["email"],
    ("GET", "/api/v1/emails/check_confirmation"): [],
    ("GET", "/api/v1/admin/accounts"): [
        "local",
        "remote",
        "active",
        "pending",
        "disabled",
        "silenced",
        "suspended",
        "sensitized",
        "username",
        "display_name",
        "by_domain",
        "email",
        "ip",
        "staff",
        "max_id",
        "since_id",
        "min_id",
        "limit",
    ],
}
# Chirp's own operations, with no Mastodon counterpart.
CHIRP_ONLY = {("GET", "/health")}
MEDIA_UPLOAD = "tests/media/test_api.py::test_upload_answers_a_mastodon_media_attachment"
MEDIA_REFUSALS = "tests/media/test_api.py::test_unsupported_and_bad_parameters_are_422"
PROFILE_IMAGES = "tests/media/test_api.py::test_avatar_and_header_upload_and_removal"
# Pleroma's emoji reactions (its docs list no parameters but the path's status and emoji):
# tests/reactions/test_api.py.
PLEROMA = {
    (method, "/api/v1/pleroma/statuses/:id/reactions/:id") for method in ("PUT", "DELETE", "GET")
} | {("GET", "/api/v1/pleroma/statuses/:id/reactions")}


@dataclass(frozen=True)
class Honoured:
    """Acted on as Mastodon defines it; ``proof`` is ``path::test`` of the test showing it."""

    proof: str


@dataclass(frozen=True)
class Refused:
    """Refused with 422 naming it; ``value`` is what the test sends."""

    value: Any


VISIBILITY = Honoured(
    "tests/posts/test_visibility.py::test_each_reader_sees_exactly_what_visibility_allows"
)
POST_FIELDS = Honoured(
    "tests/posts/test_post_fields.py::test_content_warning_sensitive_and_language_round_trip"
)
FOLLOW_OPTIONS = Honoured(
    "tests/follows/test_follow_options.py::test_follow_options_are_stored_updated_and_returned"
)
POSTING_DEFAULTS = Honoured(
    "tests/users/test_posting_defaults.py::"
    "test_default_privacy_set_by_api_applies_to_posts_without_visibility"
)
ACCOUNT_FLAGS = Honoured(
    "tests/users/test_posting_defaults.py::test_bad_defaults_are_refused_and_change_nothing"
)
PROFILE = Honoured(
    "tests/users/test_profile_api.py::"
    "test_form_update_sets_bio_fields_locked_and_sensitive_for_every_reader"
)
PAGING = "tests/api/test_timelines.py::test_home_pages_with_link_headers_without_gaps"
ACCOUNT_PAGING = (
    "tests/api/test_mastodon_entities.py::"
    "test_followers_and_following_pages_are_40_by_default_and_80_at_most"
)
NOTHING_TO_FILTER = "tests/api/test_parameters.py::test_filters_chirp_has_nothing_for"
CURSOR_EDGES = "tests/api/test_input_edges.py::test_cursors_are_ascii_digits_in_range_or_422"
OAUTH_FLOW = "tests/oauth/test_flows.py::test_authorization_code_flow"
FAVOURITES = "tests/likes/test_api.py::test_favourites_are_paged_by_favourite_id_newest_like_first"
CONVERSATIONS = (
    "tests/conversations/test_api.py::"
    "test_conversations_are_paged_newest_message_first_with_link_headers"
)
FAVOURITED_BY = (
    "tests/likes/test_api.py::"
    "test_favourited_by_lists_accounts_newest_like_first_paged_by_favourite_id"
)
NOTIFICATION_PAGING = "tests/notifications/test_api.py::test_pages_with_link_headers_and_cursors"
NOTIFICATION_FILTERS = (
    "tests/notifications/test_api.py::test_types_exclude_types_and_account_id_filter"
)
NOTIFICATION_OWN = "tests/notifications/test_api.py::test_get_dismiss_and_clear_touch_only_your_own"
UNREAD = "tests/notifications/test_api.py::test_unread_count_follows_the_notifications_marker"
GROUP_ACCOUNTS = (
    "tests/notifications/test_grouped.py::test_the_accounts_of_a_group_newest_first_in_pages"
)
GROUPED_PAGING = "tests/notifications/test_grouped.py::test_grouped_pages_follow_link_headers"
GROUPED_OPTIONS = (
    "tests/notifications/test_grouped.py::test_grouped_types_filters_and_unsupported_options"
)
GROUP_BY_KEY = (
    "tests/notifications/test_grouped.py::test_one_group_its_dismissal_and_the_unread_group_count"
)
MARKERS = "tests/markers/test_api.py::test_markers_are_saved_read_and_versioned_per_user"
CONFIRMATIONS = (
    "tests/accounts/test_email_confirmation.py"
    "::test_api_sign_up_gets_a_token_that_answers_403_until_confirmed"
)
QUOTES = Honoured("tests/posts/test_quotes.py::test_quote_policies_decide_who_may_quote")

TABLE: dict[Op, dict[str, Honoured | Refused]] = {
    ("GET", "/api/v1/instance"): {},
    ("GET", "/api/v2/instance"): {},
    ("POST", "/api/v1/apps"): {
        "client_name": Honoured("tests/oauth/test_flows.py::test_bad_requests"),
        "redirect_uris": Honoured(OAUTH_FLOW),
        "scopes": Honoured(OAUTH_FLOW),
        "website": Honoured(
            "tests/oauth/test_mastodon_rules.py::test_app_website_must_be_an_http_url"
        ),
    },
    ("GET", "/api/v1/apps/verify_credentials"): {},
    ("POST", "/oauth/token"): {
        "grant_type": Honoured(OAUTH_FLOW),
        "code": Honoured(OAUTH_FLOW),
        "client_id": Honoured(OAUTH_FLOW),
        "client_secret": Honoured("tests/oauth/test_flows.py::test_trailing_slash_oob_and_deny"),
        "redirect_uri": Honoured(
            "tests/oauth/test_mastodon_rules.py::"
            "test_a_code_is_exchanged_only_with_the_redirect_uri_it_was_issued_for"
        ),
        "code_verifier": Honoured("tests/oauth/test_flows.py::test_pkce"),
        "scope": Honoured(
            "tests/oauth/test_scopes.py::test_each_scope_opens_exactly_its_endpoints"
        ),
    },
    ("POST", "/oauth/revoke"): {
        name: Honoured(
            "tests/oauth/test_mastodon_rules.py::"
            "test_revoking_another_clients_token_is_403_and_leaves_it_valid"
        )
        for name in ("client_id", "client_secret", "token")
    },
    ("GET", "/.well-known/oauth-authorization-server"): {},
    ("POST", "/api/v1/accounts"): {
        "username": Honoured("tests/api/test_accounts.py::test_register_with_app_token"),
        "email": Honoured("tests/api/test_accounts.py::test_register_with_app_token"),
        "password": Honoured("tests/api/test_accounts.py::test_register_with_app_token"),
        "agreement": Honoured("tests/api/test_accounts.py::test_register_with_app_token"),
        "locale": Honoured("tests/users/test_posting_defaults.py::test_sign_up_keeps_the_locale"),
        "reason": Refused("Let me in, please"),
        "date_of_birth": Refused("2000-01-01"),
    },
    ("GET", "/api/v1/accounts/verify_credentials"): {},
    ("GET", "/api/v1/preferences"): {},
    ("PATCH", "/api/v1/accounts/update_credentials"): {
        "display_name": POSTING_DEFAULTS,
        "note": POSTING_DEFAULTS,
        # Multipart files; text in their place is refused (test_parameters' REFUSED).
        "avatar": Honoured(PROFILE_IMAGES),
        "header": Honoured(PROFILE_IMAGES),
        "locked": PROFILE,
        # Only the value every Chirp account has is accepted; any other is refused.
        "bot": ACCOUNT_FLAGS,
        "discoverable": ACCOUNT_FLAGS,
        "hide_collections": ACCOUNT_FLAGS,
        "indexable": ACCOUNT_FLAGS,
        "source[sensitive]": PROFILE,
        "attribution_domains[]": Refused(["example.com"]),
        "fields_attributes": PROFILE,
        "source[privacy]": POSTING_DEFAULTS,
        "source[language]": POSTING_DEFAULTS,
        "source[quote_policy]": Refused("nobody"),
    },
    ("GET", "/api/v1/accounts/relationships"): {
        "id[]": Honoured("tests/api/test_accounts.py::test_follow_unfollow_relationships"),
        "with_suspended": Honoured(NOTHING_TO_FILTER),
    },
    ("GET", "/api/v1/accounts/lookup"): {
        "acct": Honoured("tests/api/test_accounts.py::test_account_lookup_and_lists")
    },
    ("GET", "/api/v1/accounts/:id"): {},
    ("GET", "/api/v1/accounts/:id/statuses"): {
        **{name: Honoured(CURSOR_EDGES) for name in ("max_id", "since_id", "min_id", "limit")},
        "only_media": Honoured("tests/media/test_api.py::test_only_media_lists_posts_with_images"),
        "exclude_replies": Honoured(
            "tests/posts/test_replies.py::"
            "test_public_timeline_and_exclude_replies_leave_out_replies_to_others"
        ),
        "exclude_reblogs": Honoured(
            "tests/posts/test_reposts.py::test_public_timeline_leaves_reposts_out_profiles_keep_them"
        ),
        "pinned": Honoured(NOTHING_TO_FILTER),
        "tagged": Refused("chirp"),
    },
    ("GET", "/api/v1/accounts/:id/followers"): {
        name: Honoured(ACCOUNT_PAGING) for name in ("max_id", "since_id", "min_id", "limit")
    },
    ("GET", "/api/v1/accounts/:id/following"): {
        name: Honoured(ACCOUNT_PAGING) for name in ("max_id", "since_id", "min_id", "limit")
    },
    ("POST", "/api/v1/accounts/:id/follow"): {
        "reblogs": FOLLOW_OPTIONS,
        "notify": FOLLOW_OPTIONS,
        "languages[]": Refused(["en"]),
    },
    ("POST", "/api/v1/accounts/:id/unfollow"): {},
    ("GET", "/api/v1/directory"): {
        "offset": Honoured("tests/api/test_accounts.py::test_directory"),
        "limit": Honoured("tests/api/test_accounts.py::test_directory"),
        "order": Honoured(
            "tests/users/test_directory.py::test_directory_lists_the_most_recently_active_first"
        ),
        "local": Honoured(NOTHING_TO_FILTER),
    },
    ("POST", "/api/v1/statuses"): {
        "Idempotency-Key": Honoured(
            "tests/api/test_statuses.py::test_idempotency_key_gives_one_status"
        ),
        "status": Honoured("tests/api/test_statuses.py::test_create_accepts_every_encoding"),
        "media_ids[]": Honoured(
            "tests/media/test_api.py::test_a_post_with_images_shows_them_in_order_everywhere"
        ),
        "poll[options][]": Refused(["yes", "no"]),
        "poll[expires_in]": Refused(3600),
        "poll[multiple]": Refused(True),
        "poll[hide_totals]": Refused(True),
        "in_reply_to_id": Honoured(
            "tests/posts/test_replies.py::test_a_reply_links_to_its_post_and_counts_on_it"
        ),
        "sensitive": POST_FIELDS,
        "spoiler_text": POST_FIELDS,
        "visibility": VISIBILITY,
        "language": POST_FIELDS,
        "scheduled_at": Refused("2099-01-01T00:00:00.000Z"),
        "quoted_status_id": QUOTES,
        "quote_approval_policy": QUOTES,
    },
    ("GET", "/api/v1/statuses/:id"): {},
    **{
        ("POST", path): {
            "file": Honoured(MEDIA_UPLOAD),
            "description": Honoured(MEDIA_UPLOAD),
            "focus": Honoured(MEDIA_UPLOAD),
            # Images need no thumbnail: one sent is refused (a file, so not in REFUSED).
            "thumbnail": Honoured(MEDIA_REFUSALS),
        }
        for path in ("/api/v2/media", "/api/v1/media")
    },
    ("GET", "/api/v1/media/:id"): {},
    ("PUT", "/api/v1/media/:id"): {
        "description": Honoured(MEDIA_UPLOAD),
        "focus": Honoured(MEDIA_UPLOAD),
        "thumbnail": Honoured(MEDIA_REFUSALS),
    },
    ("DELETE", "/api/v1/media/:id"): {},
    ("DELETE", "/api/v1/profile/avatar"): {},
    ("DELETE", "/api/v1/profile/header"): {},
    ("GET", "/api/v1/statuses/:id/context"): {},
    ("DELETE", "/api/v1/statuses/:id"): {"delete_media": Honoured(NOTHING_TO_FILTER)},
    ("POST", "/api/v1/statuses/:id/favourite"): {},
    ("POST", "/api/v1/statuses/:id/unfavourite"): {},
    ("GET", "/api/v1/statuses/:id/favourited_by"): {
        name: Honoured(FAVOURITED_BY) for name in ("max_id", "since_id", "limit")
    },
    ("GET", "/api/v1/favourites"): {
        name: Honoured(FAVOURITES) for name in ("max_id", "since_id", "min_id", "limit")
    },
    ("GET", "/api/v1/conversations"): {
        name: Honoured(CONVERSATIONS) for name in ("max_id", "since_id", "min_id", "limit")
    },
    ("DELETE", "/api/v1/conversations/:id"): {},
    ("POST", "/api/v1/conversations/:id/read"): {},
    ("POST", "/api/v1/statuses/:id/reblog"): {
        "visibility": Honoured("tests/posts/test_reposts.py::test_who_may_reblog_what")
    },
    ("POST", "/api/v1/statuses/:id/unreblog"): {},
    ("GET", "/api/v1/statuses/:id/reblogged_by"): {
        name: Honoured(
            "tests/posts/test_reposts.py::test_reblogged_by_pages_newest_first_with_links"
        )
        for name in ("max_id", "since_id", "limit")
    },
    ("GET", "/api/v1/statuses/:id/quotes"): {
        name: Honoured("tests/posts/test_quotes.py::test_quotes_list_shows_what_the_reader_may_see")
        for name in ("max_id", "since_id", "limit")
    },
    ("PUT", "/api/v1/statuses/:id/interaction_policy"): {
        "quote_approval_policy": Honoured(
            "tests/posts/test_quotes.py::"
            "test_the_author_changes_who_may_quote_and_every_reader_sees_it"
        )
    },
    ("GET", "/api/v1/timelines/home"): {
        name: Honoured(PAGING) for name in ("max_id", "since_id", "min_id", "limit")
    },
    ("GET", "/api/v1/timelines/public"): {
        "local": Honoured(NOTHING_TO_FILTER),
        "remote": Honoured(NOTHING_TO_FILTER),
        "only_media": Honoured("tests/media/test_api.py::test_only_media_lists_posts_with_images"),
        **{name: Honoured(CURSOR_EDGES) for name in ("max_id", "since_id", "min_id", "limit")},
    },
    ("GET", "/api/v1/timelines/tag/:id"): {
        **{
            name: Honoured("tests/tags/test_timeline.py::test_any_all_and_none_filters")
            for name in ("any[]", "all[]", "none[]", "local", "remote", "only_media")
        },
        **{
            name: Honoured(
                "tests/tags/test_timeline.py::test_tag_pages_with_link_headers_and_load_more"
            )
            for name in ("max_id", "since_id", "min_id", "limit")
        },
    },
    ("GET", "/api/v1/tags/:id"): {},
    ("GET", "/api/v1/trends/tags"): {
        name: Honoured("tests/tags/test_trends.py::test_trends_page_by_offset_with_link_headers")
        for name in ("limit", "offset")
    },
    ("GET", "/api/v1/notifications"): {
        **{
            name: Honoured(NOTIFICATION_PAGING)
            for name in ("max_id", "since_id", "min_id", "limit")
        },
        **{name: Honoured(NOTIFICATION_FILTERS) for name in ("types[]", "exclude_types[]")},
        "account_id": Honoured(NOTIFICATION_FILTERS),
        # Chirp has no notification policies (nothing is filtered out) and no fallbacks.
        "include_filtered": Honoured(NOTIFICATION_FILTERS),
        "supported_types[]": Honoured(NOTIFICATION_FILTERS),
    },
    ("GET", "/api/v1/notifications/:id"): {"supported_types[]": Honoured(NOTIFICATION_OWN)},
    ("POST", "/api/v1/notifications/clear"): {},
    ("POST", "/api/v1/notifications/:id/dismiss"): {},
    ("GET", "/api/v1/notifications/unread_count"): {
        name: Honoured(UNREAD) for name in ("limit", "types[]", "exclude_types[]", "account_id")
    },
    ("GET", "/api/v2/notifications"): {
        **{name: Honoured(GROUPED_PAGING) for name in ("max_id", "since_id", "min_id", "limit")},
        **{
            name: Honoured(GROUPED_OPTIONS)
            for name in (
                "types[]",
                "exclude_types[]",
                "account_id",
                "expand_accounts",
                "grouped_types[]",
                "include_filtered",
                "supported_types[]",
            )
        },
    },
    ("GET", "/api/v2/notifications/unread_count"): {
        name: Honoured(GROUP_BY_KEY)
        for name in ("limit", "types[]", "exclude_types[]", "account_id", "grouped_types[]")
    },
    ("GET", "/api/v2/notifications/:id"): {"supported_types[]": Honoured(GROUP_BY_KEY)},
    ("GET", "/api/v2/notifications/:id/accounts"): {
        name: Honoured(GROUP_ACCOUNTS) for name in ("max_id", "since_id", "min_id", "limit")
    },
    ("POST", "/api/v2/notifications/:id/dismiss"): {},
    ("GET", "/api/v1/streaming/health"): {},
    ("GET", "/api/v1/markers"): {"timeline[]": Honoured(MARKERS)},
    ("POST", "/api/v1/markers"): {
        "home[last_read_id]": Honoured(MARKERS),
        "notifications[last_read_id]": Honoured(MARKERS),
    },
    ("POST", "/api/v1/emails/confirmations"): {"email": Honoured(CONFIRMATIONS)},
    ("GET", "/api/v1/emails/check_confirmation"): {},
    ("GET", "/api/v1/admin/accounts"): {
        **{
            name: Honoured(NOTHING_TO_FILTER)
            for name in (
                "local",
                "remote",
                "active",
                "pending",
                "disabled",
                "silenced",
                "suspended",
                "sensitized",
                "by_domain",
                "username",
                "email",
            )
        },
        "staff": Honoured("tests/api/test_accounts.py::test_admin_accounts_only_for_admins"),
        "display_name": Refused("Alice"),
        "ip": Refused("192.0.2.1"),
        **{name: Honoured(CURSOR_EDGES) for name in ("max_id", "since_id", "min_id", "limit")},
    },
}


def _mastodon_path(openapi_path: str) -> str:
    # FastAPI names path ids ({account_id}); Mastodon's docs write :id.
    parts = openapi_path.split("/")
    return "/".join(":id" if p.startswith("{") else p for p in parts)


async def test_the_table_covers_every_documented_parameter_of_every_operation(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    served = {
        (method.upper(), _mastodon_path(path))
        for path, operations in spec["paths"].items()
        for method in operations
    }
    assert served >= PLEROMA
    assert served - CHIRP_ONLY - PLEROMA == set(MASTODON_DOCUMENTED), "an operation lacks its table"
    assert set(TABLE) == set(MASTODON_DOCUMENTED)
    for op, documented in MASTODON_DOCUMENTED.items():
        assert sorted(TABLE[op]) == sorted(documented), op


def test_every_honoured_parameter_points_at_a_real_test() -> None:
    for op, rows in TABLE.items():
        for name, row in rows.items():
            if not isinstance(row, Honoured):
                continue
            path, _, test = row.proof.partition("::")
            module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
            assert callable(getattr(module, test, None)), (op, name, row.proof)


@dataclass
class World:
    """Two users who follow each other, with a post each, and the tokens to act."""

    alice: User
    bob: User
    token: str
    admin_token: str
    app_token: str
    post: Post


async def _world(client: httpx.AsyncClient, session: AsyncSession) -> World:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    root = await make_user(session, "root", is_admin=True)
    await follows_service.follow(session, follower=bob, followee=alice)
    await session.commit()
    post = await make_post(session, alice, "hello")
    await make_post(session, bob, "hi")
    return World(
        alice=alice,
        bob=bob,
        token=await make_token(session, alice),
        admin_token=await make_token(session, root, scopes="read admin:read"),
        app_token=await client_token(client, await register_app(client)),
        post=post,
    )


def _request(op: Op, world: World, extra: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``client.request``: a call that succeeds without ``extra``."""
    if op == ("POST", "/api/v1/statuses"):
        return {"json": {"status": "with extras", **extra}, "headers": auth(world.token)}
    if op == ("POST", "/api/v1/accounts"):
        body = {
            "username": "newbie",
            "email": "newbie@example.com",
            "password": PASSWORD,
            "agreement": True,
        }
        return {"json": {**body, **extra}, "headers": auth(world.app_token)}
    if op in (("POST", "/api/v1/accounts/:id/follow"), ("PATCH", UPDATE_CREDENTIALS)):
        return {"json": extra, "headers": auth(world.token)}
    if op == ("GET", "/api/v1/accounts/:id/statuses"):
        return {"params": extra}
    if op == ("GET", "/api/v1/admin/accounts"):
        return {"params": extra, "headers": auth(world.admin_token)}
    raise AssertionError(f"no request built for {op}")


def _url(op: Op, world: World) -> str:
    target = world.bob.id if op[1].endswith("/follow") else world.alice.id
    return op[1].replace(":id", str(target))


async def _state(session: AsyncSession) -> tuple[int, ...]:
    counts = []
    for model in (Post, Follow, User, OAuthApp, OAuthToken):
        counts.append((await session.execute(select(func.count()).select_from(model))).scalar())
    return tuple(int(c or 0) for c in counts)


REFUSED = [
    (op, name, row.value)
    for op, rows in TABLE.items()
    for name, row in rows.items()
    if isinstance(row, Refused)
]


def _as_sent(name: str, value: Any) -> dict[str, Any]:
    # JSON, as clients send it: ``poll[options][]`` is {"poll": {"options": [...]}}.
    key = name.removesuffix("[]")
    if "[" in key:
        outer, inner = key.rstrip("]").split("[", 1)
        return {outer: {inner: value}}
    return {key: value}


@pytest.mark.parametrize(
    ("op", "name", "value"), REFUSED, ids=[f"{o[1]} {n}" for o, n, _ in REFUSED]
)
async def test_each_refused_parameter_is_422_naming_it_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, op: Op, name: str, value: Any
) -> None:
    world = await _world(client, session)
    before = await _state(session)
    r = await client.request(op[0], _url(op, world), **_request(op, world, _as_sent(name, value)))
    field = name.removesuffix("[]")
    assert r.status_code == 422, (op, name, r.status_code, r.text)
    assert field in r.json()["error"], r.json()
    assert field in r.json().get("details", {}), r.json()
    assert await _state(session) == before
    # Form-encoded, as other clients send it, the same.
    if op[0] in ("POST", "PATCH"):
        kwargs = _request(op, world, {})
        form = {
            k: str(v).lower() if isinstance(v, bool) else v for k, v in kwargs.pop("json").items()
        }
        values = value if isinstance(value, list) else [value]
        form[name] = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
        r = await client.request(op[0], _url(op, world), data=form, **kwargs)
        assert r.status_code == 422 and field in r.json()["error"], (name, r.text)
        assert await _state(session) == before
    # Without it, the same call succeeds: the refusal is the parameter's, not the call's.
    ok = await client.request(op[0], _url(op, world), **_request(op, world, {}))
    assert ok.status_code == 200, (op, ok.text)


async def test_filters_chirp_has_nothing_for(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Mastodon's filters for things Chirp has none of (media, replies, reblogs, pins, remote,
    suspended or moderated accounts) give the answer Mastodon's definition gives here."""
    world = await _world(client, session)
    alice_posts = f"/api/v1/accounts/{world.alice.id}/statuses"
    everything = [s["id"] for s in (await client.get(alice_posts)).json()]
    assert everything == [str(world.post.id)]
    for query, expected in (
        ("only_media=true", []),  # no post has media
        ("pinned=true", []),  # no post is pinned
        ("exclude_reblogs=true", everything),  # no post is a reblog
    ):
        r = await client.get(f"{alice_posts}?{query}")
        assert [s["id"] for s in r.json()] == expected, query

    public = [s["id"] for s in (await client.get("/api/v1/timelines/public")).json()]
    assert len(public) == 2
    for query, expected in (("local=true", public), ("remote=true", []), ("only_media=true", [])):
        r = await client.get(f"/api/v1/timelines/public?{query}")
        assert [s["id"] for s in r.json()] == expected, query

    rel = f"/api/v1/accounts/relationships?id[]={world.bob.id}"
    plain = (await client.get(rel, headers=auth(world.token))).json()
    suspended_too = await client.get(f"{rel}&with_suspended=true", headers=auth(world.token))
    assert suspended_too.json() == plain and plain[0]["followed_by"] is True

    directory = [a["id"] for a in (await client.get("/api/v1/directory")).json()]
    assert [a["id"] for a in (await client.get("/api/v1/directory?local=true")).json()] == directory

    admin = auth(world.admin_token)
    every = {
        a["username"] for a in (await client.get("/api/v1/admin/accounts", headers=admin)).json()
    }
    assert every == {"alice", "bob", "root"}
    for query, expected in (
        ("local=true", every),
        ("active=true", every),
        ("remote=true", set()),
        ("by_domain=mastodon.social", set()),
        ("pending=true", set()),
        ("disabled=true", set()),
        ("silenced=true", set()),
        ("suspended=true", set()),
        ("sensitized=true", set()),
        ("username=ali", {"alice"}),
        ("email=bob@", {"bob"}),
    ):
        r = await client.get(f"/api/v1/admin/accounts?{query}", headers=admin)
        assert {a["username"] for a in r.json()} == expected, query

    r = await client.delete(
        f"/api/v1/statuses/{world.post.id}?delete_media=true", headers=auth(world.token)
    )
    assert r.status_code == 200 and r.json()["media_attachments"] == []
    assert (await client.get(f"/api/v1/statuses/{world.post.id}")).status_code == 404

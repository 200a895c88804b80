"""Collects every web page router; all of them are CSRF-protected."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from chirp.accounts import pages as accounts_pages
from chirp.auth import pages as auth_pages
from chirp.conversations import pages as conversations_pages
from chirp.exports import pages as exports_pages
from chirp.follows import pages as follows_pages
from chirp.likes import pages as likes_pages
from chirp.media import pages as media_pages
from chirp.notifications import pages as notifications_pages
from chirp.oauth import pages as oauth_pages
from chirp.posts import pages as posts_pages
from chirp.posts import repost_pages
from chirp.reactions import pages as reactions_pages
from chirp.tags import pages as tags_pages
from chirp.timeline import pages as timeline_pages
from chirp.users import pages as users_pages
from chirp.users import profile_pages
from chirp.web.csrf import verify_csrf

# Every full page shows the trending tags in its side column.
web_router = APIRouter(
    dependencies=[Depends(verify_csrf), Depends(tags_pages.show_trending)],
    include_in_schema=False,
)

# Fixed paths first: "/@{username}/followers" must win over "/@{username}/{post_id}".
for module in (
    auth_pages,
    accounts_pages,
    timeline_pages,
    users_pages,
    profile_pages,
    exports_pages,
    follows_pages,
    posts_pages,
    media_pages,
    likes_pages,
    conversations_pages,
    notifications_pages,
    reactions_pages,
    repost_pages,
    tags_pages,
    oauth_pages,
):
    web_router.include_router(module.router)

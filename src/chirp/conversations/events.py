"""Where live updates learn of a new direct message (the streaming API hooks in here)."""

from __future__ import annotations

from chirp.posts.models import Post


async def direct_message_stored(post: Post) -> None:
    """STREAMING HOOK: called once a direct message is committed (in the process that wrote it).

    Mastodon sends each participant a ``conversation`` event (their Conversation entity, as
    ``GET /api/v1/conversations`` gives it) on the ``direct`` stream. The streaming API
    (another part of issue 15) publishes it from here; until then this does nothing.
    """
    del post

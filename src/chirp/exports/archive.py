"""Build one user's archive: a zip of their profile, posts, follows, followers and likes,
and the images of their posts, avatar and header (``media/``).

Rows are read in batches by id and written as they come, so memory stays bounded however
much a user posted: one batch of rows, and one image at a time. posts.json is spooled to a
temporary file while the images of each batch go into the zip (a zip is written one entry
at a time), then copied in, so what it says is exactly what the zip holds. Compressing and
writing run in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from chirp.config import Settings
from chirp.follows.models import Follow
from chirp.likes.models import Favourite
from chirp.media import service as media_service
from chirp.media.models import MediaAttachment
from chirp.media.storage import NotStored, Storage, content_type_of, extension_of
from chirp.posts.models import Post
from chirp.users.models import User

# Rows read, and written, at a time.
BATCH = 500
# Progress counts an image as one row plus one per MEDIA_UNIT bytes, so the bar moves while
# images are written: a row (read, encoded, compressed) took about as long as copying 8 KB
# of an image from local disk into the zip (S3 is slower still, so this errs toward rows).
MEDIA_UNIT = 8 * 1024
# Missing files named in the README; more are only counted.
MISSING_LISTED = 50
# Read and written at a time when posts.json is copied into the zip.
COPY_CHUNK = 2**20

Report = Callable[[int], Awaitable[None]]

README = """\
Your data from {title} ({base_url}), for @{username}, made {made} (UTC).

profile.json
    Your account: username, display name, bio and profile fields as you typed them,
    posting defaults, email address and when you joined. "avatar" and "header" name the
    files of the pictures you uploaded (media/avatar.<ext>, media/header.<ext>), or are
    null when you have none.
posts.json
    Every post you wrote, reposted or sent as a direct message, oldest first: a JSON array
    of objects with "id", "url", "created_at" (ISO 8601, UTC), "text" (as typed),
    "visibility" (public, unlisted, private = followers only, direct), "spoiler_text"
    (content warning), "sensitive", "language", and the ids of the post it answers
    ("in_reply_to_id"), reposts ("reblog_of_id", with empty text) or quotes
    ("quote_of_id"); null when none. "media" lists the images of the post, in order:
    "file" (its path in this archive, under media/), "type" (Mastodon's media type, such
    as "image"), "content_type", "description" (its alt text), "width" and "height".
following_accounts.csv
    The accounts you follow, in Mastodon's import format (Account address, Show boosts,
    Notify on new posts, Languages), so another server can import it.
followers.csv
    The accounts that follow you (Account address).
likes.csv
    The posts you liked, oldest like first (Post URL, Liked at).
media/
    The images of your posts (media/<id>.<ext>, named in posts.json) and your avatar and
    header, as this server keeps them: after upload, with metadata such as the camera
    and location removed.
{missing}"""

MISSING = """\
Missing files
    {count} of your files could not be found in this server's storage, so they are not in
    this archive; where they belong, "file", "avatar" or "header" is null:
{listed}"""


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _id(value: int | None) -> str | None:
    return None if value is None else str(value)


class _Zip:
    """A zip file written from a thread, one entry at a time, each streamed in pieces."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        self.entry: IO[bytes] | None = None

    async def open(self) -> None:
        self.zip = await asyncio.to_thread(
            zipfile.ZipFile, self.path, "w", zipfile.ZIP_DEFLATED, True, 6
        )

    async def start(self, name: str, *, compress: bool = True) -> None:
        assert self.zip is not None and self.entry is None
        info = zipfile.ZipInfo(name, date_time=datetime.now(UTC).timetuple()[:6])
        # Images are compressed already: deflating them again costs time and saves nothing.
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        # force_zip64: an entry's size is not known before it is written.
        self.entry = await asyncio.to_thread(self.zip.open, info, "w", force_zip64=True)

    async def write(self, text: str | bytes) -> None:
        assert self.entry is not None
        data = text.encode() if isinstance(text, str) else text
        await asyncio.to_thread(self.entry.write, data)

    async def end(self) -> None:
        assert self.entry is not None
        entry, self.entry = self.entry, None
        await asyncio.to_thread(entry.close)

    async def whole(self, name: str, text: str) -> None:
        await self.start(name)
        await self.write(text)
        await self.end()

    async def file(self, name: str, data: bytes) -> None:
        """Add an image as it is (stored, not compressed)."""
        await self.start(name, compress=False)
        await self.write(data)
        await self.end()

    async def copy(self, name: str, source: IO[bytes]) -> None:
        """Add the contents of a file, read from its start in pieces."""
        await self.start(name)
        entry = self.entry
        assert entry is not None

        def copy() -> None:
            source.seek(0)
            shutil.copyfileobj(source, entry, COPY_CHUNK)

        await asyncio.to_thread(copy)
        await self.end()

    async def close(self) -> None:
        if self.entry is not None:
            await self.end()
        if self.zip is not None:
            await asyncio.to_thread(self.zip.close)


def _csv(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


class _Builder:
    """Writes one user's archive, reporting progress as a share of the rows and images
    written (an image weighs by its size, ``MEDIA_UNIT``)."""

    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        media: Storage,
        user: User,
        writer: _Zip,
        report: Report,
    ) -> None:
        self.session = session
        self.settings = settings
        self.media = media
        self.user = user
        self.zip = writer
        self.report = report
        self.base = settings.base_url
        self.total = 1
        self.done = 0
        self.shown = -1
        # Files the storage did not have: how many, and the first ones, for the README.
        self.missing = 0
        self.missing_listed: list[str] = []

    def address(self, username: str) -> str:
        return f"{username}@{self.settings.domain}"

    async def advance(self, rows: int) -> None:
        self.done += rows
        # Never 100 before the archive is saved: that is the job's to say.
        percent = min(99, self.done * 100 // self.total)
        if percent != self.shown:
            self.shown = percent
            await self.report(percent)

    async def batches(
        self, stmt: Select[*tuple[Any, ...]], key: Any, *, start: int = 0
    ) -> AsyncIterator[Sequence[Row[Any]]]:
        """Rows of ``stmt`` in batches, by ascending ``key`` (an id column), from ``start``."""
        last = start
        while True:
            rows = (await self.session.execute(stmt.where(key > last).limit(BATCH))).all()
            # Each batch is its own read: no transaction is held while the zip is written.
            await self.session.commit()
            if not rows:
                return
            yield rows
            last = rows[-1][0]
            if len(rows) < BATCH:
                return

    async def count(self) -> int:
        uid = self.user.id
        counts = [
            select(func.count()).select_from(Post).where(Post.author_id == uid),
            select(func.count()).select_from(Follow).where(Follow.follower_id == uid),
            select(func.count()).select_from(Follow).where(Follow.followee_id == uid),
            select(func.count()).select_from(Favourite).where(Favourite.user_id == uid),
            # The images of the user's posts, as ``posted_image`` advances by them.
            select(func.coalesce(func.sum(1 + MediaAttachment.original_size // MEDIA_UNIT), 0))
            .select_from(MediaAttachment)
            .join(Post, Post.id == MediaAttachment.post_id)
            .where(Post.author_id == uid),
        ]
        total = 0
        for stmt in counts:
            total += int((await self.session.execute(stmt)).scalar_one())
        await self.session.commit()
        return total

    async def build(self) -> None:
        self.total = max(1, await self.count())
        await self.profile()
        await self.posts()
        await self.following()
        await self.followers()
        await self.likes()
        made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
        await self.zip.whole(
            "README.txt",
            README.format(
                title=self.settings.instance_title,
                base_url=self.base,
                username=self.user.username,
                made=made,
                missing=self.missing_section(),
            ),
        )

    def missing_section(self) -> str:
        """The README's list of files the storage did not have ("" when none)."""
        if not self.missing:
            return ""
        lines = [f"    - {what}\n" for what in self.missing_listed]
        if self.missing > len(self.missing_listed):
            lines.append(f"    - and {self.missing - len(self.missing_listed)} more\n")
        return MISSING.format(count=self.missing, listed="".join(lines))

    async def stored(self, key: str, what: str) -> bytes | None:
        """The bytes of a stored file, or None (noted for the README) if it is missing.

        A file lost by the storage must not cost the user the rest of their archive; any
        other failure (the storage unreachable) fails the job, which is tried again.
        """
        try:
            return await self.media.get(key)
        except NotStored:
            self.missing += 1
            if len(self.missing_listed) < MISSING_LISTED:
                self.missing_listed.append(what)
            return None

    async def picture(self, kind: str, key: str | None) -> str | None:
        """Add the user's avatar or header as ``media/<kind>.<ext>``; its path, if added."""
        if key is None:
            return None
        data = await self.stored(key, f"your {kind}")
        if data is None:
            return None
        name = f"media/{kind}.{extension_of(key)}"
        await self.zip.file(name, data)
        return name

    async def posted_image(
        self, attachment: media_service.Attachment, post_url: str
    ) -> dict[str, Any]:
        """Add an image of a post as ``media/<id>.<ext>``; what posts.json says of it."""
        key = attachment.original_key
        data = await self.stored(key, f"an image of {post_url}")
        name: str | None = None
        if data is not None:
            name = f"media/{attachment.id}.{extension_of(key)}"
            await self.zip.file(name, data)
        await self.advance(1 + (len(data) if data is not None else 0) // MEDIA_UNIT)
        return {
            "file": name,
            "type": attachment.type,
            "content_type": content_type_of(key),
            "description": attachment.description,
            "width": attachment.original_width,
            "height": attachment.original_height,
        }

    async def profile(self) -> None:
        user = self.user
        data = {
            "id": str(user.id),
            "username": user.username,
            "acct": self.address(user.username),
            "url": f"{self.base}/@{user.username}",
            "display_name": user.display_name,
            "note": user.bio,
            "fields": user.fields or [],
            "locked": user.locked,
            "email": user.email,
            "created_at": _iso(user.created_at),
            "posting_defaults": {
                "visibility": user.default_privacy,
                "sensitive": user.default_sensitive,
                "language": user.default_language,
            },
            "locale": user.locale,
            "avatar": await self.picture("avatar", user.avatar_key),
            "header": await self.picture("header", user.header_key),
        }
        await self.zip.whole("profile.json", json.dumps(data, ensure_ascii=False, indent=2))

    async def posts(self) -> None:
        # Deleted when closed, and by the system if the job dies first.
        with tempfile.TemporaryFile("w+b", dir=self.zip.path.parent) as spool:
            await self.spool_posts(spool)
            await self.zip.copy("posts.json", spool)

    async def spool_posts(self, spool: IO[bytes]) -> None:
        """Write posts.json to ``spool``, and the images of the posts into the zip."""
        stmt = (
            select(
                Post.id,
                Post.created_at,
                Post.text,
                Post.visibility,
                Post.spoiler_text,
                Post.sensitive,
                Post.language,
                Post.in_reply_to_id,
                Post.reblog_of_id,
                Post.quote_of_id,
            )
            .where(Post.author_id == self.user.id)
            .order_by(Post.id)
        )
        url = f"{self.base}/@{self.user.username}/"

        async def put(text: str) -> None:
            await asyncio.to_thread(spool.write, text.encode())

        await put("[")
        first = True
        async for rows in self.batches(stmt, Post.id):
            images = await media_service.for_posts(self.session, [r.id for r in rows])
            await self.session.commit()  # no transaction is held while images are read
            items = []
            for r in rows:
                media = [
                    await self.posted_image(attachment, url + str(r.id))
                    for attachment in images.get(r.id, ())
                ]
                item = {
                    "id": str(r.id),
                    "url": url + str(r.id),
                    "created_at": _iso(r.created_at),
                    "text": r.text,
                    "visibility": r.visibility,
                    "spoiler_text": r.spoiler_text,
                    "sensitive": r.sensitive,
                    "language": r.language,
                    "in_reply_to_id": _id(r.in_reply_to_id),
                    "reblog_of_id": _id(r.reblog_of_id),
                    "quote_of_id": _id(r.quote_of_id),
                    "media": media,
                }
                items.append(json.dumps(item, ensure_ascii=False))
            await put(("\n" if first else ",\n") + ",\n".join(items))
            first = False
            await self.advance(len(rows))
        await put("\n]\n")

    async def following(self) -> None:
        stmt = (
            select(Follow.id, User.username, Follow.show_reblogs, Follow.notify)
            .join(User, User.id == Follow.followee_id)
            .where(Follow.follower_id == self.user.id)
            .order_by(Follow.id)
        )
        await self.zip.start("following_accounts.csv")
        await self.zip.write(
            _csv([("Account address", "Show boosts", "Notify on new posts", "Languages")])
        )
        async for rows in self.batches(stmt, Follow.id):
            lines = [
                (self.address(r.username), str(r.show_reblogs).lower(), str(r.notify).lower(), "")
                for r in rows
            ]
            await self.zip.write(_csv(lines))
            await self.advance(len(rows))
        await self.zip.end()

    async def followers(self) -> None:
        stmt = (
            select(Follow.id, User.username)
            .join(User, User.id == Follow.follower_id)
            .where(Follow.followee_id == self.user.id)
            .order_by(Follow.id)
        )
        await self.zip.start("followers.csv")
        await self.zip.write(_csv([("Account address",)]))
        async for rows in self.batches(stmt, Follow.id):
            await self.zip.write(_csv([(self.address(r.username),) for r in rows]))
            await self.advance(len(rows))
        await self.zip.end()

    async def likes(self) -> None:
        author = aliased(User)
        stmt = (
            select(Favourite.id, Favourite.post_id, Favourite.created_at, author.username)
            .join(Post, Post.id == Favourite.post_id)
            .join(author, author.id == Post.author_id)
            .where(Favourite.user_id == self.user.id)
            .order_by(Favourite.id)
        )
        await self.zip.start("likes.csv")
        await self.zip.write(_csv([("Post URL", "Liked at")]))
        async for rows in self.batches(stmt, Favourite.id):
            lines = [(f"{self.base}/@{r.username}/{r.post_id}", _iso(r.created_at)) for r in rows]
            await self.zip.write(_csv(lines))
            await self.advance(len(rows))
        await self.zip.end()


async def build(
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    media: Storage,
    user_id: int,
    path: Path,
    report: Report,
) -> bool:
    """Write the archive of ``user_id``, images from ``media``, to ``path``; False if the
    account is gone."""
    async with session_factory() as session:
        user = await session.get(User, user_id)
        if user is None:
            return False
        writer = _Zip(path)
        await writer.open()
        try:
            await _Builder(session, settings, media, user, writer, report).build()
        finally:
            await writer.close()
    return True

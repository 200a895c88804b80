"""The media attachments table: one uploaded image, attached to at most one post."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from chirp.db import Base, SnowflakePK, utcnow

# Processing is synchronous (in a thread), so a row is written only once it is ready; the
# status column is there for a background path (Mastodon's 202) without a migration.
READY = "ready"


class MediaAttachment(SnowflakePK, Base):
    """An uploaded image: its stored original and preview, alt text, focus and blurhash."""

    __tablename__ = "media_attachments"

    account_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The post it is shown with; None until a post is published with it. A post's
    # attachments go with it (their files are deleted by a job once nothing refers to them).
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), default=None
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Mastodon's MediaAttachment type: "image", or "gifv" for an animated GIF or WebP.
    type: Mapped[str] = mapped_column(String(10), default="image")
    status: Mapped[str] = mapped_column(String(10), default=READY)
    description: Mapped[str] = mapped_column(Text, default="")
    focus_x: Mapped[float] = mapped_column(Float, default=0.0)
    focus_y: Mapped[float] = mapped_column(Float, default=0.0)
    blurhash: Mapped[str | None] = mapped_column(String(100), default=None)
    content_type: Mapped[str] = mapped_column(String(30))
    original_key: Mapped[str] = mapped_column(String(100))
    original_width: Mapped[int] = mapped_column(Integer)
    original_height: Mapped[int] = mapped_column(Integer)
    original_size: Mapped[int] = mapped_column(BigInteger)
    small_key: Mapped[str] = mapped_column(String(100))
    small_width: Mapped[int] = mapped_column(Integer)
    small_height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # A post's attachments in order (partial: unattached uploads are not in it).
        Index(
            "ix_media_attachments_post_id_position",
            "post_id",
            "position",
            postgresql_where=sql_text("post_id IS NOT NULL"),
            sqlite_where=sql_text("post_id IS NOT NULL"),
        ),
        # Uploads never attached, oldest first: what the clean-up job deletes.
        Index(
            "ix_media_attachments_unattached_created_at",
            "created_at",
            postgresql_where=sql_text("post_id IS NULL"),
            sqlite_where=sql_text("post_id IS NULL"),
        ),
        # Whether a stored file is still referred to (the same bytes share a key).
        Index("ix_media_attachments_original_key", "original_key"),
        Index("ix_media_attachments_small_key", "small_key"),
        # An account's own uploads (its media tab, account deletion).
        Index("ix_media_attachments_account_id_id", "account_id", "id"),
    )

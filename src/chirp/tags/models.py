"""Hashtag tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from chirp.db import Base, SnowflakePK, utcnow


class Tag(SnowflakePK, Base):
    """A hashtag, matched regardless of case (``name_key``), shown as first written."""

    __tablename__ = "tags"

    name: Mapped[str] = mapped_column(String(100))
    # ``entities.tag_key(name)``: NFKC, case-folded.
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PostTag(Base):
    """A public post uses a tag: the rows tag timelines and trends read.

    Only public posts are here, as only they appear on tag pages and in trends (an unlisted
    post is left out of both, as on Mastodon); a post's own tags come from its text.
    """

    __tablename__ = "post_tags"

    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    # Trends count distinct authors, not posts, without reading the posts table.
    author_id: Mapped[int] = mapped_column(BigInteger)

    # The last day's uses (trends) are a range of post ids, which are time-ordered.
    __table_args__ = (Index("ix_post_tags_post_id", "post_id"),)

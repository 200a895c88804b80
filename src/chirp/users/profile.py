"""What showing an account needs: a ``User`` row, or an ``Author`` read without the ORM."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class Shown:
    """How an account is shown, from fields every account has (a mixin of User and Author)."""

    __slots__ = ()

    @property
    def name(self: Profile) -> str:
        """Display name, or the username when none is set."""
        return self.display_name or self.username


class Profile(Protocol):
    """The public face of an account, as posts and Account entities show it."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...

    @property
    def display_name(self) -> str: ...

    @property
    def email_key(self) -> str: ...

    @property
    def bio(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def last_post_at(self) -> datetime | None: ...

    @property
    def posts_count(self) -> int: ...

    @property
    def followers_count(self) -> int: ...

    @property
    def following_count(self) -> int: ...

    @property
    def fields(self) -> list[dict[str, str]] | None: ...

    @property
    def bio_mentions(self) -> list[list[Any]] | None: ...

    @property
    def locked(self) -> bool: ...

    @property
    def avatar_key(self) -> str | None: ...

    @property
    def header_key(self) -> str | None: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Author(Shown):
    """A post's author as a plain row (a ``Profile``), for pages that show many of them."""

    # Not a ``User``: making ORM instances cost a home page more than its authors query did.
    # Its fields name the users columns it is read from (``timeline.service.AUTHOR_COLUMNS``).

    id: int
    username: str
    display_name: str
    bio: str
    email_key: str
    created_at: datetime
    last_post_at: datetime | None
    posts_count: int
    followers_count: int
    following_count: int
    fields: list[dict[str, str]] | None
    bio_mentions: list[list[Any]] | None
    locked: bool
    avatar_key: str | None = None
    header_key: str | None = None

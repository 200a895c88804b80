"""Cursor pagination by id, with Mastodon's max_id / since_id / min_id semantics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Integer, Select, bindparam
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: older than ``max_id``, newer than ``since_id`` or ``min_id``."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = DEFAULT_LIMIT

    def clamp(self, maximum: int = MAX_LIMIT) -> Cursor:
        """Return this cursor with its limit forced into 1..maximum."""
        return Cursor(self.max_id, self.since_id, self.min_id, max(1, min(self.limit, maximum)))


@dataclass(frozen=True)
class CursorShape:
    """Which bounds a cursor sets: statements built once per shape take the values as binds."""

    max_id: bool
    since_id: bool
    min_id: bool

    @classmethod
    def of(cls, cursor: Cursor) -> CursorShape:
        """The shape of a cursor."""
        return cls(
            cursor.max_id is not None, cursor.since_id is not None, cursor.min_id is not None
        )


def cursor_params(cursor: Cursor) -> dict[str, int]:
    """Bind values for a statement made by ``bind_cursor`` for this cursor's shape."""
    params = {"limit": cursor.limit}
    for name in ("max_id", "since_id", "min_id"):
        value = getattr(cursor, name)
        if value is not None:
            params[name] = value
    return params


def bind_cursor(stmt: Select[*tuple[Any, ...]], key: Any, shape: CursorShape) -> Select[Any]:
    """Bound and order ``stmt`` by ``key`` for a cursor shape, values left to ``cursor_params``."""
    if shape.max_id:
        stmt = stmt.where(key < bindparam("max_id", type_=BigInteger))
    if shape.since_id:
        stmt = stmt.where(key > bindparam("since_id", type_=BigInteger))
    limit = bindparam("limit", type_=Integer)
    if shape.min_id:
        # The page immediately after min_id: walk forwards (the caller flips it to newest first).
        return (
            stmt.where(key > bindparam("min_id", type_=BigInteger)).order_by(key.asc()).limit(limit)
        )
    return stmt.order_by(key.desc()).limit(limit)


def apply_cursor(
    stmt: Select[*tuple[Any, ...]], key: InstrumentedAttribute[int], cursor: Cursor
) -> Select[Any]:
    """Bound and order ``stmt`` by ``key``: newest first, or oldest first after ``min_id``."""
    return bind_cursor(stmt, key, CursorShape.of(cursor)).params(cursor_params(cursor))


async def fetch_page(
    session: AsyncSession,
    stmt: Select[*tuple[Any, ...]],
    key: InstrumentedAttribute[int],
    cursor: Cursor,
) -> list[Any]:
    """Run a one-entity ``stmt`` bounded by ``cursor`` and return entities newest first."""
    return [row[0] for row in await fetch_rows(session, stmt, key, cursor)]


async def fetch_rows(
    session: AsyncSession,
    stmt: Select[*tuple[Any, ...]],
    key: InstrumentedAttribute[int],
    cursor: Cursor,
) -> list[Any]:
    """Run ``stmt`` bounded by ``cursor`` and return its rows newest first."""
    rows: Sequence[Any] = (await session.execute(apply_cursor(stmt, key, cursor))).all()
    result = list(rows)
    if cursor.min_id is not None:
        result.reverse()
    return result

"""Declarative base, column types, and the async engine and session factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVarTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Insert,
    MetaData,
    Select,
    SQLColumnExpression,
    Table,
    any_,
    bindparam,
    event,
    exc,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect, ExceptionContext, Row
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from chirp.ids import new_id

_Ts = TypeVarTuple("_Ts")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def in_list(values: Iterable[int]) -> list[int]:
    """Distinct ids, sorted, as the value of an ``id_in`` parameter."""
    return sorted(set(values))


def id_in(column: SQLColumnExpression[int], name: str, *, array: bool) -> ColumnElement[bool]:
    """``column`` is one of the ids bound to ``name``: one array parameter, or an expanded list.

    On PostgreSQL (``array``) ``= ANY(:name)`` is a single parameter, so the statement text
    never changes with the list's length and nothing is rendered per execution; an expanded
    ``IN`` is re-rendered on every call, which cost more than running the query.
    """
    if array:
        return column == any_(bindparam(name, type_=ARRAY(BigInteger)))
    return column.in_(bindparam(name, expanding=True))


def on_postgresql(session: AsyncSession) -> bool:
    """Whether this session talks to PostgreSQL (for what SQLite cannot do in one statement)."""
    return session.get_bind().dialect.name == "postgresql"


def insert_ignoring_duplicates(
    session: AsyncSession, table: Table, values: dict[str, Any] | list[dict[str, Any]]
) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING``: a row already there (or racing in) is left alone."""
    dialect: Any = postgresql if on_postgresql(session) else sqlite
    statement: Insert = dialect.insert(table).values(values).on_conflict_do_nothing()
    return statement


def takes_arrays(session: AsyncSession) -> bool:
    """Whether this session's database takes id lists as one array parameter (``id_in``)."""
    return on_postgresql(session)


async def read_outside_transaction(
    session: AsyncSession, stmt: Select[*_Ts], params: dict[str, Any]
) -> Sequence[Row[*_Ts]]:
    """The rows of a read; if the session has no transaction open, none is begun for it."""
    # A warm home page reads only the token and the page's authors. On PostgreSQL, reading
    # them in autocommit mode sends no BEGIN and no ROLLBACK (two round trips instead of
    # four), and the connection goes back to the pool after each read instead of being held
    # while the request works with Redis (at 64 connections this halved the home page's
    # p99). A later write begins a transaction on a connection as usual; with one already
    # open, the read runs inside it.
    bind = session.bind
    if (
        session.in_transaction()
        or not isinstance(bind, AsyncEngine)
        or bind.dialect.name != "postgresql"
    ):
        return (await session.execute(stmt, params)).all()
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    try:
        rows = (await session.execute(stmt, params)).all()
    except BaseException:
        await session.rollback()  # hands the connection back; the error is what matters
        raise
    await session.commit()  # nothing to commit: it hands the connection back
    return rows


def utcnow() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base of every ORM model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, int: BigInteger}


class SnowflakePK:
    """Mixin: a 64-bit time-ordered primary key made in Python."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and delays BEGIN; take it over,
    # as SQLAlchemy's SQLite documentation recommends, and turn on WAL and foreign keys.
    # BEGIN IMMEDIATE takes the write lock up front: a deferred transaction that reads and
    # then writes fails at once with "database is locked" when another connection wrote in
    # between (SQLite cannot wait there), while an immediate one waits its turn.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def show_written(obj: object, **values: Any) -> None:
    """Set attributes of a loaded row to values SQL has already written to it."""
    # A plain assignment would mark the row changed, and the next flush would write the
    # loaded value back: an UPDATE more, which also undoes a concurrent increment.
    for key, value in values.items():
        set_committed_value(obj, key, value)


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine for ``url`` with the settings each database needs."""
    # Statement parameters are users' emails and password hashes: never in error messages
    # (and so never in logs).
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 0)  # see Settings.database_max_overflow
    # Recycling retires connections before servers or proxies drop idle ones.
    kwargs.setdefault("pool_recycle", 1800)
    engine = create_async_engine(url, **kwargs)
    _skip_closed_connections(engine)
    return engine


def _skip_closed_connections(engine: AsyncEngine) -> None:
    # After a database restart every pooled connection is dead, and the first request on
    # each failed. A pre-ping would cost a round trip on every checkout (a warm home page
    # checks out twice); but a restarting server closes its connections, and the event loop
    # has seen that by the next checkout, so asking asyncpg costs nothing. DisconnectionError
    # makes the pool discard the connection and hand out a fresh one.
    @event.listens_for(engine.sync_engine, "checkout")  # the engine's pool, even recreated
    def _on_checkout(_dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        driver_conn = record.driver_connection
        if driver_conn is not None and driver_conn.is_closed():
            raise exc.DisconnectionError("connection closed by the server")

    # A statement that got no answer within asyncpg's command_timeout leaves its connection
    # mid-conversation; where the network drops packets, the rollback that follows waited as
    # long again, and a graceful close two seconds more. Drop that connection at once, and
    # only it: the rest of the pool may be fine (a slow statement, not a dead server).
    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        if not isinstance(context.original_exception, TimeoutError) or context.connection is None:
            return
        driver_conn = context.connection.connection.driver_connection
        if driver_conn is not None:
            driver_conn.terminate()
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = False


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Create the session factory used by requests, jobs and commands."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Yield a session that is closed afterwards (requests commit explicitly)."""
    async with factory() as session:
        yield session

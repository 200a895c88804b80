"""Tell a store being unreachable (the database, Redis) from a bug, by the error raised."""

from __future__ import annotations

import errno
import socket
import sqlite3
from collections.abc import Iterator

import asyncpg  # type: ignore[import-untyped]
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import exc as sa_exc

_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EPIPE,
    errno.ETIMEDOUT,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.EADDRNOTAVAIL,
}
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    TimeoutError,  # asyncpg's connect and command timeouts
    sa_exc.TimeoutError,  # no pooled connection came free in time
    sa_exc.DisconnectionError,
    socket.gaierror,  # the database's host name does not resolve (DNS down)
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.CannotConnectNowError,  # the server is starting up or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.QueryCanceledError,  # statement_timeout: the database is overloaded
    asyncpg.ConnectionDoesNotExistError,
    RedisConnectionError,
    RedisTimeoutError,
)
# asyncpg says "connection is closed" when asked to use one the server closed.
_CLIENT_ERRORS: tuple[type[BaseException], ...] = (asyncpg.InterfaceError,)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    # Causes only (``raise ... from`` and SQLAlchemy's ``orig``), not the errors being
    # handled when ``exc`` was raised: a bug in an ``except`` block is still a bug.
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        todo.append(current.__cause__)
        if isinstance(orig, BaseException):
            todo.append(orig)


def unavailability(exc: BaseException) -> BaseException | None:
    """The error in ``exc``'s chain saying a store is unreachable or overloaded, if any.

    Everything else (a constraint violated, a syntax error, a missing table) is a bug.
    """
    for err in _chain(exc):
        if isinstance(err, _UNAVAILABLE):
            return err
        if isinstance(err, sa_exc.DBAPIError) and err.connection_invalidated:
            return err
        if isinstance(err, OSError) and (
            err.errno in _NETWORK_ERRNOS or str(err).startswith("Multiple exceptions")
        ):
            return err  # "Multiple exceptions": refused on every address of the host
        if isinstance(err, _CLIENT_ERRORS) and "connection is closed" in str(err):
            return err
        if isinstance(err, sqlite3.OperationalError) and "locked" in str(err):
            return err  # another process held SQLite's write lock past busy_timeout
    return None


def describe(exc: BaseException) -> str:
    """A one-line description of an error, without its traceback."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__

"""Alembic environment: runs migrations on the async engine of the configured database."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from chirp import models  # noqa: F401 - registers every table on Base.metadata
from chirp.config import Settings
from chirp.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("database_url")
    return str(url) if url else Settings().database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(_url())
    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it and dropping the old one; with foreign keys
            # on, that drop deletes (ON DELETE CASCADE) every row that refers to the table:
            # dropping a column of users would empty posts. Off outside the transaction (it
            # cannot change inside one), and checked once the migrations are committed.
            await connection.run_sync(_raw, "PRAGMA foreign_keys=OFF")
        await connection.run_sync(_run)
        await connection.commit()
        if sqlite:
            broken = await connection.run_sync(_raw, "PRAGMA foreign_key_check")
            if broken:
                raise RuntimeError(f"the migration left rows that refer to nothing: {broken}")
            await connection.run_sync(_raw, "PRAGMA foreign_keys=ON")
    await engine.dispose()


def _raw(connection: Connection, sql: str) -> list[Any]:
    """Run ``sql`` on the driver's connection, outside any transaction SQLAlchemy opens."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def run_offline() -> None:
    """Emit SQL to stdout instead of running it."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async())

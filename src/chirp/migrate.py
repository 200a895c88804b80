"""Apply and inspect Alembic migrations from code (CLI, server start, tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config(database_url: str) -> Config:
    """Return an Alembic config pointing at Chirp's migrations and ``database_url``."""
    cfg = Config()
    cfg.set_main_option("script_location", "chirp:migrations")
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database at ``database_url`` to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    """Return the newest migration's revision id."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    """Return the revision the database is at, or None when it was never migrated."""
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync_conn: MigrationContext.configure(sync_conn).get_current_revision()
        )


async def is_up_to_date(engine: AsyncEngine) -> bool:
    """Whether the database is at the newest migration."""
    return await current_revision(engine) == head_revision()


def upgrade_connection(connection: Connection, revision: str = "head") -> None:
    """Migrate over an open synchronous connection (from ``AsyncConnection.run_sync``)."""
    cfg = alembic_config("")
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)

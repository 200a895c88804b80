"""The chirp command: migrate, refuse to serve unmigrated, create users, demo data."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chirp.cli import app
from chirp.db import make_engine, make_session_factory
from chirp.users import service as users_service

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CHIRP_DATABASE_URL", url)
    monkeypatch.setenv("CHIRP_ENVIRONMENT", "development")
    return url


def _usernames(url: str) -> list[str]:
    async def read() -> list[str]:
        engine = make_engine(url)
        async with make_session_factory(engine)() as session:
            rows = await session.execute(users_service.directory_query(order="new"))
            names = sorted(u.username for u in rows.scalars())
        await engine.dispose()
        return names

    return asyncio.run(read())


def test_serve_refuses_an_unmigrated_database(db_url: str) -> None:
    result = runner.invoke(app, ["serve", "--port", "0"])
    assert result.exit_code == 1
    assert "chirp db upgrade" in result.output


def test_create_user_and_admin(db_url: str) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(
        app,
        [
            "create-user",
            "root",
            "--email",
            "root@example.com",
            "--password",
            "s3cret-pass",
            "--admin",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "administrator @root" in result.output
    dup = runner.invoke(
        app, ["create-user", "ROOT", "--email", "x@example.com", "--password", "s3cret-pass"]
    )
    assert dup.exit_code == 1
    assert "taken" in dup.output
    assert _usernames(db_url) == ["root"]


def test_demo_data_is_deterministic_and_only_into_an_empty_db(db_url: str) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    first = runner.invoke(
        app, ["demo-data", "--users", "5", "--posts-per-user", "2", "--seed", "3", "--if-empty"]
    )
    assert first.exit_code == 0, first.output
    assert "Demo logins" in first.output
    names = _usernames(db_url)
    assert len(names) == 5
    again = runner.invoke(app, ["demo-data", "--if-empty"])
    assert again.exit_code == 0 and "Loaded" not in again.output
    assert _usernames(db_url) == names

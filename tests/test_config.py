"""Settings: defaults, CHIRP_ environment variables, no default secret in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chirp.config import Settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CHIRP_DATABASE_URL", "CHIRP_MAX_POST_LENGTH", "CHIRP_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite+aiosqlite:///./data/chirp.db"
    assert settings.max_post_length == 140
    assert settings.redis_url is None


def test_environment_variables_with_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHIRP_MAX_POST_LENGTH", "500")
    monkeypatch.setenv("CHIRP_DOMAIN", "chirp.example")
    settings = Settings()
    assert settings.max_post_length == 500
    assert settings.domain == "chirp.example"


def test_production_refuses_the_default_or_a_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHIRP_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="CHIRP_SECRET_KEY"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="CHIRP_SECRET_KEY"):
        Settings(environment="production", secret_key="short")
    ok = Settings(environment="production", secret_key="s" * 40)
    assert ok.secret_key == "s" * 40


def test_pool_size_is_set_from_the_environment_for_postgresql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHIRP_DATABASE_URL", "postgresql+asyncpg://u:p@db/chirp")
    monkeypatch.setenv("CHIRP_DATABASE_POOL_SIZE", "7")
    monkeypatch.setenv("CHIRP_DATABASE_STATEMENT_TIMEOUT", "2.5")
    monkeypatch.setenv("CHIRP_DATABASE_CONNECT_TIMEOUT", "1")
    options = Settings().engine_options
    assert options["pool_size"] == 7 and options["max_overflow"] == 0
    assert options["connect_args"] == {
        "timeout": 1.0,
        "command_timeout": 15.0,
        "server_settings": {"statement_timeout": "2500"},
    }
    monkeypatch.setenv("CHIRP_DATABASE_URL", "sqlite+aiosqlite:///./data/x.db")
    assert Settings().engine_options == {}  # SQLite's pool is not sized

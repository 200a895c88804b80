"""Typed settings read from ``CHIRP_*`` environment variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    """Every setting Chirp reads; each maps to ``CHIRP_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="CHIRP_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "development", description="development and test allow a built-in secret key."
    )
    database_url: str = Field(
        "sqlite+aiosqlite:///./data/chirp.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    database_pool_size: int = Field(
        20, ge=1, description="Database connections each process keeps open (PostgreSQL)."
    )
    # Overflow connections are closed as soon as they are returned, so under steady load they
    # mean a new connection (and password handshake) per request: in the benchmark, the 20-post
    # ceiling endpoint served a third fewer requests with 10 overflow connections than with
    # none. Requests wait for a pooled connection instead.
    database_max_overflow: int = Field(
        0, ge=0, description="Extra short-lived connections a process may open under load."
    )
    # Timeouts, so that a database or network that stops answering costs a request seconds,
    # not minutes, and a restart or a cut is answered with 503 at once.
    database_connect_timeout: float = Field(
        5.0, gt=0, description="Seconds to open a database connection (PostgreSQL)."
    )
    database_statement_timeout: float = Field(
        10.0,
        ge=0,
        description="Seconds a statement may run before PostgreSQL cancels it (0: no limit).",
    )
    # Longer than the statement timeout, so a slow statement is cancelled by the server (and
    # the connection kept) before the client gives up on a connection that stopped answering.
    database_command_timeout: float = Field(
        15.0, gt=0, description="Seconds to wait for any answer from PostgreSQL."
    )
    database_pool_timeout: float = Field(
        10.0, gt=0, description="Seconds a request waits for a free pooled connection."
    )
    redis_url: str | None = Field(None, description="redis://... ; unset runs without Redis.")
    redis_connect_timeout: float = Field(
        0.5, gt=0, description="Seconds to open a Redis connection."
    )
    redis_timeout: float = Field(1.0, gt=0, description="Seconds to wait for a Redis answer.")
    secret_key: str = Field(
        DEV_SECRET_KEY, description="Signs cookies and CSRF tokens. Required in production."
    )
    domain: str = Field("127.0.0.1:8000", description="Public host[:port] of this instance.")
    https: bool = Field(False, description="Whether the public site is served over HTTPS.")
    gravatar: bool = Field(
        False,
        description=(
            "Show Gravatar images as avatars, fetched and cached by the server (visitors' "
            "browsers never contact Gravatar); otherwise, and when Gravatar has none, an "
            "identicon drawn by Chirp."
        ),
    )
    gravatar_url: str = Field(
        "https://www.gravatar.com", description="Base URL of the Gravatar service."
    )
    gravatar_timeout: float = Field(
        2.0,
        gt=0,
        description=(
            "Seconds to fetch a Gravatar image; a request waits at most this long for one, "
            "and is answered with the identicon meanwhile."
        ),
    )
    gravatar_refresh_seconds: int = Field(
        86_400, ge=60, description="How long a fetched Gravatar image (or its absence) is kept."
    )
    gravatar_cache_dir: str = Field(
        "./data/gravatar", description="Directory of the server's cache of Gravatar images."
    )
    gravatar_cache_mb: int = Field(
        100, ge=1, description="Largest size of the Gravatar cache on disk, in MiB."
    )
    export_dir: str | None = Field(
        None,
        description=(
            "Directory of the data archives users download (kept a week); default: "
            "`exports` next to the SQLite file, or ./data/exports."
        ),
    )
    instance_title: str = Field("Chirp", description="Name shown in the UI and API.")
    instance_description: str = Field(
        "A small, fast place to say what's happening.", description="Shown on the landing page."
    )
    contact_email: str = Field(
        "",
        pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$",
        description="Admin contact address shown by the API (left out of it when empty).",
    )
    max_post_length: int = Field(140, ge=1, le=100_000, description="Characters per post.")
    registrations_open: bool = Field(True, description="Whether anyone may sign up.")
    auto_migrate: bool = Field(False, description="Apply migrations when the server starts.")
    demo_data: bool = Field(True, description="`make run` loads demo data into an empty DB.")
    session_days: int = Field(30, ge=1, description="Lifetime of a web login session.")
    page_size: int = Field(20, ge=1, le=100, description="Posts per page in the web UI.")
    timeline_cache_size: int = Field(
        800, ge=20, description="Post ids kept per materialised home timeline in Redis."
    )
    post_cache_ttl: int = Field(
        86_400, ge=60, description="Seconds a post's data stays cached in Redis after a read."
    )
    fanout_max_followers: int = Field(
        10_000,
        ge=0,
        description="Accounts with more followers are not fanned out; merged at read time.",
    )
    fanout_batch_size: int = Field(1000, ge=1, description="Followers per pipelined write.")
    active_days: int = Field(
        30,
        ge=1,
        description=(
            "Fan out only to users active within this many days "
            "(a Redis timeline expires an hour before this many days without a read)."
        ),
    )
    redis_timeline_percent: int = Field(
        100,
        ge=0,
        le=100,
        description="Share of users (stable by id) whose home timeline is read from Redis.",
    )
    web_runs_jobs: bool | None = Field(
        None,
        description="Run background jobs inside web processes; default: only without Redis.",
    )
    rate_limit_enabled: bool = Field(True, description="Apply the rate limits below.")
    rate_limit_api: str = Field(
        "300/5 minutes", description="API calls and form posts, per account and per IP."
    )
    rate_limit_signup: str = Field(
        "5/30 minutes", description="Successful sign-ups per IP (refused ones don't count)."
    )
    rate_limit_signup_attempts: str = Field(
        "25/5 minutes",
        description="Sign-up attempts per IP, refused or not (Mastodon's ceiling, against abuse).",
    )
    rate_limit_login_ip: str = Field("25/5 minutes", description="Login attempts per IP.")
    rate_limit_login_account: str = Field(
        "10/15 minutes", description="Failed logins per account (against password guessing)."
    )
    rate_limit_posts: str = Field("300/3 hours", description="New posts per account.")
    rate_limit_media: str = Field(
        "30/30 minutes", description="Image uploads per account (Mastodon's limit)."
    )
    rate_limit_account_mail: str = Field(
        "5/30 minutes",
        description="Password-reset and confirmation mails asked for, per IP and per address.",
    )
    smtp_host: str | None = Field(
        None,
        description=(
            "SMTP server that sends mail (password resets, confirmations); unset: mails are "
            "written to the log instead (development). Production needs one."
        ),
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_username: str = Field("", description="SMTP login; empty: no authentication.")
    smtp_password: str = Field("", description="SMTP password.")
    smtp_from: str = Field(
        "", description="From address of mails; default: notifications@<CHIRP_DOMAIN's host>."
    )
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        "starttls", description="none, starttls (upgrade after connecting) or tls (implicit TLS)."
    )
    smtp_timeout: float = Field(10.0, gt=0, description="Seconds to wait for the SMTP server.")
    require_email_confirmation: bool = Field(
        False,
        description=(
            "New accounts must follow a link mailed to them before they can log in "
            "(needs CHIRP_SMTP_HOST in production)."
        ),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Least severe log lines `chirp serve` and `chirp worker` write."
    )
    bench_endpoints: bool = Field(
        False, description="Serve /_bench/* ceiling endpoints (benchmarks only)."
    )
    instance_stats_seconds: int = Field(
        300,
        ge=1,
        description="How often the instance statistics (users, posts, active) are recounted.",
    )
    max_body_bytes: int = Field(
        17 * 2**20,
        ge=1024,
        description=(
            "Largest multipart/form-data request body (a 16 MB upload and the form around it); "
            "larger ones are refused with 413 while they arrive."
        ),
    )
    max_json_body_bytes: int = Field(
        2**20,
        ge=1024,
        description="Largest JSON, URL-encoded or other non-multipart request body (413 beyond).",
    )
    # Media (chirp.media): uploads, their limits, and where their files are kept.
    media_dir: str = Field(
        "./data/media",
        description="Directory of uploaded images (local storage, used when no S3 bucket is set).",
    )
    media_max_bytes: int = Field(
        16 * 2**20, ge=1024, description="Largest image upload, in bytes (413 beyond)."
    )
    media_max_pixels: int = Field(
        50_000_000,
        ge=1,
        description="Most pixels (width x height) an upload may declare; more is refused (422).",
    )
    media_max_frames: int = Field(
        500, ge=1, description="Most frames an animated GIF or WebP upload may have (422 beyond)."
    )
    media_max_side: int = Field(
        2048, ge=400, description="Longest side of a stored image; larger ones are scaled down."
    )
    # One: on a 2-core machine two threads took both cores, and reads served during uploads
    # fell to 0.28 of their rate alone, against 0.60 with one (bench.media_uploads).
    media_processing_threads: int = Field(
        1,
        ge=1,
        description="Uploads a process decodes and re-encodes at once (the rest wait their turn).",
    )
    max_media_attachments: int = Field(
        4, ge=1, le=9, description="Images per post (Mastodon and its clients assume 4)."
    )
    media_s3_bucket: str | None = Field(
        None, description="Keep uploads in this S3-compatible bucket instead of media_dir."
    )
    media_s3_endpoint_url: str | None = Field(
        None, description="S3 endpoint (MinIO, Garage, R2...); unset: AWS."
    )
    media_s3_region: str | None = Field(None, description="S3 region of the bucket.")
    media_s3_access_key_id: str | None = Field(None, description="S3 access key id.")
    media_s3_secret_access_key: str | None = Field(None, description="S3 secret access key.")
    media_s3_public_url: str | None = Field(
        None,
        description=(
            "Base URL the bucket's files are read from, on the site's own origin (e.g. "
            "https://example.org/media, proxied to the bucket); default: /media on this site."
        ),
    )
    job_lease_seconds: int = Field(
        6,
        ge=1,
        description=(
            "Seconds a claimed job stays reserved without a heartbeat: a live worker renews "
            "its claims every quarter of this, so a dead worker's jobs are taken over in at "
            "most this long and a long job is never taken from a live one."
        ),
    )
    shutdown_grace_seconds: int = Field(
        20,
        ge=0,
        description=(
            "On SIGTERM, how long `chirp serve` lets requests in flight finish and `chirp "
            "worker` lets jobs in hand finish before stopping them."
        ),
    )

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment == "production" and (
            self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ValueError(
                "CHIRP_SECRET_KEY must be set to a random string of at least 32 characters in "
                "production, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        if (
            self.environment == "production"
            and self.require_email_confirmation
            and not self.smtp_host
        ):
            raise ValueError(
                "CHIRP_REQUIRE_EMAIL_CONFIRMATION needs CHIRP_SMTP_HOST in production: "
                "otherwise no confirmation mail could reach anyone"
            )
        return self

    @property
    def mail_from(self) -> str:
        """The From address of mails."""
        return self.smtp_from or f"notifications@{self.domain.partition(':')[0]}"

    @property
    def engine_options(self) -> dict[str, Any]:
        """Pool and timeout options for ``make_engine`` (none for SQLite)."""
        if self.is_sqlite:
            return {}
        server_settings = {}
        if self.database_statement_timeout:
            server_settings["statement_timeout"] = str(int(self.database_statement_timeout * 1000))
        return {
            "pool_size": self.database_pool_size,
            "max_overflow": self.database_max_overflow,
            "pool_timeout": self.database_pool_timeout,
            "connect_args": {
                "timeout": self.database_connect_timeout,
                "command_timeout": self.database_command_timeout,
                "server_settings": server_settings,
            },
        }

    @property
    def redis_options(self) -> dict[str, float]:
        """Timeouts for ``make_redis``."""
        return {"connect_timeout": self.redis_connect_timeout, "timeout": self.redis_timeout}

    @cached_property
    def base_url(self) -> str:
        """Absolute URL of the site, without a trailing slash."""
        return f"{'https' if self.https else 'http'}://{self.domain}"

    @property
    def jobs_in_web(self) -> bool:
        """Whether web processes run background jobs themselves (the embedded default)."""
        return self.redis_url is None if self.web_runs_jobs is None else self.web_runs_jobs

    @property
    def exports_path(self) -> Path:
        """Where data archives are written: ``export_dir``, or beside the SQLite file."""
        if self.export_dir:
            return Path(self.export_dir)
        database = make_url(self.database_url).database if self.is_sqlite else None
        if database and database != ":memory:":
            return Path(database).parent / "exports"
        return Path("data/exports")

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is a SQLite file."""
        return self.database_url.startswith("sqlite")

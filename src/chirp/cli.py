"""The ``chirp`` command: serve, migrate, create users, load demo data."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from uvicorn.supervisors import Multiprocess

from chirp import demo, migrate
from chirp.config import Settings
from chirp.db import make_engine, make_session_factory
from chirp.errors import ValidationFailed
from chirp.jobs import queue, registry
from chirp.jobs.worker import JobContext, Worker
from chirp.media import storage as media_storage
from chirp.media import sweep as media_sweep_module
from chirp.ops import failures, gc_tuning
from chirp.ops import logging as chirp_logging
from chirp.redis_client import make_redis
from chirp.streaming.bus import RedisPublisher, channel_for
from chirp.timeline.cache import TimelineCache
from chirp.users import service as users_service

T = TypeVar("T")
log = logging.getLogger("chirp.worker")

app = typer.Typer(
    help="Chirp: a self-hostable microblogging platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
jobs_app = typer.Typer(help="Background jobs: show the queue, retry failures.")
app.add_typer(jobs_app, name="jobs")
media_app = typer.Typer(help="Uploaded images.", no_args_is_help=True)
app.add_typer(media_app, name="media")


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        typer.secho(f"Configuration error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc


def _with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def runner() -> T:
        engine = make_engine(settings.database_url, **settings.engine_options)
        try:
            async with make_session_factory(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return _run_on_database(settings, runner())


def _run_on_database(settings: Settings, main: Coroutine[Any, Any, T]) -> T:
    """Run ``main``; if the database is unreachable, say so in one line and exit with 1."""
    try:
        return asyncio.run(main)
    except Exception as exc:
        cause = failures.unavailability(exc)
        if cause is None:
            raise
        # Not a bug, so no traceback: say what is wrong and where.
        typer.secho(
            f"The database at {_safe_url(settings)} is unreachable ({failures.describe(cause)}).",
            fg="red",
            err=True,
        )
        raise typer.Exit(1) from exc


async def _up_to_date(settings: Settings) -> bool:
    engine = make_engine(settings.database_url, **settings.engine_options)
    try:
        return await migrate.is_up_to_date(engine)
    finally:
        await engine.dispose()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Web processes.")] = 1,
    access_log: Annotated[
        bool | None,
        typer.Option(help="Log every request (default: on, except in production)."),
    ] = None,
) -> None:
    """Serve the web UI and API."""
    settings = _settings()
    if not _run_on_database(settings, _up_to_date(settings)):
        if settings.auto_migrate:
            typer.echo("Applying database migrations (CHIRP_AUTO_MIGRATE=true)...")
            migrate.upgrade(settings.database_url)
        else:
            typer.secho(
                "The database is not migrated to the current version. "
                "Run `chirp db upgrade` (or set CHIRP_AUTO_MIGRATE=true) and start again.",
                fg="red",
                err=True,
            )
            raise typer.Exit(1)
    typer.echo(f"Chirp is serving on http://{host}:{port}  (database: {_safe_url(settings)})")
    config = uvicorn.Config(
        "chirp.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_config=chirp_logging.log_config(settings.log_level),
        log_level=settings.log_level.lower(),
        access_log=settings.environment != "production" if access_log is None else access_log,
        # On SIGTERM: stop listening, answer the requests in flight, close idle keep-alive
        # connections, and cancel what is still running when the grace period ends.
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        # With --workers, uvicorn replaces a process that has not started or answered its
        # supervisor's ping within this many seconds; its default of 5 killed web processes
        # that were merely slow to import on a saturated machine (seen in fault runs).
        timeout_worker_healthcheck=30,
    )
    server = uvicorn.Server(config)
    try:
        if workers > 1:
            _Supervisor(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    if workers == 1 and not server.started:
        raise typer.Exit(3)


class _Supervisor(Multiprocess):
    """uvicorn's supervisor of web processes, which stops listening as soon as it is told to stop.

    The web processes share the listening socket this process opened. uvicorn's supervisor
    keeps its copy open until they have all exited, so during their graceful shutdown the
    kernel went on accepting connections that nobody would answer, and reset them when the
    supervisor exited. Closed first, new connections are refused at once (a load balancer
    moves on) while the web processes finish the requests they have.
    """

    def handle_int(self) -> None:
        """Stop listening, then stop the web processes."""
        self._stop_listening()
        super().handle_int()

    def handle_term(self) -> None:
        """Stop listening, then stop the web processes."""
        self._stop_listening()
        super().handle_term()

    def _stop_listening(self) -> None:
        for sock in self.sockets:
            sock.close()


def _safe_url(settings: Settings) -> str:
    return make_url(settings.database_url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply database migrations."""
    settings = _settings()
    migrate.upgrade(settings.database_url, revision)
    typer.echo(f"Database at {_safe_url(settings)} is migrated to {revision}.")


@app.command("create-user")
def create_user(
    username: str,
    email: Annotated[str, typer.Option(help="Email address.")],
    password: Annotated[str | None, typer.Option(help="Password (prompted if omitted).")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator.")] = False,
) -> None:
    """Create an account (optionally an administrator)."""
    settings = _settings()
    if password is None:
        password = getpass.getpass("Password: ")

    async def work(session: AsyncSession) -> str:
        user = await users_service.register(
            session, username=username, email=email, password=password, is_admin=admin
        )
        await session.commit()
        return user.username

    try:
        name = _with_session(settings, work)
    except ValidationFailed as exc:
        typer.secho(exc.message, fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Created {'administrator' if admin else 'user'} @{name}.")


@app.command("demo-data")
def demo_data(
    users: Annotated[int, typer.Option(min=1, help="How many users.")] = 20,
    posts_per_user: Annotated[int, typer.Option(min=0, help="Posts per user.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 1,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Only into an empty DB.")] = False,
) -> None:
    """Load demo users, follows and posts."""
    settings = _settings()

    async def work(session: AsyncSession) -> demo.DemoSummary | None:
        if if_empty and (not settings.demo_data or not await demo.is_empty(session)):
            return None
        return await demo.generate(
            session, users=users, posts_per_user=posts_per_user, seed=seed, progress=True
        )

    try:
        summary = _with_session(settings, work)
    except ValidationFailed as exc:
        typer.secho(exc.message, fg="red", err=True)
        raise typer.Exit(1) from exc
    if summary is None:
        return
    typer.echo(
        f"Loaded demo data: {summary.users} users, {summary.follows} follows, "
        f"{summary.posts} posts."
    )
    shown = ", ".join(summary.usernames[:3])
    typer.echo(f"Demo logins: {shown} (and the others), password: {demo.DEMO_PASSWORD}")


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Jobs run at once.")] = 4,
) -> None:
    """Run background jobs (fan-out and clean-up) until stopped with SIGTERM or Ctrl-C."""
    settings = _settings()
    chirp_logging.configure_logging(settings.log_level)
    typer.echo(f"Chirp worker started (concurrency {concurrency}, database {_safe_url(settings)}).")
    with asyncio.Runner(loop_factory=_fast_event_loop()) as runner:
        runner.run(_run_worker(settings, concurrency))
    typer.echo("Chirp worker stopped.")


def _fast_event_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    # uvloop, as uvicorn uses for the web processes: a fan-out is mostly socket writes, and
    # asyncio's own loop spent a quarter of the worker's CPU in them.
    try:
        import uvloop
    except ImportError:  # uvicorn[standard] leaves it out on Windows
        return None
    return uvloop.new_event_loop


async def _run_worker(settings: Settings, concurrency: int) -> None:
    engine = make_engine(settings.database_url, **settings.engine_options)
    redis = make_redis(settings.redis_url, **settings.redis_options) if settings.redis_url else None
    context = JobContext(
        session_factory=make_session_factory(engine),
        settings=settings,
        timeline_cache=TimelineCache.from_settings(redis, settings) if redis else None,
        events=RedisPublisher(redis, channel_for(settings.redis_url))
        if redis and settings.redis_url
        else None,
    )
    runner = Worker(
        context,
        registry.handlers(),
        concurrency=concurrency,
        batch=concurrency * 4,
        lease=timedelta(seconds=settings.job_lease_seconds),
    )
    gc_tuning.tune_for_server()
    stop = asyncio.Event()

    def on_signal(sig: signal.Signals) -> None:
        if not stop.is_set():
            log.info(
                "%s: finishing the jobs in hand (up to %s s), then stopping; "
                "signal again to stop at once",
                sig.name,
                settings.shutdown_grace_seconds,
            )
            stop.set()
            return
        # Asked twice: go now. The jobs in hand are taken over by other workers (or this
        # one's successor) once their leases lapse, as after a crash.
        log.warning("%s again: stopping at once", sig.name)
        logging.shutdown()
        os._exit(128 + sig)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        await runner.run_forever(stop, grace=settings.shutdown_grace_seconds)
    finally:
        if redis is not None:
            await redis.aclose()
        await engine.dispose()


@jobs_app.callback(invoke_without_command=True)
def jobs_status(ctx: typer.Context) -> None:
    """Show pending, running and failed job counts and the latest errors."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings()

    async def work(session: AsyncSession) -> queue.QueueStats:
        return await queue.stats(session)

    stats = _with_session(settings, work)
    typer.echo(f"pending: {stats.pending}  running: {stats.running}  failed: {stats.failed}")
    for job_id, kind, attempts, error in stats.last_errors:
        last_line = error.strip().splitlines()[-1] if error.strip() else ""
        typer.echo(f"  job {job_id} {kind} (attempt {attempts}): {last_line}")


@jobs_app.command("retry")
def jobs_retry() -> None:
    """Re-queue every failed job."""
    settings = _settings()

    async def work(session: AsyncSession) -> int:
        return await queue.retry_failed(session)

    typer.echo(f"Re-queued {_with_session(settings, work)} failed job(s).")


@media_app.command("sweep")
def media_sweep(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count the files it would delete; delete none.")
    ] = False,
    older_than_hours: Annotated[
        int, typer.Option(min=1, help="Leave files younger than this (uploads in progress).")
    ] = 24,
) -> None:
    """Delete stored image files that no upload, avatar or header uses any more."""
    settings = _settings()
    storage = media_storage.from_settings(settings)

    async def work(session: AsyncSession) -> media_sweep_module.Swept:
        return await media_sweep_module.sweep(
            session, storage, older_than=timedelta(hours=older_than_hours), dry_run=dry_run
        )

    swept = _with_session(settings, work)
    done = f"would delete {swept.unreferenced}" if dry_run else f"deleted {swept.deleted}"
    typer.echo(f"{swept.files} file(s) stored, {swept.unreferenced} used by nothing: {done}.")


def main() -> None:
    """Entry point of the ``chirp`` command."""
    app(prog_name="chirp")


if __name__ == "__main__":
    main()

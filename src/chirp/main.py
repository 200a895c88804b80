"""The application factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp import __version__
from chirp.api import reference as api_reference
from chirp.api.allow import install_method_not_allowed
from chirp.api.cors import ScopedCORSMiddleware
from chirp.api.errors import install_error_handlers
from chirp.api.router import api_router
from chirp.avatars import routes as avatar_routes
from chirp.avatars.gravatar import GravatarCache
from chirp.config import Settings
from chirp.db import make_engine, make_session_factory
from chirp.instance.service import InstanceStats
from chirp.jobs import registry
from chirp.jobs.worker import EMBEDDED_JOBS_GRACE_SECONDS, JobContext, Worker
from chirp.media import api as media_api
from chirp.media import files as media_files
from chirp.media import pages as media_pages
from chirp.media import storage as media_storage
from chirp.ops import api as ops_api
from chirp.ops import gc_tuning
from chirp.ops.bench import RawPool, raw_posts
from chirp.ops.http import install_outer_middleware
from chirp.ratelimit.limiter import RateLimiter
from chirp.ratelimit.middleware import RateLimitMiddleware
from chirp.redis_client import make_redis
from chirp.streaming import api as streaming_api
from chirp.streaming import pages as streaming_pages
from chirp.streaming.bus import LocalBus, RedisPublisher, RedisSubscription, channel_for
from chirp.streaming.hub import Hub
from chirp.tags.trends import TrendingTags
from chirp.timeline.cache import TimelineCache
from chirp.timeline.home import HomeTimeline
from chirp.web.body_limit import BodyLimitMiddleware
from chirp.web.headers import SecurityHeadersMiddleware
from chirp.web.middleware import WebResponseMiddleware
from chirp.web.router import web_router
from chirp.web.session import install_login_redirect
from chirp.web.templating import make_templates

PACKAGE_DIR = Path(__file__).parent


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: async_sessionmaker[AsyncSession] | None = None,
) -> FastAPI:
    """Build the ASGI app; tests pass their own settings and session factory."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if app.state.gravatar is not None:
                stack.push_async_callback(app.state.gravatar.aclose)
            if session_factory is None:
                engine = make_engine(settings.database_url, **settings.engine_options)
                stack.push_async_callback(engine.dispose)
                app.state.session_factory = make_session_factory(engine)
            if settings.redis_url:
                redis = make_redis(settings.redis_url, **settings.redis_options)
                stack.push_async_callback(redis.aclose)
                app.state.timeline_cache = TimelineCache.from_settings(redis, settings)
                app.state.home_timeline = HomeTimeline(settings, app.state.timeline_cache)
                app.state.instance_stats.redis = redis
                app.state.stream_publisher = RedisPublisher(redis, channel_for(settings.redis_url))
                await stack.enter_async_context(_stream_subscription(app, settings.redis_url))
            if session_factory is None:
                # A factory passed in is the caller's (tests share one connection between
                # requests): they refresh the statistics themselves.
                await stack.enter_async_context(_stats_refresher(app))
            if settings.bench_endpoints:
                stack.push_async_callback(app.state.raw_pool.close)
            if settings.jobs_in_web:
                await stack.enter_async_context(_job_runner(app, settings))
            if settings.environment != "test":
                # Not in tests: they build many apps in one process, and frozen objects
                # are never freed.
                gc_tuning.tune_for_server()
            yield

    app = FastAPI(
        title=f"{settings.instance_title} API",
        version=__version__,
        description=(
            "Chirp's JSON API, compatible with the Mastodon client API. "
            "Authenticate with an OAuth 2 bearer token from `/oauth/token`."
        ),
        # Served by api.reference from vendored files: FastAPI's page loads them from a CDN.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.timeline_cache = None
    app.state.home_timeline = HomeTimeline(settings, None)
    app.state.instance_stats = InstanceStats(period=settings.instance_stats_seconds)
    app.state.trending = TrendingTags()
    app.state.media_storage = media_storage.from_settings(settings)
    app.state.gravatar = GravatarCache(settings) if settings.gravatar else None
    # Live updates: this process's open streams, fed in-process until Redis is connected.
    app.state.stream_hub = Hub(settings, lambda: app.state.session_factory)
    app.state.stream_publisher = LocalBus(app.state.stream_hub.deliver)
    app.state.stream_subscription = None
    if session_factory is not None:
        # Available before lifespan runs, for clients that do not send lifespan events.
        app.state.session_factory = session_factory
    app.state.templates = make_templates(settings)
    install_error_handlers(app)
    install_method_not_allowed(app)
    install_login_redirect(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_json_body_bytes,
        max_multipart_bytes=settings.max_body_bytes,
        upload_limits=media_api.upload_limits(settings) | media_pages.upload_limits(settings),
    )
    app.add_middleware(WebResponseMiddleware, secure_cookies=settings.https)
    app.state.rate_limiter = RateLimiter(settings)
    app.add_middleware(RateLimitMiddleware, limiter=app.state.rate_limiter)
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")
    app.include_router(api_router)
    app.include_router(streaming_api.router)
    app.include_router(ops_api.router)
    app.include_router(api_reference.router)
    # Outside the web router: no session or CSRF cookie on an image every page loads.
    app.include_router(avatar_routes.router)
    app.include_router(media_files.router)
    if settings.bench_endpoints:
        app.include_router(ops_api.bench_router)
        # A plain Starlette route: no FastAPI dependency injection or validation.
        app.state.raw_pool = RawPool(settings)
        app.add_route("/_bench/posts-raw", raw_posts, methods=["GET"], include_in_schema=False)
    app.include_router(streaming_pages.router)
    app.include_router(web_router)
    # Last: request ids, HEAD and the last-resort error answer wrap everything above.
    install_outer_middleware(app)
    # Around those: every answer on the API, a 429, 500 or 503 included, is readable
    # cross-origin, and (outermost) the last-resort error pages get the security headers too.
    app.add_middleware(ScopedCORSMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, https=settings.https)
    return app


@asynccontextmanager
async def _stats_refresher(app: FastAPI) -> AsyncIterator[None]:
    """Keep the instance statistics counted in the background while the app serves."""
    stop = asyncio.Event()
    stats: InstanceStats = app.state.instance_stats
    task = asyncio.create_task(stats.run(app.state.session_factory, stop))
    try:
        yield
    finally:
        stop.set()
        await task


@asynccontextmanager
async def _job_runner(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Run background jobs inside this process (the embedded default, without Redis)."""
    context = JobContext(
        session_factory=app.state.session_factory,
        settings=settings,
        timeline_cache=app.state.timeline_cache,
        events=app.state.stream_publisher,
    )
    stop = asyncio.Event()
    runner = Worker(
        context, registry.handlers(), lease=timedelta(seconds=settings.job_lease_seconds)
    )
    # Stopped after uvicorn's own grace period has been spent on the requests in flight:
    # the jobs in hand get a moment more, then go back to the queue for the next process.
    task = asyncio.create_task(runner.run_forever(stop, grace=EMBEDDED_JOBS_GRACE_SECONDS))
    try:
        yield
    finally:
        stop.set()
        await task


@asynccontextmanager
async def _stream_subscription(app: FastAPI, redis_url: str) -> AsyncIterator[None]:
    """Hold this process's subscription to the events every process publishes."""
    subscription = RedisSubscription(
        redis_url,
        app.state.stream_hub.deliver,
        connect_timeout=app.state.settings.redis_connect_timeout,
    )
    app.state.stream_subscription = subscription
    stop = asyncio.Event()
    task = asyncio.create_task(subscription.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task

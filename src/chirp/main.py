"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp import __version__
from chirp.api.errors import install_error_handlers
from chirp.api.router import api_router
from chirp.config import Settings
from chirp.db import make_engine, make_session_factory
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
        if session_factory is not None:
            app.state.session_factory = session_factory
            yield
            return
        engine = make_engine(settings.database_url)
        app.state.session_factory = make_session_factory(engine)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title=f"{settings.instance_title} API",
        version=__version__,
        description=(
            "Chirp's JSON API, compatible with the Mastodon client API. "
            "Authenticate with an OAuth 2 bearer token from `/oauth/token`."
        ),
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    if session_factory is not None:
        # Available before lifespan runs, for clients that do not send lifespan events.
        app.state.session_factory = session_factory
    app.state.templates = make_templates(settings)
    install_error_handlers(app)
    install_login_redirect(app)
    app.add_middleware(WebResponseMiddleware, secure_cookies=settings.https)
    app.mount("/static", StaticFiles(directory=PACKAGE_DIR / "static"), name="static")
    app.include_router(api_router)
    app.include_router(web_router)
    return app

"""The logged-in user of a browser, from the session cookie."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from chirp.auth import service as auth_service
from chirp.conversations import service as conversations_service
from chirp.deps import SessionDep, SettingsDep
from chirp.notifications import service as notifications_service
from chirp.ratelimit.deps import enforce_account
from chirp.ratelimit.middleware import client_ip
from chirp.users import service as users_service
from chirp.users.models import User
from chirp.web.htmx import is_htmx, local_referer

SESSION_COOKIE = "chirp_session"


class LoginRequired(Exception):
    """Raised by pages that need a logged-in user; answered with a redirect to the login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


async def _optional_user(request: Request, session: SessionDep) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = await auth_service.resolve(session, token)
    user: User | None = None
    if found is not None:
        user, web_session = found
        request.state.web_session_id = web_session.id
        if request.method == "POST":
            await enforce_account(request, user.id)
        seen = await auth_service.mark_seen(session, web_session, ip=client_ip(request.scope))
        if await users_service.mark_active(session, user=user) or seen:
            await session.commit()
    request.state.user = user
    if user is not None and request.method == "GET" and not is_htmx(request):
        # The navigation's unread badges on every full page: one query, two capped index reads.
        cap = notifications_service.BADGE_CAP
        counts = select(
            notifications_service.unread_query(
                user.id, notifications_service.ALL, limit=cap
            ).scalar_subquery(),
            conversations_service.unread_query(user.id, limit=cap).scalar_subquery(),
        )
        notified, messaged = (await session.execute(counts)).one()
        request.state.notifications_badge = notifications_service.badge(notified)
        request.state.messages_badge = notifications_service.badge(messaged)
    return user


async def _current_user(
    request: Request, user: Annotated[User | None, Depends(_optional_user)]
) -> User:
    if user is None:
        raise LoginRequired(_return_to(request))
    return user


def _return_to(request: Request) -> str:
    # After logging in, a GET comes back to where it was; a form post cannot be replayed,
    # so it returns to the page the form was on.
    if request.method == "GET":
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    return local_referer(request) or "/"


OptionalUser = Annotated[User | None, Depends(_optional_user)]
CurrentUser = Annotated[User, Depends(_current_user)]


def set_session_cookie(response: Response, token: str, *, settings: SettingsDep) -> None:
    """Store the login token in an HttpOnly, SameSite cookie."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.https,
    )


def clear_session_cookie(response: Response) -> None:
    """Remove the login cookie."""
    response.delete_cookie(SESSION_COOKIE)


def install_login_redirect(app: FastAPI) -> None:
    """Send visitors who need to log in to the login page (htmx gets HX-Redirect)."""

    @app.exception_handler(LoginRequired)
    async def _redirect(request: Request, exc: LoginRequired) -> Response:
        target = f"/login?{urlencode({'next': exc.next_url})}"
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

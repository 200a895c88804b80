"""Web pages: sign up, log in, log out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from chirp.auth import service as auth_service
from chirp.deps import SessionDep, SettingsDep
from chirp.errors import Forbidden, ValidationFailed
from chirp.parsing import LongText, ShortText
from chirp.ratelimit.deps import count_failed_login, login_blocked, per_ip
from chirp.users import service as users_service
from chirp.web.htmx import redirect, render, safe_next
from chirp.web.session import (
    SESSION_COOKIE,
    OptionalUser,
    clear_session_cookie,
    set_session_cookie,
)

router = APIRouter()

LOGIN_FAILED = "Incorrect username/email or password."


@router.get("/signup")
async def signup_page(request: Request, settings: SettingsDep, viewer: OptionalUser) -> Response:
    """The sign-up form."""
    if viewer is not None:
        return RedirectResponse("/", status_code=303)
    return render(request, "auth/signup.html", {"values": {}, "errors": {}})


@router.post("/signup", dependencies=[Depends(per_ip("signup"))])
async def signup(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[ShortText, Form()] = "",
    email: Annotated[ShortText, Form()] = "",
    password: Annotated[LongText, Form()] = "",
    display_name: Annotated[ShortText, Form()] = "",
    *,
    viewer: OptionalUser,
) -> Response:
    """Create an account and log it in."""
    if viewer is not None:
        return RedirectResponse("/", status_code=303)
    if not settings.registrations_open:
        raise Forbidden("Registrations are closed on this server.")
    values = {"username": username, "email": email, "display_name": display_name}
    try:
        user = await users_service.register(
            session, username=username, email=email, password=password, display_name=display_name
        )
    except ValidationFailed as exc:
        errors = {exc.field or "form": exc.message}
        return render(
            request, "auth/signup.html", {"values": values, "errors": errors}, status_code=422
        )
    token = await auth_service.start_session(session, user=user, days=settings.session_days)
    await session.commit()
    welcome = f"Welcome to {settings.instance_title}, @{user.username}! Find people to follow."
    response = redirect(request, "/", message=welcome)
    set_session_cookie(response, token, settings=settings)
    return response


@router.get("/login")
async def login_page(
    request: Request, viewer: OptionalUser, next: LongText | None = None
) -> Response:
    """The log-in form."""
    if viewer is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "auth/login.html", {"login": "", "next": safe_next(next), "error": None})


@router.post("/login", dependencies=[Depends(per_ip("login_ip"))])
async def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    login: Annotated[ShortText, Form()] = "",
    password: Annotated[LongText, Form()] = "",
    next: Annotated[LongText, Form()] = "/",
) -> Response:
    """Check the credentials and start a session."""
    user = None
    if not await login_blocked(request, login):
        user = await users_service.authenticate(session, login=login, password=password)
        if user is None:
            await count_failed_login(request, login)
    if user is None:
        # One message for every failure: it must not tell which part was wrong.
        context = {"login": login, "next": safe_next(next), "error": LOGIN_FAILED}
        return render(request, "auth/login.html", context, status_code=401)
    token = await auth_service.start_session(session, user=user, days=settings.session_days)
    await session.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, token, settings=settings)
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep) -> Response:
    """End this browser's session."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await auth_service.end_session(session, token)
        await session.commit()
    response = redirect(request, "/", message="You have logged out.")
    clear_session_cookie(response)
    return response

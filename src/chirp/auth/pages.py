"""Web pages: sign up, log in, log out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from chirp.accounts import service as accounts_service
from chirp.auth import login as auth_login
from chirp.auth import service as auth_service
from chirp.auth.login import LoginLocked
from chirp.deps import SessionDep, SettingsDep
from chirp.errors import Forbidden, ValidationFailed
from chirp.parsing import LongText, ShortText
from chirp.ratelimit.deps import PerIp, count_signup, signup_refused
from chirp.ratelimit.middleware import client_ip
from chirp.users import service as users_service
from chirp.users.models import User
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


@router.post("/signup")
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
    # What was typed is always shown again (never the password).
    values = {"username": username, "email": email, "display_name": display_name}
    refused = await signup_refused(request)
    if refused is not None:
        context = {"values": values, "errors": {}, "limited": refused}
        headers = {"Retry-After": str(refused.retry_after)}
        return render(request, "auth/signup.html", context, status_code=429, headers=headers)
    try:
        user = await users_service.register(
            session,
            username=username,
            email=email,
            password=password,
            display_name=display_name,
            confirmed=not settings.require_email_confirmation,
        )
    except ValidationFailed as exc:
        errors = {p.field or "form": p.message for p in reversed(exc.problems)}
        return render(
            request, "auth/signup.html", {"values": values, "errors": errors}, status_code=422
        )
    if settings.require_email_confirmation:
        await accounts_service.send_confirmation(session, settings=settings, user=user)
        await session.commit()
        await count_signup(request)
        return render(request, "auth/confirm_pending.html", {"email": user.email, "sent": True})
    token = await _start(request, session, settings, user)
    await session.commit()
    await count_signup(request)
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


@router.post("/login", dependencies=[Depends(PerIp("login_ip"))])
async def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    login: Annotated[ShortText, Form()] = "",
    password: Annotated[LongText, Form()] = "",
    next: Annotated[LongText, Form()] = "/",
) -> Response:
    """Check the credentials and start a session."""
    context: dict[str, object] = {"login": login, "next": safe_next(next)}
    try:
        user = await auth_login.log_in(request, session, login=login, password=password)
    except LoginLocked as exc:
        # Said of every login, known or not, so it tells nothing about which accounts exist.
        context["error"] = (
            "Too many failed attempts to log in to this account. "
            f"Try again in {_minutes(exc.verdict.retry_minutes)}."
        )
        headers = {"Retry-After": str(exc.verdict.retry_after)}
        return render(request, "auth/login.html", context, status_code=429, headers=headers)
    if user is None:
        # One message for every failure: it must not tell which part was wrong.
        context["error"] = LOGIN_FAILED
        return render(request, "auth/login.html", context, status_code=401)
    if not accounts_service.is_confirmed(settings, user):
        # The password was right, so saying why tells nothing to a stranger.
        await session.commit()
        context = {"email": user.email, "sent": False}
        return render(request, "auth/confirm_pending.html", context, status_code=403)
    token = await _start(request, session, settings, user)
    await session.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, token, settings=settings)
    return response


async def _start(request: Request, session: SessionDep, settings: SettingsDep, user: User) -> str:
    return await auth_service.start_session(
        session,
        user=user,
        days=settings.session_days,
        user_agent=request.headers.get("user-agent"),
        ip=client_ip(request.scope),
    )


def _minutes(count: int) -> str:
    return "1 minute" if count == 1 else f"{count} minutes"


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

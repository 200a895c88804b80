"""Web pages: forgotten password, email confirmation, and the Account, Sessions & apps and
Delete account settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from chirp.accounts import deletion, links
from chirp.accounts import service as accounts_service
from chirp.accounts import sessions as account_sessions
from chirp.auth import service as auth_service
from chirp.deps import SessionDep, SettingsDep
from chirp.errors import ValidationFailed
from chirp.parsing import LongText, ShortText, path_text
from chirp.ratelimit.deps import PerIp, enforce
from chirp.ratelimit.middleware import client_ip
from chirp.users.models import User
from chirp.web.htmx import is_htmx, redirect, render
from chirp.web.session import SESSION_COOKIE, CurrentUser, OptionalUser, clear_session_cookie

router = APIRouter()

SENT = (
    "If an account uses this address, we sent it a link to reset the password. "
    "It works once, within an hour."
)
RESENT = "If this account awaits confirmation, we sent it a new link."


async def _limit_mail(request: Request, email: str) -> None:
    # Per address as well as per IP, so nobody's inbox can be flooded from many addresses.
    await enforce(request, "account_mail", f"ip:{client_ip(request.scope)}")
    await enforce(request, "account_mail", f"mail:{email.strip().lower()}")


def _errors(exc: ValidationFailed) -> dict[str, str]:
    return {p.field or "form": p.message for p in reversed(exc.problems)}


# ---- Forgotten password


@router.get("/forgot-password")
async def forgot_page(request: Request, viewer: OptionalUser) -> Response:
    """The form asking for the address to send a reset link to."""
    return render(request, "auth/forgot.html", {"sent": False, "email": ""}, viewer=viewer)


@router.post("/forgot-password", dependencies=[Depends(PerIp("login_ip"))])
async def forgot(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[ShortText, Form()] = "",
) -> Response:
    """Mail a reset link; the answer is the same whether an account has the address or not."""
    await _limit_mail(request, email)
    await accounts_service.request_password_reset(session, settings=settings, email=email)
    await session.commit()
    return render(request, "auth/forgot.html", {"sent": True, "email": email})


@router.get("/reset-password/{token}")
async def reset_page(request: Request, session: SessionDep, token: str) -> Response:
    """The form choosing a new password, if the link is still good."""
    try:
        await accounts_service.check_reset_link(session, token=path_text(token))
    except links.InvalidLink:
        return render(request, "auth/reset.html", {"invalid": True, "errors": {}}, status_code=404)
    return render(request, "auth/reset.html", {"invalid": False, "errors": {}, "token": token})


@router.post("/reset-password/{token}", dependencies=[Depends(PerIp("login_ip"))])
async def reset(
    request: Request,
    session: SessionDep,
    token: str,
    password: Annotated[LongText, Form()] = "",
) -> Response:
    """Set the new password; every session and app of the account is logged out."""
    try:
        await accounts_service.reset_password(session, token=path_text(token), password=password)
    except links.InvalidLink:
        return render(request, "auth/reset.html", {"invalid": True, "errors": {}}, status_code=404)
    except ValidationFailed as exc:
        context = {"invalid": False, "errors": _errors(exc), "token": token}
        return render(request, "auth/reset.html", context, status_code=422)
    await session.commit()
    response = redirect(
        request, "/login", message="Your password was changed. Log in with the new one."
    )
    clear_session_cookie(response)
    return response


# ---- Email confirmation


@router.get("/confirm-email/{token}")
async def confirm(
    request: Request, session: SessionDep, viewer: OptionalUser, token: str
) -> Response:
    """Confirm the address a mailed link was sent to."""
    try:
        await accounts_service.confirm_email(session, token=path_text(token))
    except (links.InvalidLink, ValidationFailed):
        return render(request, "auth/confirm_invalid.html", {}, viewer=viewer, status_code=404)
    await session.commit()
    if viewer is not None:
        return redirect(request, "/settings/account", message="Your email address is confirmed.")
    return redirect(request, "/login", message="Your email address is confirmed. Log in now.")


@router.post("/confirm-email/resend", dependencies=[Depends(PerIp("login_ip"))])
async def resend(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[ShortText, Form()] = "",
) -> Response:
    """Send the confirmation link again (the same answer for any address)."""
    await _limit_mail(request, email)
    user = await accounts_service.find_by_email(session, email)
    if user is not None and user.email_confirmed_at is None:
        await accounts_service.send_confirmation(session, settings=settings, user=user)
        await session.commit()
    context = {"email": email, "sent": True, "resent": RESENT}
    return render(request, "auth/confirm_pending.html", context)


# ---- Settings: account (email and password)


def _account_page(
    request: Request, viewer: User, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    context = {"section": "account", "errors": errors or {}}
    return render(request, "settings/account.html", context, viewer=viewer, status_code=status)


@router.get("/settings/account")
async def account_page(request: Request, viewer: CurrentUser) -> Response:
    """Change your email address or password."""
    return _account_page(request, viewer)


@router.post("/settings/email")
async def change_email(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: CurrentUser,
    email: Annotated[ShortText, Form()] = "",
    current_password: Annotated[LongText, Form()] = "",
) -> Response:
    """Change your email address (your password is needed)."""
    try:
        waits = await accounts_service.change_email(
            session, settings=settings, user=viewer, password=current_password, email=email
        )
    except ValidationFailed as exc:
        errors = {("email_" + k if k != "email" else k): v for k, v in _errors(exc).items()}
        return _account_page(request, viewer, errors=errors, status=422)
    await session.commit()
    message = (
        f"We sent a link to {email.strip()}: your address changes once you open it."
        if waits
        else "Your email address was changed."
    )
    return redirect(request, "/settings/account", message=message)


@router.post("/settings/password")
async def change_password(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    current_password: Annotated[LongText, Form()] = "",
    new_password: Annotated[LongText, Form()] = "",
) -> Response:
    """Change your password; your other sessions and apps are logged out."""
    try:
        await accounts_service.change_password(
            session,
            user=viewer,
            current_password=current_password,
            new_password=new_password,
            keep_session=getattr(request.state, "web_session_id", None),
        )
    except ValidationFailed as exc:
        errors = {("password_" + k): v for k, v in _errors(exc).items()}
        return _account_page(request, viewer, errors=errors, status=422)
    await session.commit()
    return redirect(
        request,
        "/settings/account",
        message="Your password was changed. Your other sessions and apps were logged out.",
    )


# ---- Settings: sessions and apps


@router.get("/settings/sessions")
async def sessions_page(request: Request, session: SessionDep, viewer: CurrentUser) -> Response:
    """Your logged-in browsers and the apps you authorised."""
    context = {
        "section": "sessions",
        "web_sessions": await account_sessions.web_sessions(session, user_id=viewer.id),
        "apps": await account_sessions.authorised_apps(session, user_id=viewer.id),
        "current": getattr(request.state, "web_session_id", None),
    }
    return render(request, "settings/sessions.html", context, viewer=viewer)


def _done(request: Request, message: str) -> Response:
    if is_htmx(request):
        return Response(status_code=200)  # htmx swaps the row for nothing
    return redirect(request, "/settings/sessions", message=message)


@router.post("/settings/sessions/{session_id}/revoke")
async def revoke_session(
    request: Request, session: SessionDep, viewer: CurrentUser, session_id: int
) -> Response:
    """Log out one of your other browsers."""
    current = getattr(request.state, "web_session_id", None)
    if session_id == current:
        return await _log_out_here(request, session)
    await account_sessions.end_session(session, user_id=viewer.id, session_id=session_id)
    await session.commit()
    return _done(request, "That session was logged out.")


async def _log_out_here(request: Request, session: SessionDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    await auth_service.end_session(session, token)
    await session.commit()
    response = redirect(request, "/", message="You have logged out.")
    clear_session_cookie(response)
    return response


@router.post("/settings/sessions/revoke-others")
async def revoke_other_sessions(
    request: Request, session: SessionDep, viewer: CurrentUser
) -> Response:
    """Log out every browser but this one."""
    await account_sessions.end_sessions(
        session, user_id=viewer.id, keep=getattr(request.state, "web_session_id", None)
    )
    await session.commit()
    return redirect(request, "/settings/sessions", message="Your other sessions were logged out.")


@router.post("/settings/apps/{app_id}/revoke")
async def revoke_app(
    request: Request, session: SessionDep, viewer: CurrentUser, app_id: int
) -> Response:
    """Take away an app's access to your account."""
    await account_sessions.revoke_app(session, user_id=viewer.id, app_id=app_id)
    await session.commit()
    return _done(request, "The app's access was revoked.")


# ---- Settings: delete account


@router.get("/settings/delete")
async def delete_page(request: Request, viewer: CurrentUser) -> Response:
    """Confirm deleting your account."""
    context = {"section": "delete", "errors": {}}
    return render(request, "settings/delete.html", context, viewer=viewer)


@router.post("/settings/delete")
async def delete_account(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    password: Annotated[LongText, Form()] = "",
    username: Annotated[ShortText, Form()] = "",
) -> Response:
    """Delete your account: it is gone at once, its posts and the rest are removed soon."""
    try:
        await deletion.delete_account(session, user=viewer, password=password, username=username)
    except ValidationFailed as exc:
        context = {"section": "delete", "errors": _errors(exc)}
        return render(request, "settings/delete.html", context, viewer=viewer, status_code=422)
    await session.commit()
    response = redirect(request, "/", message="Your account was deleted.")
    clear_session_cookie(response)
    return response

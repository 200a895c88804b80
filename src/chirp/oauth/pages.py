"""The OAuth authorisation page: log in, then approve or deny an app's request."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from chirp.deps import SessionDep
from chirp.errors import ValidationFailed
from chirp.oauth import service as oauth_service
from chirp.oauth.models import OAuthApp
from chirp.oauth.service import OOB_REDIRECT
from chirp.parsing import LongText, Token
from chirp.web.headers import OAUTH_AUTHORIZE_POLICY
from chirp.web.htmx import render
from chirp.web.session import CurrentUser, OptionalUser

router = APIRouter()


async def _checked(
    session: SessionDep, client_id: str, redirect_uri: str, scope: str | None
) -> tuple[OAuthApp, list[str]]:
    app = await oauth_service.get_app(session, client_id)
    if app is None:
        raise ValidationFailed("Unknown client_id: this app is not registered here.")
    try:
        scopes = oauth_service.check_authorize_request(app, redirect_uri=redirect_uri, scope=scope)
    except oauth_service.OAuthError as exc:
        raise ValidationFailed(exc.description) from exc
    return app, scopes


def _redirect_with(redirect_uri: str, params: dict[str, str]) -> Response:
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(params)}", status_code=303)


@router.get("/oauth/authorize")
@router.get("/oauth/authorize/")
async def authorize_page(
    request: Request,
    session: SessionDep,
    viewer: OptionalUser,
    client_id: Token = "",
    redirect_uri: LongText = "",
    response_type: Token = "code",
    scope: LongText | None = None,
    state: LongText | None = None,
    code_challenge: Token | None = None,
    code_challenge_method: Token | None = None,
    force_login: bool = False,
) -> Response:
    """Ask the logged-in user to approve an app's access."""
    if response_type != "code":
        raise ValidationFailed("Only response_type=code is supported.")
    if code_challenge and (code_challenge_method or "plain") != "S256":
        raise ValidationFailed("Only the S256 code challenge method is supported.")
    app, scopes = await _checked(session, client_id, redirect_uri, scope)
    if viewer is None or force_login:
        here = request.url.path + "?" + request.url.query
        return RedirectResponse(f"/login?{urlencode({'next': here})}", status_code=303)
    context = {
        "app": app,
        "scopes": scopes,
        "fields": {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state or "",
            "code_challenge": code_challenge or "",
        },
    }
    return render(
        request,
        "oauth/authorize.html",
        context,
        viewer=viewer,
        headers={"Content-Security-Policy": OAUTH_AUTHORIZE_POLICY},
    )


@router.post("/oauth/authorize")
@router.post("/oauth/authorize/")
async def authorize(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    client_id: Annotated[Token, Form()] = "",
    redirect_uri: Annotated[LongText, Form()] = "",
    scope: Annotated[LongText, Form()] = "",
    state: Annotated[LongText, Form()] = "",
    code_challenge: Annotated[Token, Form()] = "",
    decision: Annotated[Token, Form()] = "deny",
) -> Response:
    """Record the user's decision and send them back to the app."""
    app, scopes = await _checked(session, client_id, redirect_uri, scope)
    extra = {"state": state} if state else {}
    if decision != "approve":
        if redirect_uri == OOB_REDIRECT:
            return render(request, "oauth/denied.html", {"app": app}, viewer=viewer)
        error = "The resource owner or authorization server denied the request."
        return _redirect_with(
            redirect_uri, {"error": "access_denied", "error_description": error, **extra}
        )
    code = await oauth_service.grant_code(
        session,
        app=app,
        user=viewer,
        redirect_uri=redirect_uri,
        scopes=scopes,
        code_challenge=code_challenge or None,
    )
    await session.commit()
    if redirect_uri == OOB_REDIRECT:
        return render(request, "oauth/code.html", {"app": app, "code": code}, viewer=viewer)
    return _redirect_with(redirect_uri, {"code": code, **extra})

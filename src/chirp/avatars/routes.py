"""GET /avatars/{id}: every avatar a page or a client shows, served from this origin."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from chirp.avatars.gravatar import GravatarCache
from chirp.avatars.identicon import identicon_svg
from chirp.deps import SessionDep, SettingsDep
from chirp.errors import NotFound
from chirp.parsing import path_id
from chirp.users import service as users_service

router = APIRouter(include_in_schema=False)

# The URL names what is drawn (``avatars.urls``), so an identicon never changes under it.
_FOREVER = "public, max-age=31536000, immutable"
# Gravatar did not answer (in time): the identicon stands in until it is asked again.
_FOR_NOW = "public, max-age=60"
# Nothing in an avatar needs to run or load anything, even opened on its own.
_CSP = "default-src 'none'; sandbox"
_SVG = "image/svg+xml"


@router.get("/avatars/{user_id}")
async def avatar(
    request: Request, user_id: str, session: SessionDep, settings: SettingsDep
) -> Response:
    """Serve an account's avatar: its Gravatar image when enabled and found, else its identicon."""
    user = await users_service.get(session, path_id(user_id))
    if user is None:
        raise NotFound("There is no such account.")
    account_id, email_key = user.id, user.email_key
    # The connection goes back to the pool before any wait on Gravatar.
    await session.close()
    if not settings.gravatar:
        return _image(identicon_svg(account_id), _SVG, _FOREVER)
    gravatar: GravatarCache = request.app.state.gravatar
    found = await gravatar.lookup(email_key)
    kept = f"public, max-age={settings.gravatar_refresh_seconds}"
    if found.image is not None:
        return _image(found.image.data, found.image.content_type, kept)
    return _image(identicon_svg(account_id), _SVG, kept if found.settled else _FOR_NOW)


def _image(data: bytes, content_type: str, cache_control: str) -> Response:
    return Response(
        data,
        media_type=content_type,
        headers={"Cache-Control": cache_control, "Content-Security-Policy": _CSP},
    )

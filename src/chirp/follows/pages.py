"""Web actions: follow and unfollow, in place with htmx or as plain form posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from chirp.deps import HomeTimelineDep, SessionDep
from chirp.errors import NotFound, ValidationFailed
from chirp.parsing import LongText, path_text
from chirp.users import service as users_service
from chirp.web.htmx import back, form_error, is_htmx, render
from chirp.web.session import CurrentUser

router = APIRouter()


async def _change(
    request: Request,
    session: SessionDep,
    timeline: HomeTimelineDep,
    viewer: CurrentUser,
    username: str,
    next_url: str | None,
    *,
    follow: bool,
) -> Response:
    target = await users_service.get_by_username(session, path_text(username))
    if target is None:
        raise NotFound("There is no one called @" + username + " here.")
    try:
        if follow:
            await timeline.follow(session, follower=viewer, followee=target)
        else:
            await timeline.unfollow(session, follower=viewer, followee=target)
    except ValidationFailed as exc:
        if is_htmx(request):
            return form_error(request, exc.message, target=f"#follow-error-{target.id}")
        raise
    if is_htmx(request):
        # The button swaps itself; the follower count on the page follows out of band.
        context = {"user": target, "following": follow, "update_counts": True}
        return render(request, "users/_follow_button.html", context, viewer=viewer)
    message = (
        f"You are now following @{target.username}."
        if follow
        else f"You unfollowed @{target.username}."
    )
    return back(request, next_url, default=f"/@{target.username}", message=message)


@router.post("/@{username}/follow")
async def follow(
    request: Request,
    session: SessionDep,
    timeline: HomeTimelineDep,
    viewer: CurrentUser,
    username: str,
    next: Annotated[LongText | None, Form()] = None,
) -> Response:
    """Follow a user."""
    return await _change(request, session, timeline, viewer, username, next, follow=True)


@router.post("/@{username}/unfollow")
async def unfollow(
    request: Request,
    session: SessionDep,
    timeline: HomeTimelineDep,
    viewer: CurrentUser,
    username: str,
    next: Annotated[LongText | None, Form()] = None,
) -> Response:
    """Stop following a user."""
    return await _change(request, session, timeline, viewer, username, next, follow=False)

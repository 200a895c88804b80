"""Web pages: write a post, read one post, delete a post."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from chirp.api.paging import parse_id
from chirp.deps import SessionDep, SettingsDep
from chirp.errors import NotFound, ValidationFailed
from chirp.posts import service as posts_service
from chirp.ratelimit.deps import enforce_posting
from chirp.web.htmx import back, form_error, is_htmx, render
from chirp.web.session import CurrentUser, OptionalUser

router = APIRouter()


@router.post("/posts")
async def create(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: CurrentUser,
    text: Annotated[str, Form()] = "",
    _limit: Annotated[None, Depends(enforce_posting)] = None,
) -> Response:
    """Publish a post from the composer."""
    try:
        post = await posts_service.create_post(
            session, author=viewer, text=text, max_length=settings.max_post_length
        )
    except ValidationFailed as exc:
        # Nothing was written (the text is checked first); the session ends without a commit.
        if is_htmx(request):
            return form_error(request, exc.message, target="#composer-error")
        return render(
            request,
            "timeline/home.html",
            {
                "posts": [],
                "next_max_id": None,
                "composer_text": text,
                "composer_error": exc.message,
            },
            viewer=viewer,
            status_code=422,
        )
    await session.commit()
    if is_htmx(request):
        return render(request, "posts/_post.html", {"post": post}, viewer=viewer)
    return RedirectResponse("/", status_code=303)


@router.get("/@{username}/{post_id}")
async def permalink(
    request: Request, session: SessionDep, viewer: OptionalUser, username: str, post_id: str
) -> Response:
    """One post on a page of its own."""
    post = await posts_service.get_post_or_404(session, parse_id(post_id))
    if post.author.username_key != username.lower():
        raise NotFound("This post does not exist.")
    return render(request, "posts/permalink.html", {"post": post}, viewer=viewer)


@router.post("/posts/{post_id}/delete")
async def delete(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    post_id: str,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Delete one of your posts."""
    post = await posts_service.get_post_or_404(session, parse_id(post_id))
    await posts_service.delete_post(session, post=post, actor=viewer)
    await session.commit()
    if is_htmx(request):
        return Response(status_code=200)
    return back(request, next, default=f"/@{viewer.username}")

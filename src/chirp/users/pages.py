"""Web pages: the directory, profiles, and follower and following lists."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from chirp import languages
from chirp.deps import SessionDep, SettingsDep
from chirp.errors import NotFound, ValidationFailed
from chirp.follows import service as follows_service
from chirp.pagination import Cursor
from chirp.parsing import MAX_PAGE, Page, ShortText, path_text
from chirp.posts import feed
from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.users import service as users_service
from chirp.users.models import User
from chirp.web import paging
from chirp.web.htmx import is_htmx, redirect, render
from chirp.web.session import CurrentUser, OptionalUser

router = APIRouter()

DIRECTORY_PAGE = 20


async def _user(session: SessionDep, username: str) -> User:
    user = await users_service.get_by_username(session, path_text(username))
    if user is None:
        raise NotFound("There is no one called @" + username + " here.")
    return user


async def _followed(session: SessionDep, viewer: User | None, users: list[User]) -> set[int]:
    if viewer is None:
        return set()
    return await follows_service.following_ids(
        session, viewer_id=viewer.id, candidates=[u.id for u in users]
    )


@router.get("/users")
async def directory(
    request: Request, session: SessionDep, viewer: OptionalUser, page: Page = 1
) -> Response:
    """Everyone on this server, most recently active first."""
    users = await users_service.directory(
        session, offset=(page - 1) * DIRECTORY_PAGE, limit=DIRECTORY_PAGE
    )
    context = {
        "users": users,
        "followed": await _followed(session, viewer, users),
        "next_url": (
            f"/users?page={page + 1}"
            if len(users) == DIRECTORY_PAGE
            and page < MAX_PAGE
            and page * DIRECTORY_PAGE <= users_service.MAX_DIRECTORY_OFFSET
            else None
        ),
        "page": page,
    }
    template = "users/_page.html" if is_htmx(request) and page > 1 else "users/directory.html"
    return render(request, template, context, viewer=viewer)


@router.get("/@{username}")
async def profile(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: OptionalUser,
    username: str,
    max_id: str | None = None,
    until: str | None = None,
) -> Response:
    """A user's profile and posts, newest first."""
    return await _profile(request, session, settings, viewer, username, max_id, until)


@router.get("/@{username}/media")
async def profile_media(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: OptionalUser,
    username: str,
    max_id: str | None = None,
    until: str | None = None,
) -> Response:
    """A user's profile and their posts with images (no reposts), newest first."""
    return await _profile(
        request, session, settings, viewer, username, max_id, until, only_media=True
    )


async def _profile(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: User | None,
    username: str,
    max_id: str | None,
    until: str | None,
    *,
    only_media: bool = False,
) -> Response:
    user = await _user(session, username)
    tab = "/media" if only_media else ""
    if user.username != username and not max_id and not until:
        return RedirectResponse(f"/@{user.username}{tab}", status_code=301)

    async def fetch(cursor: Cursor) -> list[Post]:
        return await posts_service.by_author(
            session, author_id=user.id, cursor=cursor, viewer=viewer, only_media=only_media
        )

    listed = await paging.read(fetch, max_id=max_id, until=until, page_size=settings.page_size)
    context = {
        "user": user,
        "posts": listed.items,
        "feed": await feed.load(session, listed.items, viewer=viewer),
        "next_max_id": listed.next_max_id,
        "more_url": f"/@{user.username}{tab}",
        "paged": max_id is not None,
        "followed": await _followed(session, viewer, [user]),
        "tab": "media" if only_media else "posts",
    }
    template = "posts/_page.html" if is_htmx(request) and max_id else "users/profile.html"
    return render(request, template, context, viewer=viewer)


async def _people(
    request: Request,
    session: SessionDep,
    viewer: User | None,
    username: str,
    which: Literal["followers", "following"],
    max_id: str | None,
) -> Response:
    user = await _user(session, username)
    cursor = paging.cursor(max_id, DIRECTORY_PAGE)
    page = (
        follows_service.followers_page if which == "followers" else follows_service.following_page
    )
    pairs = await page(session, user_id=user.id, cursor=cursor)
    users = [u for _, u in pairs]
    next_id = paging.next_max_id([follow_id for follow_id, _ in pairs], DIRECTORY_PAGE)
    context = {
        "user": user,
        "which": which,
        "users": users,
        "followed": await _followed(session, viewer, users),
        "next_url": f"/@{user.username}/{which}?max_id={next_id}" if next_id else None,
        "paged": max_id is not None,
    }
    template = "users/_page.html" if is_htmx(request) and max_id else "users/people.html"
    return render(request, template, context, viewer=viewer)


@router.get("/@{username}/followers")
async def followers(
    request: Request,
    session: SessionDep,
    viewer: OptionalUser,
    username: str,
    max_id: str | None = None,
) -> Response:
    """People who follow this user."""
    return await _people(request, session, viewer, username, "followers", max_id)


@router.get("/@{username}/following")
async def following(
    request: Request,
    session: SessionDep,
    viewer: OptionalUser,
    username: str,
    max_id: str | None = None,
) -> Response:
    """People this user follows."""
    return await _people(request, session, viewer, username, "following", max_id)


@router.get("/settings")
async def settings_page(request: Request, viewer: CurrentUser) -> Response:
    """Your posting defaults: who sees a new post, and its language."""
    context = {"languages": languages.choices(), "errors": {}, "values": {}}
    return render(request, "users/settings.html", context, viewer=viewer)


@router.post("/settings")
async def save_settings(
    request: Request,
    session: SessionDep,
    viewer: CurrentUser,
    privacy: Annotated[ShortText | None, Form()] = None,
    language: Annotated[ShortText | None, Form()] = None,
) -> Response:
    """Change your posting defaults."""
    try:
        await users_service.update_posting_defaults(
            session, user=viewer, privacy=privacy, language=language
        )
    except ValidationFailed as exc:
        field = "language" if exc.field and "language" in exc.field else "privacy"
        context = {
            "languages": languages.choices(),
            "errors": {field: exc.message},
            "values": {"privacy": privacy, "language": language},
        }
        return render(request, "users/settings.html", context, viewer=viewer, status_code=422)
    await session.commit()
    return redirect(request, "/settings", message="Your settings were saved.")

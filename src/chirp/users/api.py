"""Mastodon API: accounts, relationships, follows and the directory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from chirp.accounts import service as accounts_service
from chirp.api import present
from chirp.api.auth import TokenContext, UserContext, optional_user, require_token, require_user
from chirp.api.links import set_link_header
from chirp.api.paging import ID_SEGMENT, AccountsCursorDep, CursorDep, parse_id
from chirp.api.params import body_docs, params
from chirp.api.unsupported import refuse
from chirp.config import Settings
from chirp.deps import HomeTimelineDep, SessionDep, SettingsDep
from chirp.errors import Forbidden, NotFound, ValidationFailed
from chirp.follows import service as follows_service
from chirp.media import api as media_api
from chirp.media import profile_images
from chirp.media.storage import Storage
from chirp.oauth import scopes as scope_rules
from chirp.oauth import service as oauth_service
from chirp.oauth.schemas import TokenOut
from chirp.parsing import MAX_OFFSET, Limit, Offset, ShortText, query_ids
from chirp.posts import feed
from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.posts.schemas import StatusOut
from chirp.ratelimit.deps import count_signup, refusal, signup_refused
from chirp.users import editing
from chirp.users import service as users_service
from chirp.users.models import User
from chirp.users.schemas import (
    AccountOut,
    CredentialAccountOut,
    FollowIn,
    PreferencesOut,
    RegistrationIn,
    RelationshipOut,
    UpdateCredentialsIn,
)

router = APIRouter(prefix="/api/v1", tags=["accounts"])

# Mastodon 4.3's `profile` scope opens this one endpoint, for "log in with" clients.
OwnAccount = Annotated[UserContext, Depends(require_user("read:accounts", "profile"))]
# Clients ask about one screen of accounts at a time; more is refused, not truncated.
MAX_IDS = 100

ReadFollows = Annotated[UserContext, Depends(require_user("read:follows"))]
WriteFollows = Annotated[UserContext, Depends(require_user("write:follows"))]
MaybeReader = Annotated[UserContext | None, Depends(optional_user("read:accounts"))]
# Public reads: a token sent must still be valid and allowed to read accounts (Mastodon).
READ_ACCOUNTS = Depends(optional_user("read:accounts"))


async def _account(session: SessionDep, raw_id: str) -> User:
    return await users_service.get_or_404(session, parse_id(raw_id))


@router.post(
    "/accounts",
    response_model=TokenOut,
    openapi_extra=body_docs(RegistrationIn),
    dependencies=[
        Depends(
            refuse(
                reason="sign-ups here need no approval, so there is no one to read a reason",
                date_of_birth="this server asks no minimum age",
            )
        ),
    ],
)
async def register(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ctx: Annotated[TokenContext, Depends(require_token("write:accounts"))],
    body: Annotated[RegistrationIn, Depends(params(RegistrationIn))],
) -> TokenOut:
    """Register an account with an app token; returns a token for the new user."""
    if not settings.registrations_open:
        raise Forbidden("Registrations are closed on this server")
    refused = await signup_refused(request)
    if refused is not None:
        raise refusal(refused)
    user = await users_service.register(
        session,
        username=body.username,
        email=body.email,
        password=body.password,
        agreement=body.agreement,
        locale=body.locale,
        confirmed=not settings.require_email_confirmation,
    )
    if settings.require_email_confirmation:
        # As Mastodon: the token is issued, and answers 403 until the address is confirmed.
        await accounts_service.send_confirmation(session, settings=settings, user=user)
    issued = await oauth_service.issue_for_user(
        session, app=ctx.token.app, user=user, scopes=scope_rules.parse(ctx.token.scopes)
    )
    await session.commit()
    await count_signup(request)
    return TokenOut.of(issued)


@router.get("/accounts/verify_credentials", response_model=CredentialAccountOut)
async def verify_credentials(ctx: OwnAccount, settings: SettingsDep) -> CredentialAccountOut:
    """The authenticated user's own account, with its source."""
    return present.credential_account(ctx.user, settings)


# Account features Chirp does not have: each may be sent only with the value it always has.
_FIXED = {
    "bot": False,
    "discoverable": True,
    "hide_collections": False,
    "indexable": True,
}


@router.patch(
    "/accounts/update_credentials",
    response_model=CredentialAccountOut,
    openapi_extra=body_docs(
        UpdateCredentialsIn,
        files={
            "avatar": "A JPEG, PNG, GIF or WebP image, cropped to a 400x400 square.",
            "header": "A JPEG, PNG, GIF or WebP image, cropped to 1500x500.",
        },
    ),
    dependencies=[
        Depends(
            refuse(
                # Files pass (they are no parameters); text in their place is refused.
                avatar="send the image as a multipart file",
                header="send the image as a multipart file",
                attribution_domains="this server shows no link previews to credit",
                **{"source[quote_policy]": "this server has no quote posts yet"},
            )
        )
    ],
)
async def update_credentials(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    storage: media_api.StorageDep,
    ctx: Annotated[UserContext, Depends(require_user("write:accounts"))],
    body: Annotated[UpdateCredentialsIn, Depends(params(UpdateCredentialsIn))],
) -> CredentialAccountOut:
    """Change your profile (display name, bio, fields, locked, ``avatar`` and ``header`` as
    multipart image files) and posting defaults (``source[privacy]``, ``[sensitive]``,
    ``[language]``); all or nothing."""
    for name, fixed in _FIXED.items():
        sent = getattr(body, name)
        if sent is not None and sent != fixed:
            wanted = str(fixed).lower()
            raise ValidationFailed(f"{name} can only be {wanted} on this server", field=name)
    # First: images are processed with no transaction held (nothing is written before).
    await _set_images(request, session, storage, settings, ctx.user)
    await editing.apply(session, user=ctx.user, changes=body)
    await session.commit()
    return present.credential_account(ctx.user, settings)


async def _set_images(
    request: Request, session: SessionDep, storage: Storage, settings: Settings, user: User
) -> None:
    """Take the ``avatar`` and ``header`` files of the request, both processed before either
    is set."""
    avatar = await media_api.read_file(request, "avatar", settings)
    header = await media_api.read_file(request, "header", settings)
    if avatar is not None or header is not None:
        await profile_images.set_images(
            session, storage, settings, user=user, avatar=avatar, header=header
        )


@router.get("/preferences", response_model=PreferencesOut, tags=["preferences"])
async def preferences(
    ctx: Annotated[UserContext, Depends(require_user("read:accounts"))],
) -> PreferencesOut:
    """Your posting defaults and reading preferences, as Mastodon names them."""
    return PreferencesOut.of(ctx.user)


@router.get("/accounts/relationships", response_model=list[RelationshipOut])
async def relationships(
    request: Request,
    session: SessionDep,
    ctx: ReadFollows,
    _ids: Annotated[
        list[str],
        Query(alias="id[]", description=f"Account ids (also as ``id``), at most {MAX_IDS}."),
    ] = [],  # noqa: B006 - FastAPI copies defaults
    with_suspended: Annotated[
        bool, Query(description="Chirp suspends no accounts: every one is always included.")
    ] = False,
) -> list[RelationshipOut]:
    """The viewer's relationship with each account in ``id[]``."""
    raw = request.query_params.getlist("id[]") + request.query_params.getlist("id")
    ids = query_ids("id", raw, most=MAX_IDS)
    known = await users_service.get_many(session, ids)
    rels = await follows_service.relationships(
        session, viewer_id=ctx.user.id, ids=[i for i in ids if i in known]
    )
    return [present.relationship(r) for r in rels]


@router.get("/accounts/lookup", response_model=AccountOut, dependencies=[READ_ACCOUNTS])
async def lookup(
    session: SessionDep,
    settings: SettingsDep,
    acct: Annotated[ShortText, Query(description="username, @username or username@domain")],
) -> AccountOut:
    """Find an account by its username (``acct``)."""
    name, _, domain = acct.strip().removeprefix("@").partition("@")
    if domain and domain.lower() != settings.domain.lower():
        raise NotFound()
    user = await users_service.get_by_username(session, name)
    if user is None:
        raise NotFound()
    return present.account(user, settings)


# Digits only in the route itself, so /accounts/update_credentials (PATCH) is not also this
# GET: a 405 there lists PATCH alone. Any other segment is a 404, as before.
@router.get(
    f"/accounts/{{account_id:{ID_SEGMENT}}}",
    response_model=AccountOut,
    dependencies=[READ_ACCOUNTS],
)
async def get_account(account_id: str, session: SessionDep, settings: SettingsDep) -> AccountOut:
    """An account by id."""
    return present.account(await _account(session, account_id), settings)


@router.get(
    "/accounts/{account_id}/statuses",
    response_model=list[StatusOut],
    dependencies=[Depends(refuse(tagged="Chirp does not index hashtags yet"))],
)
async def account_statuses(
    account_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    cursor: CursorDep,
    viewer: MaybeReader,
    pinned: bool = False,
    exclude_replies: bool = False,
    exclude_reblogs: bool = False,
    only_media: bool = False,
) -> list[StatusOut]:
    """An account's posts, newest first."""
    user = await _account(session, account_id)
    if pinned:
        posts: list[Post] = []  # Chirp has no pinned posts yet
    else:
        posts = await posts_service.by_author(
            session,
            author_id=user.id,
            cursor=cursor,
            viewer=viewer.user if viewer else None,
            replies=not exclude_replies,
            reblogs=not exclude_reblogs,
            only_media=only_media,
        )
    _link(request, response, [p.id for p in posts])
    reader = viewer.user if viewer else None
    return present.statuses(await feed.load(session, posts, viewer=reader), settings)


@router.get(
    "/accounts/{account_id}/followers",
    response_model=list[AccountOut],
    dependencies=[READ_ACCOUNTS],
)
async def followers(
    account_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    cursor: AccountsCursorDep,
) -> list[AccountOut]:
    """Accounts following this one, most recent follow first (paged by follow id)."""
    user = await _account(session, account_id)
    pairs = await follows_service.followers_page(session, user_id=user.id, cursor=cursor)
    return _people(request, response, settings, pairs)


@router.get(
    "/accounts/{account_id}/following",
    response_model=list[AccountOut],
    dependencies=[READ_ACCOUNTS],
)
async def following(
    account_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    cursor: AccountsCursorDep,
) -> list[AccountOut]:
    """Accounts this one follows, most recent follow first (paged by follow id)."""
    user = await _account(session, account_id)
    pairs = await follows_service.following_page(session, user_id=user.id, cursor=cursor)
    return _people(request, response, settings, pairs)


def _people(
    request: Request, response: Response, settings: Settings, pairs: Sequence[tuple[int, User]]
) -> list[AccountOut]:
    # Paged by follow id (when the follow happened), as Mastodon does, not by account id.
    _link(request, response, [follow_id for follow_id, _ in pairs])
    return [present.account(u, settings) for _, u in pairs]


@router.post(
    "/accounts/{account_id}/follow",
    response_model=RelationshipOut,
    openapi_extra=body_docs(FollowIn),
    dependencies=[Depends(refuse(languages="posts have no language filter in home timelines yet"))],
)
async def follow(
    account_id: str,
    session: SessionDep,
    ctx: WriteFollows,
    timeline: HomeTimelineDep,
    body: Annotated[FollowIn, Depends(params(FollowIn))],
) -> RelationshipOut:
    """Follow an account (doing it again changes nothing)."""
    target = await _account(session, account_id)
    if target.id == ctx.user.id:
        raise NotFound()  # Mastodon's answer to following oneself (its FollowService)
    await timeline.follow(
        session, follower=ctx.user, followee=target, reblogs=body.reblogs, notify=body.notify
    )
    return await _relationship(session, ctx.user, target)


@router.post("/accounts/{account_id}/unfollow", response_model=RelationshipOut)
async def unfollow(
    account_id: str, session: SessionDep, ctx: WriteFollows, timeline: HomeTimelineDep
) -> RelationshipOut:
    """Stop following an account (doing it again changes nothing)."""
    target = await _account(session, account_id)
    await timeline.unfollow(session, follower=ctx.user, followee=target)
    return await _relationship(session, ctx.user, target)


async def _relationship(session: SessionDep, viewer: User, target: User) -> RelationshipOut:
    [rel] = await follows_service.relationships(session, viewer_id=viewer.id, ids=[target.id])
    return present.relationship(rel)


@router.get("/directory", response_model=list[AccountOut], tags=["directory"])
async def directory(
    session: SessionDep,
    settings: SettingsDep,
    offset: Annotated[Offset, Query(description=f"At most {MAX_OFFSET}.")] = 0,
    limit: Annotated[Limit, Query(description="At most 80; larger values are taken as 80.")] = 40,
    order: Annotated[str, Query(pattern="^(active|new)$")] = "active",
    local: bool = False,
) -> list[AccountOut]:
    """Every account, most recently active (or newest) first."""
    users = await users_service.directory(
        session, order=order, offset=offset, limit=max(1, min(limit, 80))
    )
    return [present.account(u, settings) for u in users]


def _link(request: Request, response: Response, ids: list[int]) -> None:
    set_link_header(
        request, response, newest_id=ids[0] if ids else None, oldest_id=ids[-1] if ids else None
    )

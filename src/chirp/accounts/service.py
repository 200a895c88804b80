"""Password resets, email confirmation and changes of email and password."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.accounts import links
from chirp.accounts import sessions as account_sessions
from chirp.auth.models import AccountToken
from chirp.auth.passwords import hash_password
from chirp.config import Settings
from chirp.db import utcnow
from chirp.errors import ChirpError, Forbidden, ValidationFailed
from chirp.mail import jobs as mail_jobs
from chirp.users import service as users_service
from chirp.users import validation
from chirp.users.models import User

# Mastodon's words.
UNCONFIRMED = "Your login is missing a confirmed e-mail address"
AWAITING_ONLY = "This method is only available while the e-mail is awaiting confirmation"


class EmailUnconfirmed(ChirpError):
    """The account has not confirmed its address while this server requires it."""

    status = 403

    def __init__(self) -> None:
        super().__init__(UNCONFIRMED)


def is_confirmed(settings: Settings, user: User) -> bool:
    """Whether the user may log in as far as email confirmation goes."""
    return user.email_confirmed_at is not None or not settings.require_email_confirmation


def check_confirmed(settings: Settings, user: User) -> None:
    """Raise EmailUnconfirmed when the server requires a confirmation the user lacks."""
    if not is_confirmed(settings, user):
        raise EmailUnconfirmed()


async def find_by_email(session: AsyncSession, email: str) -> User | None:
    """The live account with this address (any case), or None."""
    stmt = select(User).where(User.email_key == email.strip().lower())
    return (await session.execute(stmt)).scalar_one_or_none()


async def request_password_reset(session: AsyncSession, *, settings: Settings, email: str) -> None:
    """Mail a reset link if an account has this address; say nothing either way."""
    user = await find_by_email(session, email)
    if user is None:
        return
    token = await links.issue(session, user_id=user.id, kind=links.RESET)
    link = f"{settings.base_url}/reset-password/{token}"
    await mail_jobs.enqueue_mail(
        session,
        to=user.email,
        subject=f"Reset your password on {settings.instance_title}",
        body=(
            f"Hello @{user.username},\n\n"
            f"Someone asked to reset the password of your account on "
            f"{settings.instance_title}. To choose a new password, open this link within "
            f"an hour:\n\n{link}\n\n"
            "The link works once. If you did not ask for it, ignore this mail: your "
            "password stays as it is.\n"
        ),
    )


async def _owner(session: AsyncSession, found: AccountToken) -> User:
    """The account a link was issued to; InvalidLink if it is gone."""
    user = await users_service.get(session, found.user_id)
    if user is None:
        raise links.InvalidLink()
    return user


async def check_reset_link(session: AsyncSession, *, token: str) -> User:
    """The user a live reset link is for; raise InvalidLink otherwise."""
    found = await links.peek(session, token=token, kind=links.RESET)
    user = await _owner(session, found)
    return user


async def reset_password(session: AsyncSession, *, token: str, password: str) -> User:
    """Set a new password through a reset link (once), ending every session and token."""
    # The link is checked before the (slow) hash, so guessing links costs no hashing.
    await links.peek(session, token=token, kind=links.RESET)
    validation.check_password(password)
    password_hash = await hash_password(password)
    found = await links.redeem(session, token=token, kind=links.RESET)
    user = await _owner(session, found)
    user.password_hash = password_hash
    # Whoever knew the old password is logged out everywhere, browsers and apps alike.
    await account_sessions.end_sessions(session, user_id=user.id)
    await account_sessions.revoke_tokens(session, user_id=user.id)
    # Following the mailed link proves the address too.
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    await session.flush()
    return user


async def send_confirmation(
    session: AsyncSession, *, settings: Settings, user: User, email: str | None = None
) -> None:
    """Mail a link confirming ``email`` (default: the account's address) to that address."""
    address = email or user.email
    token = await links.issue(session, user_id=user.id, kind=links.CONFIRM, email=address)
    link = f"{settings.base_url}/confirm-email/{token}"
    await mail_jobs.enqueue_mail(
        session,
        to=address,
        subject=f"Confirm your email address on {settings.instance_title}",
        body=(
            f"Hello @{user.username},\n\n"
            f"Please confirm that {address} is your address on {settings.instance_title} "
            f"by opening this link within two days:\n\n{link}\n\n"
            "If you did not ask for this, ignore this mail.\n"
        ),
    )


async def confirm_email(session: AsyncSession, *, token: str) -> User:
    """Follow a confirmation link: confirm the account, or switch to the new address."""
    found = await links.redeem(session, token=token, kind=links.CONFIRM)
    user = await _owner(session, found)
    address = found.email or user.email
    if address.lower() != user.email_key:
        if user.unconfirmed_email is None or user.unconfirmed_email.lower() != address.lower():
            raise links.InvalidLink()  # a later change replaced the address it confirms
        user.email = address
        user.email_key = address.lower()
        user.unconfirmed_email = None
    user.email_confirmed_at = utcnow()
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise ValidationFailed(
            "Email has already been taken", field="email", code="ERR_TAKEN"
        ) from exc
    return user


async def resend_confirmation(
    session: AsyncSession, *, settings: Settings, user: User, email: str | None = None
) -> None:
    """Send the confirmation again, to a corrected address when ``email`` is given (Mastodon's
    ``POST /api/v1/emails/confirmations``); only while the account awaits confirmation."""
    if user.email_confirmed_at is not None and user.unconfirmed_email is None:
        raise Forbidden(AWAITING_ONLY)
    if email:
        address = validation.clean_email(email)
        if await _email_taken(session, address, user):
            raise ValidationFailed("Email has already been taken", field="email", code="ERR_TAKEN")
        if user.email_confirmed_at is None:
            user.email, user.email_key = address, address.lower()
        else:
            user.unconfirmed_email = address
        await session.flush()
    target = user.unconfirmed_email or user.email
    await send_confirmation(session, settings=settings, user=user, email=target)


async def _email_taken(session: AsyncSession, email: str, user: User) -> bool:
    other = await find_by_email(session, email)
    return other is not None and other.id != user.id


async def _check_current_password(session: AsyncSession, user: User, password: str) -> None:
    if not await users_service.password_matches(session, user, password):
        raise ValidationFailed(
            "Current password is incorrect", field="current_password", code="ERR_INVALID"
        )


async def change_password(
    session: AsyncSession,
    *,
    user: User,
    current_password: str,
    new_password: str,
    keep_session: int | None = None,
    keep_token: int | None = None,
) -> None:
    """Change the password (the current one is needed), ending every other session and token.

    Call it before writing anything in ``session``: checking the password ends a read-only
    transaction.
    """
    problem = validation.problem(validation.check_password, new_password)
    await _check_current_password(session, user, current_password)
    if problem is not None:
        raise ValidationFailed(problem.message, field="new_password", code=problem.code)
    user.password_hash = await hash_password(new_password)
    await account_sessions.end_sessions(session, user_id=user.id, keep=keep_session)
    await account_sessions.revoke_tokens(session, user_id=user.id, keep=keep_token)
    await session.flush()


async def change_email(
    session: AsyncSession, *, settings: Settings, user: User, password: str, email: str
) -> bool:
    """Change the address (the password is needed); return True when it waits for confirmation.

    When this server requires confirmation, the new address is kept apart (``unconfirmed_
    email``, as Mastodon) and a link is mailed to it; the old one stays until it is followed.
    """
    bad = validation.problem(validation.clean_email, email)
    await _check_current_password(session, user, password)
    if bad is not None:
        raise bad
    address = validation.clean_email(email)
    if address.lower() == user.email_key:
        user.unconfirmed_email = None
        await session.flush()
        return False
    if await _email_taken(session, address, user):
        raise ValidationFailed("Email has already been taken", field="email", code="ERR_TAKEN")
    if settings.require_email_confirmation:
        user.unconfirmed_email = address
        await session.flush()
        await send_confirmation(session, settings=settings, user=user, email=address)
        return True
    user.email, user.email_key = address, address.lower()
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise ValidationFailed(
            "Email has already been taken", field="email", code="ERR_TAKEN"
        ) from exc
    return False

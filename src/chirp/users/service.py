"""Account services: register, authenticate, look up and list users."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, Update, event, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import (
    InstrumentedAttribute,
    ORMExecuteState,
    Session,
    SessionTransaction,
    with_loader_criteria,
)

from chirp import languages
from chirp import visibility as post_visibility
from chirp.auth.passwords import hash_password, needs_rehash, verify_password
from chirp.db import show_written, utcnow
from chirp.errors import NotFound, ValidationFailed, check_all
from chirp.pagination import Cursor, fetch_page
from chirp.posts import mentions as post_mentions
from chirp.users import validation
from chirp.users.models import User


async def register(
    session: AsyncSession,
    *,
    username: str,
    email: str,
    password: str,
    display_name: str = "",
    is_admin: bool = False,
    agreement: bool = True,
    locale: str = "en",
    confirmed: bool = True,
) -> User:
    """Create an account; raise ValidationFailed naming every broken rule at once.

    ``confirmed`` False leaves the address to be confirmed by a mailed link.

    Call it before writing anything in ``session``: it ends a read-only transaction to hash.
    """
    bad_name = validation.problem(validation.clean_username, username)
    bad_email = validation.problem(validation.clean_email, email)
    bad_display_name = validation.problem(validation.clean_display_name, display_name)
    taken_name = taken_email = None
    # Taken names are checked before hashing, so refusals cost no hash (the unique index
    # still decides a race, below).
    if bad_name is None and await _name_reserved(session, username):
        taken_name = ValidationFailed(
            "Username has already been taken", field="username", code="ERR_TAKEN"
        )
    if bad_email is None and await _get_by_email(session, validation.clean_email(email)):
        taken_email = ValidationFailed(
            "Email has already been taken", field="email", code="ERR_TAKEN"
        )
    not_agreed = (
        None
        if agreement
        else ValidationFailed("Agreement must be accepted", field="agreement", code="ERR_ACCEPTED")
    )
    check_all(
        bad_name or taken_name,
        bad_email or taken_email,
        validation.problem(validation.check_password, password),
        bad_display_name,
        validation.problem(languages.locale, locale),
        not_agreed,
    )
    username = validation.clean_username(username)
    email = validation.clean_email(email)
    display_name = validation.clean_display_name(display_name)
    locale = languages.locale(locale)
    await _hand_back_connection(session)
    password_hash = await hash_password(password)
    user = User(
        username=username,
        username_key=username.lower(),
        email=email,
        email_key=email.lower(),
        password_hash=password_hash,
        display_name=display_name,
        is_admin=is_admin,
        locale=locale,
        email_confirmed_at=utcnow() if confirmed else None,
    )
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        # Two sign-ups raced for the same name or address; the unique index decided.
        raise ValidationFailed(
            "Username or email has already been taken", field="username", code="ERR_TAKEN"
        ) from exc
    return user


def login_key(login: str) -> str:
    """The form of a login (username, @username or email, any case) that accounts are found by."""
    return login.strip().lower().removeprefix("@")


async def find_for_login(session: AsyncSession, login: str) -> User | None:
    """Return the user a login names (username, @username or email, any case), or None."""
    key = login_key(login)
    stmt = select(User).where(or_(User.username_key == key, User.email_key == key))
    return (await session.execute(stmt)).scalar_one_or_none()


async def password_matches(session: AsyncSession, user: User | None, password: str) -> bool:
    """Whether ``password`` is the user's (False for None, after as long a check).

    Call it before writing anything in ``session``: it ends a read-only transaction to hash.
    """
    await _hand_back_connection(session)
    # Always run one argon2 verification so a missing account takes as long as a bad password.
    ok = await verify_password(user.password_hash if user else None, password)
    if user is None or not ok:
        return False
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
    return True


async def authenticate(session: AsyncSession, *, login: str, password: str) -> User | None:
    """Return the user whose username or email and password match, else None (no limits:
    the log-in doors go through chirp.auth.login, which counts failures per account)."""
    user = await find_for_login(session, login)
    return user if await password_matches(session, user, password) else None


# Set on a session once its transaction has written anything, cleared when it ends.
_WROTE = "chirp.users.wrote"


@event.listens_for(Session, "do_orm_execute")
def _note_statement_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


# Execution option (or ``session.info`` key, for a whole session): statements that must
# also see deleted accounts (the deletion job, the check that keeps a username reserved).
INCLUDE_DELETED = "chirp_include_deleted"
# Built once: the same option object keeps every statement's compiled form cached. A lambda,
# so that an aliased users table (``aliased(User)``) is filtered on its own columns.
_LIVE_ACCOUNTS = with_loader_criteria(
    User, lambda cls: cls.deleted_at.is_(None), include_aliases=True
)


@event.listens_for(Session, "do_orm_execute")
def _hide_deleted_accounts(state: ORMExecuteState) -> None:
    # A deleted account is gone from every surface at once, before jobs remove its rows:
    # every ORM read that names users (profiles, look-ups, and posts, whose author is joined
    # with an inner join) leaves it out. Reads of posts by id alone are hydrated through a
    # join with users, so deleted authors' posts drop out there too.
    if (
        state.is_select
        and not state.is_column_load
        and not state.is_relationship_load
        and not state.execution_options.get(INCLUDE_DELETED, False)
        and not state.session.info.get(INCLUDE_DELETED, False)
    ):
        state.statement = state.statement.options(_LIVE_ACCOUNTS)


async def _hand_back_connection(session: AsyncSession) -> None:
    # A hash takes a fraction of a second, and seconds when a burst of logins queues for the
    # hashing threads. Holding a transaction meanwhile held a pooled connection on PostgreSQL
    # (a burst took the whole pool) and the write lock on SQLite (every request waited).
    # A transaction that has only read is ended (its loaded rows stay usable); one that has
    # written is the caller's to commit or roll back, and is kept.
    pending = session.new or session.dirty or session.deleted
    if session.in_transaction() and not pending and not session.info.get(_WROTE):
        await session.commit()


async def get(session: AsyncSession, user_id: int) -> User | None:
    """Return the user with this id, or None."""
    return await session.get(User, user_id)


async def get_or_404(session: AsyncSession, user_id: int) -> User:
    """Return the user with this id, or raise NotFound."""
    user = await get(session, user_id)
    if user is None:
        raise NotFound()
    return user


async def get_by_username(session: AsyncSession, username: str) -> User | None:
    """Return the user with this username, ignoring case, or None."""
    stmt = select(User).where(User.username_key == username.strip().lower())
    return (await session.execute(stmt)).scalar_one_or_none()


async def _name_reserved(session: AsyncSession, username: str) -> bool:
    # A deleted account's name stays taken, in every case variant (the key is lower-cased).
    stmt = select(User.id).where(User.username_key == username.strip().lower())
    found = await session.execute(stmt, execution_options={INCLUDE_DELETED: True})
    return found.first() is not None


async def _get_by_email(session: AsyncSession, email: str) -> User | None:
    stmt = select(User).where(User.email_key == email.strip().lower())
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_many(session: AsyncSession, ids: Sequence[int]) -> dict[int, User]:
    """Return the users with these ids, keyed by id."""
    if not ids:
        return {}
    rows = await session.execute(select(User).where(User.id.in_(set(ids))))
    return {u.id: u for u in rows.scalars()}


# Deeper directory pages are refused: an offset page reads every row before it.
MAX_DIRECTORY_OFFSET = 10_000


def directory_query(*, order: str = "active") -> Select[User]:
    """Return a statement listing every user, most recently active (or newest) first."""
    # Both orders read an index in order (activity is recorded at most hourly, by
    # mark_active); ordering by the last post or join date computed per row sorted the
    # whole users table on every request.
    if order == "new":
        return select(User).order_by(User.created_at.desc(), User.id.desc())
    return select(User).order_by(User.last_active_at.desc(), User.id.desc())


async def directory(
    session: AsyncSession, *, order: str = "active", offset: int = 0, limit: int = 40
) -> list[User]:
    """Return one offset page of the directory; raise ValidationFailed past the deepest."""
    if offset > MAX_DIRECTORY_OFFSET:
        raise ValidationFailed(
            f"offset must be at most {MAX_DIRECTORY_OFFSET}", field="offset", code="ERR_INVALID"
        )
    rows = await session.execute(directory_query(order=order).offset(offset).limit(limit))
    return list(rows.scalars())


def admin_query(
    *, username: str | None = None, email: str | None = None, staff: bool = False
) -> Select[User]:
    """Accounts filtered as Mastodon's admin API does (callers paginate by id)."""
    stmt = select(User)
    if username:
        stmt = stmt.where(User.username_key.contains(username.strip().lower(), autoescape=True))
    if email:
        stmt = stmt.where(User.email_key.contains(email.strip().lower(), autoescape=True))
    if staff:
        stmt = stmt.where(User.is_admin.is_(True))
    return stmt


async def admin_page(
    session: AsyncSession,
    *,
    cursor: Cursor,
    username: str | None = None,
    email: str | None = None,
    staff: bool = False,
) -> list[User]:
    """Return accounts for administrators, newest first, filtered as Mastodon's admin API."""
    stmt = admin_query(username=username, email=email, staff=staff)
    return await fetch_page(session, stmt, User.id, cursor)


async def count_users(session: AsyncSession) -> int:
    """Return how many accounts exist."""
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())


async def update_profile(
    session: AsyncSession,
    *,
    user: User,
    display_name: str | None = None,
    bio: str | None = None,
    fields: list[tuple[str, str]] | None = None,
    locked: bool | None = None,
) -> User:
    """Change a user's display name, bio, profile fields (replaced as a whole) and locked
    flag; None leaves one as it is. Every problem is raised at once, before any change."""
    problems: list[ValidationFailed | None] = []
    if display_name is not None:
        problems.append(validation.problem(validation.clean_display_name, display_name))
    if bio is not None:
        problems.append(validation.problem(validation.clean_bio, bio))
    cleaned_fields = None
    if fields is not None:
        try:
            cleaned_fields = validation.clean_fields(fields)
        except ValidationFailed as exc:
            problems.extend(exc.problems)
    check_all(*problems)
    if display_name is not None:
        user.display_name = validation.clean_display_name(display_name)
    if bio is not None:
        user.bio = validation.clean_bio(bio)
        # As in posts: only the accounts that exist now are linked, now and later.
        user.bio_mentions = await post_mentions.resolve(session, user.bio) or None
    if cleaned_fields is not None:
        user.fields = cleaned_fields or None
    if locked is not None:
        user.locked = locked
    await session.flush()
    return user


async def update_posting_defaults(
    session: AsyncSession,
    *,
    user: User,
    privacy: str | None = None,
    language: str | None = None,
    sensitive: bool | None = None,
) -> User:
    """Change the visibility, language and sensitive flag new posts and media get when they
    name none. ``language`` "" clears it; None leaves a setting as it is."""
    # Both are checked before either is set: a refusal changes nothing.
    if privacy is not None:
        privacy = post_visibility.parse(
            privacy, default=user.default_privacy, field="source[privacy]"
        )
    if language is not None:
        user.default_language = languages.language(language, field="source[language]")
    if privacy is not None:
        user.default_privacy = privacy
    if sensitive is not None:
        user.default_sensitive = sensitive
    await session.flush()
    return user


async def mark_active(session: AsyncSession, *, user: User) -> bool:
    """Record that the user was just active (at most hourly); return whether it wrote."""
    now = utcnow()
    if (now - user.last_active_at).total_seconds() <= 3600:
        return False
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(last_active_at=now)
        .execution_options(synchronize_session=False)
    )
    show_written(user, last_active_at=now)
    return True


def counter_update(
    user_id: int, counter: InstrumentedAttribute[int], delta: int, **values: Any
) -> Update:
    """An UPDATE moving one of a user's counters by ``delta`` in SQL, returning the new count."""
    # In SQL, in the caller's transaction, so counts never drift from the rows they count.
    return (
        update(User)
        .where(User.id == user_id)
        .values({counter.key: counter + delta, **values})
        .returning(counter)
        .execution_options(synchronize_session=False)
    )


async def move_counter(
    session: AsyncSession, user: User, counter: InstrumentedAttribute[int], delta: int
) -> None:
    """Move one of ``user``'s counters by ``delta``; the loaded row shows the new count."""
    count = (await session.execute(counter_update(user.id, counter, delta))).scalar_one()
    show_written(user, **{counter.key: count})

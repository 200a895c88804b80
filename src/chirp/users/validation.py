"""Rules for usernames, emails and passwords."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from email_validator import EmailNotValidError, validate_email

from chirp.errors import ValidationFailed, check_all

MAX_USERNAME = 30
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]+$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
MAX_DISPLAY_NAME = 50
MAX_BIO = 500
# Mastodon's limits on profile fields.
MAX_FIELDS = 4
MAX_FIELD_NAME = 255
MAX_FIELD_VALUE = 255


def clean_username(username: str) -> str:
    """Return the username stripped, or raise if it breaks the rules."""
    username = username.strip()
    if not username:
        raise ValidationFailed("Username can't be blank", field="username", code="ERR_BLANK")
    if len(username) > MAX_USERNAME:
        raise ValidationFailed(
            f"Username is too long ({len(username)} characters; the maximum is {MAX_USERNAME})",
            field="username",
            code="ERR_TOO_LONG",
        )
    if not USERNAME_RE.match(username):
        raise ValidationFailed(
            "Username must contain only letters, digits and underscores",
            field="username",
            code="ERR_INVALID",
        )
    return username


def clean_email(email: str) -> str:
    """Return the normalised email address, or raise if it is not valid."""
    email = email.strip()
    if not email:
        raise ValidationFailed("Email can't be blank", field="email", code="ERR_BLANK")
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationFailed(
            f"Email is invalid: {exc}", field="email", code="ERR_INVALID"
        ) from exc


def problem(check: Callable[[str], object], value: str) -> ValidationFailed | None:
    """Run one check and return what it refused, so a form can report every field at once."""
    try:
        check(value)
    except ValidationFailed as exc:
        return exc
    return None


def check_password(password: str) -> None:
    """Raise if the password is too short or absurdly long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Password is too short (minimum is {MIN_PASSWORD_LENGTH} characters)",
            field="password",
            code="ERR_TOO_SHORT",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed("Password is too long", field="password", code="ERR_TOO_LONG")


def clean_display_name(name: str) -> str:
    """Return the display name normalised, or raise if it is too long."""
    name = unicodedata.normalize("NFC", name.strip())
    if len(name) > MAX_DISPLAY_NAME:
        raise ValidationFailed(
            f"Display name is too long (maximum is {MAX_DISPLAY_NAME} characters)",
            field="display_name",
            code="ERR_TOO_LONG",
        )
    return name


def clean_bio(bio: str) -> str:
    """Return the bio normalised, or raise if it is too long."""
    bio = unicodedata.normalize("NFC", bio.strip())
    if len(bio) > MAX_BIO:
        raise ValidationFailed(
            f"Bio is too long (maximum is {MAX_BIO} characters)", field="note", code="ERR_TOO_LONG"
        )
    return bio


def field_key(index: int, part: str) -> str:
    """The parameter that holds part (``name`` or ``value``) of field ``index``."""
    return f"fields_attributes[{index}][{part}]"


def clean_fields(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Return profile fields normalised, pairs left blank dropped; raise naming every problem."""
    kept = [
        (i, unicodedata.normalize("NFC", name.strip()), unicodedata.normalize("NFC", value.strip()))
        for i, (name, value) in enumerate(pairs)
    ]
    kept = [(i, name, value) for i, name, value in kept if name or value]
    if len(kept) > MAX_FIELDS:
        raise ValidationFailed(
            f"Profile fields are too many ({len(kept)}; the maximum is {MAX_FIELDS})",
            field="fields_attributes",
            code="ERR_TOO_LONG",
        )
    problems: list[ValidationFailed | None] = []
    for i, name, value in kept:
        for part, text, limit, label in (
            ("name", name, MAX_FIELD_NAME, "label"),
            ("value", value, MAX_FIELD_VALUE, "content"),
        ):
            if len(text) > limit:
                problems.append(
                    ValidationFailed(
                        f"Field {i + 1} {label} is too long ({len(text)} characters; "
                        f"the maximum is {limit})",
                        field=field_key(i, part),
                        code="ERR_TOO_LONG",
                    )
                )
    check_all(*problems)
    return [{"name": name, "value": value} for _, name, value in kept]

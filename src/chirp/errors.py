"""Domain errors raised by services; the API and the pages turn them into responses."""

from __future__ import annotations


class ChirpError(Exception):
    """Base of the errors a user can cause; ``status`` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(ChirpError):
    """Input breaks a rule; ``field`` names the offending input, ``code`` is Mastodon's."""

    status = 422

    def __init__(self, message: str, *, field: str | None = None, code: str = "ERR_INVALID"):
        super().__init__(message)
        self.field = field
        self.code = code
        self.problems: list[ValidationFailed] = [self]


class InvalidFields(ValidationFailed):
    """Several inputs break rules at once: one ValidationFailed per problem, shown together."""

    def __init__(self, problems: list[ValidationFailed]) -> None:
        first = problems[0]
        super().__init__(", ".join(p.message for p in problems), field=first.field, code=first.code)
        self.problems = problems


def check_all(*checks: ValidationFailed | None) -> None:
    """Raise every problem found at once (InvalidFields), or the only one, or nothing."""
    problems = [c for c in checks if c is not None]
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidFields(problems)


class NotFound(ChirpError):
    """The record does not exist or is not visible to the caller."""

    status = 404
    DEFAULT = "Record not found"  # Mastodon's words, kept by the API; pages say more

    def __init__(self, message: str = DEFAULT) -> None:
        super().__init__(message)


class Forbidden(ChirpError):
    """The caller may not do this."""

    status = 403


class Unauthorized(ChirpError):
    """The caller must authenticate first."""

    status = 401


class UserRequired(ChirpError):
    """An endpoint for a user's own data was called with an app-only token (Mastodon: 422)."""

    status = 422

    def __init__(self) -> None:
        super().__init__("This method requires an authenticated user")

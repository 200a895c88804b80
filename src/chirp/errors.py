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


class NotFound(ChirpError):
    """The record does not exist or is not visible to the caller."""

    status = 404

    def __init__(self, message: str = "Record not found") -> None:
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

"""OpenAPI documentation of the errors every API operation may answer with."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorOut(BaseModel):
    """Mastodon's Error entity (OAuth endpoints add ``error_description``)."""

    error: str
    error_description: str | None = None
    details: dict[str, list[dict[str, str]]] | None = None


_WHEN = {
    400: "The request is malformed (for example JSON nested too deeply).",
    401: "The access token is missing, invalid or revoked.",
    403: "The token lacks the scope, or the user the right, for this action.",
    404: "The record does not exist (any id that is not a number names none).",
    413: "The request body is larger than the server accepts.",
    422: "A parameter is invalid; the message names it.",
    429: "Too many requests; see the X-RateLimit-* headers.",
    500: "An unexpected error on the server (logged); the request may be retried.",
    503: "A service Chirp needs is unavailable; try again later (see Retry-After).",
}

# Documented on every API operation: each may be refused for its token, its parameters,
# its body's size or the rate limits, whatever it does.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description} for status, description in _WHEN.items()
}

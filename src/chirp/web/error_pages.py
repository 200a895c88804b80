"""Errors in people's words: what the framework says about a request, said for a reader."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request

from chirp.errors import NotFound
from chirp.web.htmx import local_referer

# How a rule pydantic names is said of a value (``{ge}`` and the like come from the rule).
_REASONS = {
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "string_too_long": "is too long (at most {max_length} characters)",
    "string_too_short": "is too short (at least {min_length} characters)",
    "too_long": "has too many values (at most {max_length})",
    "missing": "is missing",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
}
# Where a value came from, and how a reader knows it.
_PLACES = {"query": "in the address", "path": "in the address", "header": "", "cookie": ""}
_NOT_FOUND_PAGE = (
    "There is nothing at this address. It may have been mistyped, or what was here has "
    "been deleted."
)


def _reason(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    template = _REASONS.get(kind)
    if template is None:
        # Chirp's own checks (parsing.py) already speak plainly; pydantic's others do not.
        return str(error.get("msg")) if kind in ("unstorable_text",) else "is not valid"
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return template.split(" {")[0]


def _field(error: Mapping[str, Any]) -> tuple[str, str]:
    loc = [str(p) for p in error.get("loc", ())]
    place = loc[0] if loc else ""
    name = ".".join(p for p in loc[1:] if p != "body") or place
    return name, place


def api_validation_message(errors: Sequence[Mapping[str, Any]]) -> str:
    """Mastodon's "Validation failed: ..." naming each refused parameter and why."""
    said = [f"{_field(e)[0]} {_reason(e)}" for e in errors] or ["the request is not valid"]
    return "Validation failed: " + ", ".join(dict.fromkeys(said))


def page_validation_message(errors: Sequence[Mapping[str, Any]]) -> str:
    """A plain sentence for a web page naming the value that was refused, and why."""
    if not errors:
        return "Something in the request was not understood."
    sentences = []
    for error in errors:
        name, place = _field(error)
        where = _PLACES.get(place, "")
        if name == "page" and place == "query":
            subject = "The page number in the address"
        elif place in ("query", "path"):
            subject = f"The “{name}” value {where}"
        else:
            subject = f"The “{name.replace('_', ' ')}” field"
        example = ", like 2" if _reason(error) == _REASONS["int_parsing"] else ""
        sentences.append(f"{subject} {_reason(error)}{example}.")
    return " ".join(dict.fromkeys(sentences))


def page_message(status: int, message: str) -> str:
    """The message an error page shows: the framework's generic ones said for a reader."""
    if status == 404 and message in (NotFound.DEFAULT, "Not Found"):
        return _NOT_FOUND_PAGE
    return message


def way_back(request: Request) -> str | None:
    """The page of this site the reader came from, to offer as the way back (not this one)."""
    came_from = local_referer(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return came_from if came_from and came_from != here else None

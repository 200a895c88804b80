"""Parse untrusted input at the edge, once: ids, counts and free text, for the API and pages."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from chirp.errors import NotFound, ValidationFailed

# Ids are signed 64-bit in the database: one past this overflows a BIGINT (and SQLite).
MAX_ID = 2**63 - 1
# ASCII only, and short: ``str.isdigit()`` and ``int()`` accept other scripts' digits
# (``"١٢"``, and isdigit alone ``"²"``), and ``int()`` refuses more than 4,300 digits.
_ASCII_NUMBER = re.compile(r"[0-9]{1,19}", re.ASCII)
# What a database driver cannot store: NUL (PostgreSQL text) and lone surrogates (not UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# Offset paging reads and skips every row before the page, so deep offsets are refused.
MAX_OFFSET = 10_000
MAX_PAGE = 500
MAX_SHORT_TEXT = 320  # the longest email address a mail server accepts


def ascii_int(raw: str, *, maximum: int = MAX_ID) -> int | None:
    """The number ``raw`` spells in ASCII digits, if it is one in 0..maximum; else None."""
    if not _ASCII_NUMBER.fullmatch(raw):
        return None
    value = int(raw)
    return value if value <= maximum else None


def path_id(raw: str) -> int:
    """A numeric id from a path; anything else is a record that does not exist (404)."""
    value = ascii_int(raw)
    if value is None:
        raise NotFound()
    return value


def query_id(name: str, raw: str | None) -> int | None:
    """An optional numeric id from a query parameter (a cursor); anything else is a 422."""
    if raw is None or raw == "":
        return None
    value = ascii_int(raw)
    if value is None:
        raise ValidationFailed(f"{name} must be a numeric id", field=name)
    return value


def query_ids(name: str, raws: list[str], *, most: int) -> list[int]:
    """A list of numeric ids (``id[]``), duplicates dropped, order kept; any bad one is a 422."""
    if len(raws) > most:
        raise ValidationFailed(f"{name} takes at most {most} ids", field=name)
    ids = [query_id(name, raw) for raw in dict.fromkeys(raws)]
    return [i for i in ids if i is not None]


def path_text(raw: str) -> str:
    """A name from a path (``/@name``); one that cannot be stored names nothing here (404)."""
    if len(raw) > MAX_SHORT_TEXT or text_problem(raw) is not None:
        raise NotFound()
    return raw


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None when it can."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    return "must not contain NUL characters" if found.group() == "\x00" else "must be valid UTF-8"


def _storable(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise PydanticCustomError("unstorable_text", problem)
    return value


def _ascii_int(value: Any) -> Any:
    # Before pydantic's own int parsing, which also accepts "1_0", " 12 ", "+5" and "12.0".
    if isinstance(value, str) and not _ASCII_NUMBER.fullmatch(value):
        raise PydanticCustomError("int_parsing", "must be a whole number in ASCII digits")
    return value


# The docs say what _storable checks (JSON Schema cannot name lone surrogates; JSON text
# with one is not valid Unicode anyway).
_DOCUMENTED = Field(json_schema_extra={"pattern": "^[^\\u0000]*$"})

# Free text by the most any field of its kind may hold before its own rules are checked:
# bounded so nothing expensive (hashing, normalising, searching) ever sees a huge value.
Token = Annotated[str, StringConstraints(max_length=512), AfterValidator(_storable), _DOCUMENTED]
"""A secret, code, key or identifier."""
ShortText = Annotated[
    str, StringConstraints(max_length=MAX_SHORT_TEXT), AfterValidator(_storable), _DOCUMENTED
]
"""A name, username, email address or other one-line value."""
LongText = Annotated[
    str, StringConstraints(max_length=4096), AfterValidator(_storable), _DOCUMENTED
]
"""A password, a URI, a list of scopes or a short paragraph."""
BodyText = Annotated[
    str, StringConstraints(max_length=100_000), AfterValidator(_storable), _DOCUMENTED
]
"""A post's text: the service bounds it by the configured length; this bounds the request."""

Offset = Annotated[int, BeforeValidator(_ascii_int), Field(ge=0, le=MAX_OFFSET)]
"""How many rows an offset page skips."""
Page = Annotated[int, BeforeValidator(_ascii_int), Field(ge=1, le=MAX_PAGE)]
"""A page number of a web page paged by offset."""
Limit = Annotated[int, BeforeValidator(_ascii_int), Field(ge=0, le=MAX_ID)]
"""How many items a page asks for (clamped by each endpoint to its own maximum)."""

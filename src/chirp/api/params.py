"""Read Mastodon request parameters from the query, JSON, form or multipart bodies alike."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from itertools import accumulate
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData, UploadFile

from chirp.errors import ChirpError, ValidationFailed

M = TypeVar("M", bound=BaseModel)

# Mastodon's parameters nest two levels; Python's JSON parser recurses once per level and
# fails with RecursionError near a thousand, so deep nesting is refused (400) before parsing.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def nested_too_deeply(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``raw`` opens more than ``limit`` arrays or objects in one another."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # the usual body: too few brackets to nest that deep
    # Brackets inside strings do not nest: drop the strings, keep only the brackets, and
    # follow the depth in C (map, accumulate and max), not one Python step per byte.
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > limit


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    # Mastodon clients send arrays as `key[]=a&key[]=b` (Rails style).
    if key.endswith("[]"):
        data.setdefault(key[:-2], []).append(value)
    else:
        data[key] = value


def _from_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        _put(data, key, value)
    return data


def _from_form(form: FormData) -> dict[str, Any]:
    return _from_pairs([(k, v) for k, v in form.multi_items() if not isinstance(v, UploadFile)])


async def read_params(request: Request) -> dict[str, Any]:
    """Merge query-string and body parameters into one dict (body wins)."""
    data = _from_pairs(list(request.query_params.multi_items()))
    if request.method in ("GET", "HEAD"):
        return data
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        raw = await request.body()
        if raw.strip():
            if nested_too_deeply(raw):
                raise ChirpError(f"Request body is nested more than {MAX_JSON_DEPTH} levels deep")
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise ValidationFailed("Request body is not valid JSON") from exc
            if not isinstance(body, dict):
                raise ValidationFailed("Request body must be a JSON object")
            data.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        data.update(_from_form(await request.form()))
    return data


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validate ``data`` into ``model``, raising a 422 with the first problem."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        message = f"{field} {first['msg']}" if field else first["msg"]
        raise ValidationFailed(message, field=field) from exc


def params(model: type[M]) -> Callable[[Request], Coroutine[Any, Any, M]]:
    """Return a dependency that reads and validates ``model`` from any request encoding."""

    async def dependency(request: Request) -> M:
        return parse(model, await read_params(request))

    dependency.__name__ = f"params_{model.__name__}"
    return dependency


def body_docs(model: type[BaseModel], *, files: dict[str, str] | None = None) -> dict[str, Any]:
    """OpenAPI ``requestBody`` for an endpoint taking ``model`` in any of the encodings.

    ``files`` names the multipart file fields (name: description), which only multipart has.
    """
    schema = model.model_json_schema()
    multipart = schema
    if files:
        binary = {
            name: {"type": "string", "format": "binary", "description": text}
            for name, text in files.items()
        }
        multipart = {**schema, "properties": {**schema.get("properties", {}), **binary}}
    return {
        "requestBody": {
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
                "multipart/form-data": {"schema": multipart},
            }
        }
    }

"""Refuse documented Mastodon parameters that Chirp does not implement (422 naming each).

A client that sends one of these expects an effect Chirp cannot give (a poll, a quote, a
hashtag filter): accepting and ignoring it would publish or show something other than what
was asked for. A parameter sent empty (``""``, ``[]``, ``null``) asks for nothing and passes.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi import Request

from chirp.api.params import read_params
from chirp.errors import ValidationFailed


def _flatten(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    # JSON nests (``{"poll": {"options": [...]}}``); forms spell the same ``poll[options][]``.
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict) and value:
            yield from _flatten(value, name)
        else:
            yield name.removesuffix("[]"), value


def _sent(value: Any) -> bool:
    return value not in (None, "", [], {})


def refuse(**unsupported: str) -> Callable[[Request], Coroutine[Any, Any, None]]:
    """Dependency: 422 if any parameter named here (``name=why``) is sent with a value.

    Names are Mastodon's, with brackets for nested ones (``poll[options]``); pass them as
    ``**{"poll[options]": "..."}``.
    """

    async def dependency(request: Request) -> None:
        data = await read_params(request)
        if not data:
            return
        sent = {name for name, value in _flatten(data) if _sent(value)}
        for name, why in unsupported.items():
            if name in sent or any(s.startswith(f"{name}[") for s in sent):
                raise ValidationFailed(
                    f"{name} is not supported here: {why}", field=name, code="ERR_UNSUPPORTED"
                )

    return dependency

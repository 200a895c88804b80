"""Language codes clients send: ISO 639-1 for posts, a locale tag for the interface."""

from __future__ import annotations

import functools
import re

import pycountry

from chirp.errors import ValidationFailed

# A Mastodon locale: a language, optionally with a region ("pt-BR") or script ("sr-Latn").
_LOCALE = re.compile(r"([a-z]{2})(?:[-_]([A-Za-z]{2}|[A-Za-z]{4}))?", re.ASCII)


@functools.cache
def iso_639_1() -> frozenset[str]:
    """Every two-letter ISO 639-1 language code."""
    return frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))


@functools.cache
def choices() -> list[tuple[str, str]]:
    """(code, English name) of every ISO 639-1 language, by name: for settings forms."""
    named = [(lang.alpha_2, lang.name) for lang in pycountry.languages if hasattr(lang, "alpha_2")]
    return sorted(named, key=lambda pair: pair[1])


def language(raw: str | None, *, field: str = "language") -> str | None:
    """A post language as stored: a lower-case ISO 639-1 code, or None when none is given."""
    if raw is None or raw == "":
        return None
    code = raw.strip().lower()
    if code not in iso_639_1():
        raise ValidationFailed(
            f"{field} must be an ISO 639-1 language code (such as en or de)", field=field
        )
    return code


def locale(raw: str, *, field: str = "locale") -> str:
    """An interface locale as stored ("en", "pt-BR"); its language must be ISO 639-1."""
    found = _LOCALE.fullmatch(raw.strip())
    if found is None or found.group(1) not in iso_639_1():
        raise ValidationFailed(f"{field} must be a language code such as en or pt-BR", field=field)
    lang, sub = found.groups()
    if sub is None:
        return lang
    if len(sub) == 4:
        return f"{lang}-{sub.title()}"
    if pycountry.countries.get(alpha_2=sub.upper()) is None:
        raise ValidationFailed(f"{field} names an unknown region: {sub}", field=field)
    return f"{lang}-{sub.upper()}"

"""A post's text and content warning as the post service takes them: what is stored, what is
refused and how the refusal reads (the API and the composer show its message)."""

from __future__ import annotations

import pytest

from chirp.errors import ValidationFailed
from chirp.posts.service import validate_spoiler, validate_text
from chirp.posts.text import MAX_URL_LENGTH, raw_limits

URL = "https://e.example/"


def _refused(text: str, max_length: int, **kwargs: bool) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        validate_text(text, max_length=max_length, **kwargs)
    assert caught.value.field == "status"
    return caught.value


def test_text_is_stored_as_typed_with_newlines_unified() -> None:
    assert validate_text("a\r\nb\rc\n", max_length=10) == "a\nb\nc\n"
    # Counted in NFC (ten code points here are five characters), stored as typed.
    decomposed = "e\u0301" * 5
    assert validate_text(decomposed, max_length=5) == decomposed
    # A line break typed as CRLF counts once.
    assert validate_text("ab\r\ncd", max_length=5) == "ab\ncd"
    # Lone surrogates are refused at the edge; here they are counted, not a crash.
    assert validate_text("a\ud800", max_length=5) == "a\ud800"


def test_text_at_the_limit_is_taken_and_one_more_is_refused_with_its_count() -> None:
    assert validate_text("x" * 10, max_length=10) == "x" * 10
    error = _refused("x" * 11, 10)
    assert str(error) == "Text is too long (11 characters; the limit is 10)"
    assert error.code == "ERR_TOO_LONG"
    # A link counts as 23 characters whatever its length.
    link = URL + "a" * 100
    assert validate_text("x " + link, max_length=25) == "x " + link
    assert str(_refused("xy " + link, 25)) == "Text is too long (26 characters; the limit is 25)"


def test_blank_text_is_refused_unless_the_post_has_media() -> None:
    for blank in ("", "   ", "\r\n\t"):
        error = _refused(blank, 10)
        assert str(error) == "Text can't be blank" and error.code == "ERR_BLANK"
        assert validate_text(blank, max_length=10, blank_ok=True) == ""
    assert validate_text(" hi ", max_length=10, blank_ok=True) == " hi "


def test_each_link_is_bounded() -> None:
    longest = URL + "a" * (MAX_URL_LENGTH - len(URL))
    assert validate_text(longest, max_length=23) == longest
    error = _refused(longest + "a", 23)
    assert str(error) == f"A link is too long (the limit is {MAX_URL_LENGTH} characters)"
    assert error.code == "ERR_TOO_LONG"


def test_the_raw_text_is_bounded_in_characters_and_bytes_whatever_it_counts_as() -> None:
    max_chars, max_bytes = raw_limits(140)
    # Two links (47 counted characters) filling the raw limit exactly, then one over.
    first = URL + "a" * (MAX_URL_LENGTH - len(URL))
    second = URL + "b" * (max_chars - MAX_URL_LENGTH - 1 - len(URL))
    text = f"{first} {second}"
    assert len(text) == max_chars and len(text.encode()) < max_bytes  # characters bind first
    assert validate_text(text, max_length=140) == text
    error = _refused(text + "b", 140)
    assert str(error) == "Text is too long (the limit is 140 characters)"
    assert error.code == "ERR_TOO_LONG"
    # Four bytes a character (a link of emoji): the byte bound is reached first.
    max_chars, max_bytes = raw_limits(30)
    emoji = (max_bytes - len(URL)) // 4
    text = URL + "a" * (max_bytes - len(URL) - 4 * emoji) + "\U0001f600" * emoji
    assert len(text.encode()) == max_bytes and len(text) < max_chars
    assert validate_text(text, max_length=30) == text
    assert str(_refused(text + "a", 30)) == "Text is too long (the limit is 30 characters)"


def test_content_warning_is_trimmed_and_bounded() -> None:
    assert validate_spoiler("  Film\r\nspoilers \n", max_length=20) == "Film\nspoilers"
    assert validate_spoiler("   ", max_length=20) == ""
    decomposed = "e\u0301" * 20  # forty code points, twenty characters
    assert validate_spoiler(decomposed, max_length=20) == decomposed
    assert validate_spoiler(" " + "w" * 20 + " ", max_length=20) == "w" * 20
    with pytest.raises(ValidationFailed) as caught:
        validate_spoiler("w" * 21, max_length=20)
    assert str(caught.value) == "Content warning is too long (the limit is 20 characters)"
    assert (caught.value.field, caught.value.code) == ("spoiler_text", "ERR_TOO_LONG")

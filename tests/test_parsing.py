"""Ids, cursors and names read from requests: ASCII digits in range, else a clear 404 or 422."""

from __future__ import annotations

import pytest

from chirp.errors import NotFound, ValidationFailed
from chirp.parsing import MAX_SHORT_TEXT, path_text, query_id, query_ids, text_problem


def test_a_cursor_is_absent_when_empty_and_refused_naming_itself_when_not_a_number() -> None:
    assert query_id("max_id", None) is None
    assert query_id("max_id", "") is None  # "max_id=" is how some clients say "none"
    assert query_id("max_id", "0012") == 12
    assert query_id("max_id", str(2**63 - 1)) == 2**63 - 1  # the largest id there can be
    for raw in ("①", "1_0", " 5", str(2**63)):
        with pytest.raises(ValidationFailed) as refused:
            query_id("since_id", raw)
        assert (refused.value.message, refused.value.field) == (
            "since_id must be a numeric id",
            "since_id",
        )


def test_an_id_list_keeps_order_drops_repeats_and_is_bounded() -> None:
    assert query_ids("id", ["3", "1", "3", "2"], most=4) == [3, 1, 2]
    assert query_ids("id", [], most=4) == []
    with pytest.raises(ValidationFailed) as too_many:
        query_ids("id", ["1", "2", "3", "4", "5"], most=4)
    assert (too_many.value.message, too_many.value.field) == ("id takes at most 4 ids", "id")
    with pytest.raises(ValidationFailed) as bad:
        query_ids("id", ["1", "²"], most=4)
    assert (bad.value.message, bad.value.field) == ("id must be a numeric id", "id")


def test_a_name_in_a_path_is_found_only_if_it_could_be_stored() -> None:
    longest = "a" * MAX_SHORT_TEXT
    assert path_text(longest) == longest
    assert path_text("alice") == "alice"
    for raw in (longest + "a", "al\x00ice", "\ud800"):
        with pytest.raises(NotFound):
            path_text(raw)


def test_text_that_cannot_be_stored_is_told_apart_by_why() -> None:
    assert text_problem("plain text, ünïcödé and 🐦") is None
    assert text_problem("a\x00b") == "must not contain NUL characters"
    assert text_problem("a\ud800b") == "must be valid UTF-8"
    assert text_problem("\udfff\x00") == "must be valid UTF-8"  # the first problem is told

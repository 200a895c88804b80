"""Finding mentions and hashtags in post text, as Mastodon parses them."""

from __future__ import annotations

import pytest

from chirp.posts.entities import find_mentions, find_tags, tag_key, unique_names


def _mentions(text: str) -> list[str]:
    return [found.name for found in find_mentions(text)]


def _tags(text: str) -> list[str]:
    return [found.name for found in find_tags(text)]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("hi @alice", ["alice"]),
        (
            "@alice, @bob. @carol! (@dave) @erin: @frank? @gina…",
            ["alice", "bob", "carol", "dave", "erin", "frank", "gina"],
        ),
        ("@Alice_2 and @ALICE_2", ["Alice_2", "ALICE_2"]),
        # An email address, a path, a query and a doubled @ are not mentions.
        ("mail bob@alice.com", []),
        ("see https://example.com/@alice now", []),
        ("a=@alice", []),
        ("@@alice", []),
        # The whole word is the name: no account "alice" is meant by @aliceé or @Ünïcode.
        ("@aliceé", ["aliceé"]),
        ("@Ünïcode", ["Ünïcode"]),
        # An account on another server is not a local mention.
        ("@alice@other.example hi", []),
        ("@", []),
        ("line\n@alice", ["alice"]),
    ],
)
def test_mentions(text: str, names: list[str]) -> None:
    assert _mentions(text) == names


def test_mention_offsets_cover_the_at_sign_and_the_name() -> None:
    (found,) = find_mentions("hi @bob!")
    assert (found.start, found.end) == (3, 7)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("#python is fun", ["python"]),
        ("#Café #日本語 #snake_case #a1", ["Café", "日本語", "snake_case", "a1"]),
        ("end.#tag, (#paren) #tag!", ["tag", "paren", "tag"]),
        # Numbers, anchors, paths, queries and HTML entities are not tags.
        ("#1 #2024", []),
        ("page#anchor", []),
        ("https://example.com/#top and https://example.com/a#frag", []),
        ("a=#b", []),
        ("&#39;", []),
        ("##double", []),
        ("#", []),
        ("#" + "x" * 101, []),
        ("#" + "x" * 100, ["x" * 100]),
    ],
)
def test_tags(text: str, names: list[str]) -> None:
    assert _tags(text) == names


def test_tags_match_regardless_of_case_and_width() -> None:
    assert tag_key("Café") == tag_key("CAFÉ") == tag_key("café")
    assert tag_key("\uff30\uff39\uff34\uff28\uff2f\uff2e") == tag_key("python")  # full-width PYTHON
    assert tag_key("cafe") != tag_key("café")


def test_unique_names_keep_the_first_spelling_in_order() -> None:
    found = find_tags("#Python #rust #PYTHON #Rust #go")
    assert unique_names(found) == ["Python", "rust", "go"]

"""Which text is one emoji: Unicode's data through the ``emoji`` library, one spelling each."""

from __future__ import annotations

import pytest

from chirp.errors import ValidationFailed
from chirp.reactions import emoji

ACCEPTED = {
    "plain": ("👍", "👍"),
    "skin tone": ("👍🏽", "👍🏽"),
    "ZWJ family": ("👨‍👩‍👧‍👦", "👨‍👩‍👧‍👦"),
    "ZWJ with skin tone": ("🧑🏽‍🚀", "🧑🏽‍🚀"),
    "flag": ("🇫🇷", "🇫🇷"),
    "subdivision flag": ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"),
    "keycap": ("1️⃣", "1️⃣"),
    "keycap without its selector": ("1⃣", "1️⃣"),
    "keycap #": ("#️⃣", "#️⃣"),
    # Sent without the emoji variation selector, as many keyboards do: the same reaction.
    "heart without selector": ("❤", "❤️"),
    "heart with selector": ("❤️", "❤️"),
    "heart in text style": ("❤︎", "❤️"),
    "rainbow flag without selector": ("🏳‍🌈", "🏳️‍🌈"),
    "couple, minimally qualified": ("👩‍❤‍👨", "👩‍❤️‍👨"),
    # As Pleroma allows: a lone regional indicator letter.
    "regional indicator": ("🇦", "🇦"),
    "spaces around": (" 🎉 ", "🎉"),
}
REFUSED = {
    "two emoji": "👍👍",
    "two hearts": "❤️❤️",
    "emoji and text": "👍 yes",
    "plain text": "hello",
    "a letter": "a",
    "a digit": "1",
    "empty": "",
    "blank": "   ",
    "bare skin tone": "🏽",
    "bare hair style": "🦰",
    "bare selector": "\ufe0f",
    "bare joiner": "\u200d",
    "two regional indicators that are no flag": "🇦🇦",
    "shortcode": ":thumbsup:",
    "NUL": "\x00",
    "long": "👍" * 40,
}


@pytest.mark.parametrize(("sent", "stored"), ACCEPTED.values(), ids=list(ACCEPTED))
def test_one_emoji_is_accepted_in_one_spelling(sent: str, stored: str) -> None:
    assert emoji.normalise(sent) == stored


@pytest.mark.parametrize("sent", REFUSED.values(), ids=list(REFUSED))
def test_anything_but_one_emoji_is_refused(sent: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        emoji.normalise(sent)
    assert refused.value.field == "emoji" and refused.value.status == 422


def test_the_picker_offers_emoji_in_their_stored_spelling() -> None:
    assert all(emoji.normalise(e) == e for e in emoji.COMMON)

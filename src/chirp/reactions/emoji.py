"""Which emoji a reaction may be: exactly one emoji, by Unicode's data (the ``emoji`` library)."""

from __future__ import annotations

from emoji import EMOJI_DATA, STATUS

from chirp.errors import ValidationFailed
from chirp.reactions.models import MAX_EMOJI_LENGTH

# Offered first in the web UI's picker; any other single emoji may be typed in.
COMMON = ("👍", "❤️", "😂", "😮", "😢", "🎉", "🔥", "🙏")

# Variation selectors: VS16 asks for the emoji presentation, VS15 for text. Clients send "❤"
# or "❤️" (or "1⃣" for "1️⃣") for the same emoji; without them each emoji has one spelling.
_SELECTORS = str.maketrans("", "", "\ufe0f\ufe0e")


def _bare(text: str) -> str:
    return text.translate(_SELECTORS)


# Every emoji Unicode lists as fully qualified (RGI), by its spelling without selectors. Parts
# that are not emoji on their own (a bare skin tone or hair style) are left out; so are
# minimally qualified and unqualified spellings, which map to their fully qualified form here.
_FULLY_QUALIFIED = {
    _bare(text): text
    for text, data in EMOJI_DATA.items()
    if data["status"] == STATUS["fully_qualified"]
}
# As Pleroma allows, a lone regional indicator letter (🇦 to 🇿) is a reaction of its own,
# although only a pair of them is an emoji (a flag).
_REGIONAL_INDICATORS = frozenset(chr(c) for c in range(0x1F1E6, 0x1F1FF + 1))

NOT_ONE_EMOJI = "A reaction must be exactly one emoji"


def normalise(raw: str) -> str:
    """The one spelling of the single emoji ``raw`` is (surrounding spaces ignored); else 422."""
    text = raw.strip()
    if not text:
        raise ValidationFailed("Choose an emoji to react with", field="emoji", code="ERR_BLANK")
    # Checked first: the longest emoji (a family with skin tones) is ten code points.
    if len(text) <= MAX_EMOJI_LENGTH:
        found = _FULLY_QUALIFIED.get(_bare(text))
        if found is not None:
            return found
        if text in _REGIONAL_INDICATORS:
            return text
    raise ValidationFailed(f"{NOT_ONE_EMOJI}, such as 👍 or ❤️", field="emoji", code="ERR_INVALID")

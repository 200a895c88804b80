"""Which emoji a reaction may be."""

from __future__ import annotations

# Offered first in the web UI's picker; any other single emoji may be typed in.
COMMON = ("👍", "❤️", "😂", "😮", "😢", "🎉", "🔥", "🙏")

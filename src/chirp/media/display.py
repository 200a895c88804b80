"""How the web pages show images: their addresses, grid layout and blurred placeholders."""

from __future__ import annotations

import base64
import functools
import io

import blurhash
from PIL import Image

from chirp.config import Settings
from chirp.media.storage import page_src

# The placeholder's size: the browser scales it up smoothly, which is the blur.
_PLACEHOLDER_SIDE = 8
# Grid layouts drawn by the stylesheet (media.css), one per count.
GRID_LAYOUTS = 9


def media_src(settings: Settings, key: str) -> str:
    """Where a page loads ``key`` (see ``storage.page_src``)."""
    return page_src(settings, key)


def grid_class(count: int) -> str:
    """The grid class of a post with ``count`` images (1-4 as people know them, then 3 wide)."""
    return f"media-grid media-grid-{max(1, min(count, GRID_LAYOUTS))}"


@functools.lru_cache(maxsize=4096)
def placeholder(hash_: str | None) -> str:
    """A tiny PNG of a blurhash as a data: URL ("" if there is none or it is malformed).

    Drawn server-side so the blur shows without JavaScript; cached, as a page shows the
    same images again and again.
    """
    if not hash_:
        return ""
    try:
        rows = blurhash.decode(hash_, _PLACEHOLDER_SIDE, _PLACEHOLDER_SIDE)
    except (ValueError, IndexError):
        return ""
    image = Image.new("RGB", (_PLACEHOLDER_SIDE, _PLACEHOLDER_SIDE))
    image.putdata([tuple(int(c) for c in pixel[:3]) for row in rows for pixel in row])
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


# What the composer's file inputs offer (the server decides by decoding, never by this).
ACCEPT = "image/jpeg,image/png,image/gif,image/webp"

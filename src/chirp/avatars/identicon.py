"""A symmetric 5 x 5 pattern in a colour of its own for each account, drawn as SVG."""

from __future__ import annotations

from functools import lru_cache
from hashlib import sha256

from chirp.avatars.urls import IDENTICON_VERSION

_CELLS = 5
_HALF = (_CELLS + 1) // 2


@lru_cache(maxsize=4096)
def identicon_svg(user_id: int) -> bytes:
    """The identicon of an account: the same picture for the same id, every time."""
    # Seeded by the id alone (public anyway), so the picture tells nothing about the email.
    seed = sha256(f"chirp-identicon-{IDENTICON_VERSION}:{user_id}".encode()).digest()
    hue = int.from_bytes(seed[:2], "big") % 360
    bits = int.from_bytes(seed[2:6], "big")
    cells = []
    for row in range(_CELLS):
        for col in range(_HALF):
            if not bits >> (row * _HALF + col) & 1:
                continue
            for x in {col, _CELLS - 1 - col}:
                cells.append(f"M{x} {row}h1v1h-1z")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="-1 -1 7 7" width="96" height="96" '
        'shape-rendering="crispEdges">'
        f'<rect x="-1" y="-1" width="7" height="7" fill="hsl({hue},45%,92%)"/>'
        f'<path fill="hsl({hue},55%,45%)" d="{"".join(cells)}"/></svg>'
    ).encode()

"""Random secrets and their stored digests."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """Return a URL-safe random secret with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """Return the SHA-256 hex digest stored in place of a secret."""
    return hashlib.sha256(token.encode()).hexdigest()

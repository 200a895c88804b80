"""Random secrets and their stored digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """Return a URL-safe random secret with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """Return the SHA-256 hex digest stored in place of a secret."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_secret(known: str, sent: str) -> bool:
    """Compare a secret with what a client sent, in constant time, whatever text it sent."""
    # hmac.compare_digest refuses str with non-ASCII characters (a TypeError, so a 500),
    # and a cookie, header or form field may hold any.
    return hmac.compare_digest(
        known.encode("utf-8", "surrogatepass"), sent.encode("utf-8", "surrogatepass")
    )

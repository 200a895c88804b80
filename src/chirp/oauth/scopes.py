"""Mastodon's OAuth scopes and how a granted set satisfies a required one."""

from __future__ import annotations

TOP_LEVEL = {"read", "write", "follow", "push", "profile", "admin:read", "admin:write"}
READ = {
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
}
WRITE = {
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
}
ADMIN = {
    "admin:read:accounts",
    "admin:read:reports",
    "admin:read:domain_allows",
    "admin:read:domain_blocks",
    "admin:read:ip_blocks",
    "admin:read:email_domain_blocks",
    "admin:read:canonical_email_blocks",
    "admin:write:accounts",
    "admin:write:reports",
    "admin:write:domain_allows",
    "admin:write:domain_blocks",
    "admin:write:ip_blocks",
    "admin:write:email_domain_blocks",
    "admin:write:canonical_email_blocks",
}
ALL = TOP_LEVEL | READ | WRITE | ADMIN
# The deprecated "follow" scope still grants what it used to.
FOLLOW_GRANTS = {
    "read:follows",
    "write:follows",
    "read:blocks",
    "write:blocks",
    "read:mutes",
    "write:mutes",
}
DEFAULT = "read"
_TOP_LEVEL_ORDER = ("read", "write", "follow", "push", "profile", "admin:read", "admin:write")


def supported() -> list[str]:
    """Every scope, top-level ones first, in a stable order (for the server metadata)."""
    return [*_TOP_LEVEL_ORDER, *sorted(ALL - TOP_LEVEL)]


def parse(scopes: str | None) -> list[str]:
    """Split a space- or plus-separated scope string, keeping order and dropping repeats."""
    seen: dict[str, None] = {}
    for scope in (scopes or "").replace("+", " ").split():
        seen.setdefault(scope, None)
    return list(seen)


def unknown(scopes: list[str]) -> list[str]:
    """Return the scopes Mastodon does not define."""
    return [s for s in scopes if s not in ALL]


def satisfies(granted: list[str] | set[str], required: str) -> bool:
    """Whether a token with ``granted`` scopes may use an endpoint needing ``required``."""
    granted = set(granted)
    if required in granted:
        return True
    parent = required.rsplit(":", 1)[0] if required.count(":") >= 1 else None
    if parent and parent in granted and parent != required:
        return True
    return required in FOLLOW_GRANTS and "follow" in granted


def is_subset(requested: list[str], allowed: list[str]) -> bool:
    """Whether every requested scope is covered by the allowed ones."""
    return all(satisfies(allowed, scope) for scope in requested)

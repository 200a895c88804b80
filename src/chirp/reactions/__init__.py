"""Emoji reactions to posts (as Pleroma and Akkoma offer them)."""

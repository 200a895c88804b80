"""Moderation and administration."""

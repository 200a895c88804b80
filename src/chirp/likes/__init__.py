"""Likes (Mastodon's favourites)."""

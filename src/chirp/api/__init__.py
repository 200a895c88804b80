"""Mastodon-compatible JSON API plumbing: parameters, auth, pagination links, errors."""

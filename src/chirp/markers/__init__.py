"""Read positions in the home timeline and notifications (Mastodon markers)."""

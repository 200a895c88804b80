"""Rate limits as Mastodon applies them: per IP, per account, stricter for sensitive actions."""

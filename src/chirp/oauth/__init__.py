"""OAuth 2 apps, authorisation codes and access tokens, as Mastodon clients expect."""

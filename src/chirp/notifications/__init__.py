"""Notifications: who followed, mentioned, answered, liked, reposted, quoted or reacted."""

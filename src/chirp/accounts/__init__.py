"""Account security and lifecycle: reset, confirmation, email and password changes,
sessions and apps, deletion."""

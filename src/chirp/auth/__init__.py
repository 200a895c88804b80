"""Passwords, web login sessions and CSRF protection."""

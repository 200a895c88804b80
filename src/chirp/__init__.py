"""Chirp: a self-hostable microblogging platform."""

__version__ = "0.1.0"

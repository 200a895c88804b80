"""Avatars served from Chirp's own origin: identicons, and Gravatar images fetched by the server."""

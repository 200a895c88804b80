"""What this server is: its name, version, limits and rules."""

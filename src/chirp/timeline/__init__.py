"""Home and public timelines."""

"""Posts: writing, reading and deleting them."""

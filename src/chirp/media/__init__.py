"""Images: uploads judged by decoding, re-encoded without metadata, stored by content."""

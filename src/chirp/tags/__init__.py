"""Hashtags: tag pages and timelines, trending tags."""

"""Durable background jobs: a transactional outbox in the database, run by workers."""

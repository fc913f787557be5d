"""Postgres persistence: the schema, the store ingestion writes through, and insert strategies."""

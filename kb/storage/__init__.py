"""Storage: the Store protocol and its backends (SQLite embedded, PostgreSQL shared)."""

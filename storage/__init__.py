"""Storage: tables, queries and migrations."""

"""Alembic environment and revisions: the only way RangerSync's schema changes."""

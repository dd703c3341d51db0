"""Alembic migrations of the feedback and conversations database (run by `lva db upgrade` and the API)."""

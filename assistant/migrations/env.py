"""Alembic environment: migrations run on the connection `assistant.db.Database.upgrade` hands in."""

from __future__ import annotations

from alembic import context

from assistant.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `lva db upgrade` (it passes the configured database's connection)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

"""Alembic environment: runs on the connection auth.migrate hands it (no alembic.ini, no URL of its own)."""

from alembic import context

from softskills.db.base import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

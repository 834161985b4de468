"""Alembic environment: runs against the connection tokendash hands over (``config.attributes``)."""

from alembic import context

from tokendash.store.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - tokendash always passes one
    raise RuntimeError("tokendash migrations run through tokendash.store.db.migrate()")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

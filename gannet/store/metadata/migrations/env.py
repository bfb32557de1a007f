"""Alembic environment: Gannet passes its connection in (see ``MetadataStore.upgrade``).

The connection is already inside a write transaction, so all migrations apply
atomically: a failure leaves the database at the revision it had.
"""

from alembic import context

attributes = context.config.attributes
context.configure(
    connection=attributes["connection"],
    version_table=attributes["version_table"],
    transactional_ddl=True,
    render_as_batch=attributes["sqlite"],
)
with context.begin_transaction():
    context.run_migrations()

"""Alembic's environment, driven by `service.migrations.runner` (there is no alembic.ini).

The caller hands over an open connection in `config.attributes['connection']`: the one that holds
the migration lock, on the database the app uses.
"""
from alembic import context
from sqlalchemy.types import TypeDecorator

from service.migrations.runner import target_metadata


def render_item(kind, obj, autogen_context):
    # A revision stays plain SQLAlchemy: a model's own column type (UTCDateTime) is written as the
    # type it stores, so the file neither imports model code nor changes when that code does.
    if kind == 'type' and isinstance(obj, TypeDecorator):
        return f'sa.{obj.impl!r}'
    return False


context.configure(
    connection=context.config.attributes['connection'],
    target_metadata=target_metadata(),
    # Batch mode: SQLite cannot ALTER most things, so autogenerate writes `batch_alter_table`
    # blocks, which copy the table on SQLite and are plain ALTERs on PostgreSQL.
    render_as_batch=True,
    render_item=render_item,
    compare_type=True,
)

with context.begin_transaction():
    context.run_migrations()

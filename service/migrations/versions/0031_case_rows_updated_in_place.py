"""Case rows updated in place: no index on what every write changes, room on each page (PostgreSQL).

Every completion and every fired timer UPDATEs the case row (state, updated_at, steps, version).
`ix_instance_status_updated` (status, updated_at, id) made each such UPDATE a new row version with an
entry in all 17 indexes of process_instance: PostgreSQL updates a row in place (HOT: heap-only
tuple, no index touched) only when no indexed column changes and its page has room. The index
served one list, the inbox's cases awaiting an answer, longest waiting first; that order is now
`waiting_since` (set when what the case waits for changes, filled here from updated_at), indexed
as `ix_instance_awaiting` (status, waiting_since, id). The table leaves a fifth of each
page free (fillfactor 80; pages written from now on) for the next version of its rows.

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-28 19:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('process_instance') as batch:
        batch.add_column(sa.Column('waiting_since', sa.DateTime(), nullable=True))
    op.execute("UPDATE process_instance SET waiting_since = updated_at WHERE waiting_for <> ''")
    op.create_index('ix_instance_awaiting', 'process_instance', ['status', 'waiting_since', 'id'])
    op.drop_index('ix_instance_status_updated', table_name='process_instance')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE process_instance SET (fillfactor = 80)')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE process_instance RESET (fillfactor)')
    op.create_index('ix_instance_status_updated', 'process_instance', ['status', 'updated_at', 'id'])
    op.drop_index('ix_instance_awaiting', table_name='process_instance')
    with op.batch_alter_table('process_instance') as batch:
        batch.drop_column('waiting_since')

"""A process may be deployed again with an older version's content (a rollback): (key, sha256) no longer unique.

Revision ID: 0018
Revises: 0011
Create Date: 2026-11-28 00:30:00
"""
from alembic import op

revision = '0018'
down_revision = '0011'
branch_labels = None
depends_on = None

# The baseline left the constraint unnamed: PostgreSQL named it itself; SQLite's batch copy names the
# reflected constraints by this convention (both columns, so (key, version) and (key, sha256) differ).
NAMING = {'uq': 'uq_%(table_name)s_%(column_0_N_name)s'}


def _old_unique(bind):
    if bind.dialect.name == 'postgresql':
        return 'process_definition_key_sha256_key'
    return 'uq_process_definition_key_sha256'


def upgrade():
    bind = op.get_bind()
    with op.batch_alter_table('process_definition', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(_old_unique(bind), type_='unique')
        batch_op.create_index('ix_process_definition_key_sha256', ['key', 'sha256'], unique=False)


def downgrade():
    # Fails if a rollback deployed the same content twice: the older code cannot hold such versions.
    bind = op.get_bind()
    with op.batch_alter_table('process_definition', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_index('ix_process_definition_key_sha256')
        batch_op.create_unique_constraint(_old_unique(bind), ['key', 'sha256'])

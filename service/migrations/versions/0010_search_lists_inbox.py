"""Search by applicant name, saved list filters, inbox read marks.

process_instance.name_hash (new, indexed): the keyed hash of the applicant's full name, filled
here from each case's start data with the search key of the environment, like id_hash in 0005
(the name itself stays encrypted in the case state; the list summary shows it as before).
saved_filter: named filter sets per person and list. inbox_read: the inbox items a person marked
read (the items are computed from the task rows, services/inbox.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 23:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0016'
branch_labels = None
depends_on = None

BATCH = 500
instances = sa.table('process_instance', sa.column('id', sa.Integer), sa.column('state', sa.Text),
                     sa.column('name_hash', sa.String))


def _fill_name_hashes(bind):
    from service import crypto
    from service.engine.serializer import start_data
    keyring = None
    last = 0
    while True:
        rows = bind.execute(sa.select(instances.c.id, instances.c.state).where(instances.c.id > last)
                            .order_by(instances.c.id).limit(BATCH)).all()
        if not rows:
            break
        for row_id, state in rows:
            last = row_id
            keyring = keyring or crypto.active()
            found = keyring.applicant_name_hash(start_data(keyring.decrypt(state, 'process_instance.state')))
            if found:
                bind.execute(instances.update().where(instances.c.id == row_id).values(name_hash=found))


def upgrade():
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_process_instance_name_hash', ['name_hash'], unique=False)
    _fill_name_hashes(op.get_bind())

    op.create_table('saved_filter',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('username', sa.String(length=100), nullable=False),
                    sa.Column('list_name', sa.String(length=20), nullable=False),
                    sa.Column('name', sa.String(length=60), nullable=False),
                    sa.Column('query', sa.Text(), nullable=False),
                    sa.Column('created_at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('username', 'list_name', 'name', name='uq_saved_filter_user_list_name'))
    op.create_table('inbox_read',
                    sa.Column('username', sa.String(length=100), nullable=False),
                    sa.Column('item', sa.String(length=80), nullable=False),
                    sa.Column('read_at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('username', 'item'))


def downgrade():
    op.drop_table('inbox_read')
    op.drop_table('saved_filter')
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_process_instance_name_hash')
        batch_op.drop_column('name_hash')

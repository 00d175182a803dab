"""Personal data at rest: encrypted columns become text, keyed hashes of ID numbers for search.

process_instance.id_hash (new, indexed) and close_relative.id_hash (new, replaces the clear
id_number in the unique key and the index) are filled here from the rows as they are, with the
search key of the environment (`jiuzhu db upgrade` refuses to run without it outside demo mode).
The rows themselves are not encrypted here: the new code reads clear rows as they are and
`jiuzhu keys rotate` encrypts them in batches, under the case's version (deploy/keys.md).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 19:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BATCH = 500
instances = sa.table('process_instance', sa.column('id', sa.Integer), sa.column('state', sa.Text),
                     sa.column('id_hash', sa.String))
relatives = sa.table('close_relative', sa.column('id', sa.Integer), sa.column('id_number', sa.Text),
                     sa.column('id_hash', sa.String))
tasks = sa.table('task', sa.column('id', sa.String), sa.column('data', sa.Text))


def _old_unique(bind):
    # Made unnamed by the baseline: PostgreSQL named it, SQLite's batch copy names it by the convention below.
    if bind.dialect.name == 'postgresql':
        return 'close_relative_staff_username_id_number_key'
    return 'uq_close_relative_staff_username'


NAMING = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}


def _keyring():
    from service import crypto
    return crypto.active()


def _fill_hashes(bind):
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
            keyring = keyring or _keyring()
            found = keyring.applicant_hash(start_data(keyring.decrypt(state, 'process_instance.state')))
            if found:
                bind.execute(instances.update().where(instances.c.id == row_id).values(id_hash=found))
    for row_id, number in bind.execute(sa.select(relatives.c.id, relatives.c.id_number)).all():
        keyring = keyring or _keyring()
        bind.execute(relatives.update().where(relatives.c.id == row_id).values(
            id_hash=keyring.id_hash(keyring.decrypt(number, 'close_relative.id_number'))))


def upgrade():
    bind = op.get_bind()
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_process_instance_id_hash', ['id_hash'], unique=False)

    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.alter_column('data', existing_type=sa.JSON(), type_=sa.Text(), existing_nullable=True,
                              postgresql_using='data::text')

    with op.batch_alter_table('close_relative', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_hash', sa.String(length=64), nullable=True))

    _fill_hashes(bind)

    with op.batch_alter_table('close_relative', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(_old_unique(bind), type_='unique')
        batch_op.drop_index('ix_close_relative_id_number')
        batch_op.alter_column('id_number', existing_type=sa.String(length=18), type_=sa.Text(),
                              existing_nullable=False)
        batch_op.alter_column('id_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index('ix_close_relative_id_hash', ['id_hash'], unique=False)
        batch_op.create_unique_constraint('uq_close_relative_staff_id_hash', ['staff_username', 'id_hash'])


def _decrypt_all(bind):
    """Back to clear text, for the code before this revision (it cannot read ciphertexts)."""
    from service import crypto
    keyring = None
    for table, key, column, purpose in ((instances, 'id', 'state', 'process_instance.state'),
                                        (tasks, 'id', 'data', 'task.data'),
                                        (relatives, 'id', 'id_number', 'close_relative.id_number')):
        col = table.c[column]
        for row_id, value in bind.execute(sa.select(table.c[key], col).where(col.like(crypto.PREFIX + '%'))).all():
            keyring = keyring or _keyring()
            bind.execute(table.update().where(table.c[key] == row_id).values(
                {column: keyring.decrypt(value, purpose)}))


def downgrade():
    bind = op.get_bind()
    _decrypt_all(bind)
    with op.batch_alter_table('close_relative', schema=None) as batch_op:
        batch_op.drop_constraint('uq_close_relative_staff_id_hash', type_='unique')
        batch_op.drop_index('ix_close_relative_id_hash')
        batch_op.alter_column('id_number', existing_type=sa.Text(), type_=sa.String(length=18),
                              existing_nullable=False)
        batch_op.drop_column('id_hash')
        batch_op.create_index('ix_close_relative_id_number', ['id_number'], unique=False)
        batch_op.create_unique_constraint(_old_unique(bind), ['staff_username', 'id_number'])

    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.alter_column('data', existing_type=sa.Text(), type_=sa.JSON(), existing_nullable=True,
                              postgresql_using='data::json')

    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_process_instance_id_hash')
        batch_op.drop_column('id_hash')

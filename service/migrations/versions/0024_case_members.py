"""The ID hashes of every person of a case's household (近亲属回避 covers members, not only the applicant).

Revision ID: 0024
Revises: 0021
Create Date: 2026-11-28 05:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0024'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id', 'id_hash', name='uq_case_member_instance_hash')
    )
    with op.batch_alter_table('case_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_member_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_member_id_hash'), ['id_hash'], unique=False)
    # The applicants of the cases so far (their hash is on the case); members of older cases are
    # added by `jiuzhu keys rotate --rehash`, which reads each case's start data.
    op.execute('INSERT INTO case_member (instance_id, id_hash) '
               'SELECT id, id_hash FROM process_instance WHERE id_hash IS NOT NULL')


def downgrade():
    with op.batch_alter_table('case_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_member_id_hash'))
        batch_op.drop_index(batch_op.f('ix_case_member_instance_id'))
    op.drop_table('case_member')

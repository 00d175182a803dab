"""Incidents (a case held after a failing step), when a case was terminated, failed timer attempts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 17:41:42.380580
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('township', sa.String(length=50), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('element', sa.String(length=100), nullable=True),
    sa.Column('element_name', sa.String(length=200), nullable=True),
    sa.Column('line', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('trigger', sa.String(length=50), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=True),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by', sa.String(length=100), nullable=True),
    sa.Column('resolution', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_incident_state_created', ['state', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_township'), ['township'], unique=False)

    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('terminated_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.drop_column('attempts')

    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_column('terminated_at')

    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_township'))
        batch_op.drop_index('ix_incident_state_created')
        batch_op.drop_index(batch_op.f('ix_incident_instance_id'))

    op.drop_table('incident')

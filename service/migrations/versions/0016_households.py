"""Households after the decision: the household register, its dated amounts, its cases, the county's spot-check draws.

Revision ID: 0016
Revises: 0009
Create Date: 2026-11-27 22:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('household',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('township', sa.String(length=50), nullable=False),
    sa.Column('village', sa.String(length=100), nullable=True),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('review_type', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('head_name', sa.Text(), nullable=False),
    sa.Column('head_id_hash', sa.String(length=64), nullable=False),
    sa.Column('members', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('next_review_on', sa.Date(), nullable=True),
    sa.Column('phase_out_until', sa.String(length=7), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('category', 'head_id_hash', name='uq_household_category_head')
    )
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index('ix_household_review_due', ['status', 'next_review_on', 'id'], unique=False)
        batch_op.create_index('ix_household_township_status', ['township', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_head_id_hash'), ['head_id_hash'], unique=False)

    op.create_table('household_amount',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('effective_month', sa.String(length=7), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('change', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('household_amount', schema=None) as batch_op:
        batch_op.create_index('ix_household_amount_month', ['household_id', 'effective_month', 'id'], unique=False)

    op.create_table('household_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('linked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id', name='uq_household_case_instance')
    )
    with op.batch_alter_table('household_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_case_household_id'), ['household_id'], unique=False)

    op.create_table('spot_check_draw',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('population', sa.JSON(), nullable=False),
    sa.Column('sample', sa.JSON(), nullable=False),
    sa.Column('drawn_by', sa.String(length=100), nullable=False),
    sa.Column('drawn_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade():
    op.drop_table('spot_check_draw')
    with op.batch_alter_table('household_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_case_household_id'))
    op.drop_table('household_case')
    with op.batch_alter_table('household_amount', schema=None) as batch_op:
        batch_op.drop_index('ix_household_amount_month')
    op.drop_table('household_amount')
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_head_id_hash'))
        batch_op.drop_index('ix_household_township_status')
        batch_op.drop_index('ix_household_review_due')
    op.drop_table('household')

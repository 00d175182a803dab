"""case_referral: a refused household's consented move to the next category, started by the scheduler.

Revision ID: 0023
Revises: 0018
Create Date: 2026-11-28 02:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_referral',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source_instance_id', sa.Integer(), nullable=False),
        sa.Column('target_instance_id', sa.Integer(), nullable=True),
        sa.Column('township', sa.String(length=50), nullable=False),
        sa.Column('category', sa.String(length=50), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['source_instance_id'], ['process_instance.id'], ),
        sa.ForeignKeyConstraint(['target_instance_id'], ['process_instance.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_case_referral_status', 'case_referral', ['status', 'id'])
    op.create_index('ix_case_referral_source_instance_id', 'case_referral', ['source_instance_id'])
    op.create_index('ix_case_referral_target_instance_id', 'case_referral', ['target_instance_id'])


def downgrade():
    op.drop_index('ix_case_referral_target_instance_id', table_name='case_referral')
    op.drop_index('ix_case_referral_source_instance_id', table_name='case_referral')
    op.drop_index('ix_case_referral_status', table_name='case_referral')
    op.drop_table('case_referral')

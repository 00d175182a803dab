"""The entrustment registry (委托书): which township may confirm which category, in which phase, when.

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-27 19:49:54.558599
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('entrustment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('township', sa.String(length=50), nullable=False),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('phase', sa.String(length=20), nullable=False),
    sa.Column('variant', sa.String(length=50), nullable=True),
    sa.Column('matters', sa.Text(), nullable=False),
    sa.Column('scope_text', sa.Text(), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('responsibility', sa.Text(), nullable=False),
    sa.Column('letter_no', sa.String(length=100), nullable=False),
    sa.Column('signed_by', sa.String(length=100), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by', sa.String(length=100), nullable=True),
    sa.Column('revoke_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('entrustment', schema=None) as batch_op:
        batch_op.create_index('ix_entrustment_in_force', ['township', 'category', 'valid_from'], unique=False)



def downgrade():
    with op.batch_alter_table('entrustment', schema=None) as batch_op:
        batch_op.drop_index('ix_entrustment_in_force')

    op.drop_table('entrustment')

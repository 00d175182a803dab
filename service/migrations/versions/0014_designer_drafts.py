"""Designer drafts: what a designer saved in the browser modeler, per designer and bundle path.

Revision ID: 0014
Revises: 0009
Create Date: 2026-11-27 22:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('designer_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('base_definition_id', sa.Integer(), nullable=True),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username', 'path', name='uq_designer_draft_user_path')
    )


def downgrade():
    op.drop_table('designer_draft')

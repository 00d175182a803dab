"""Drafts of the start form (新申请 暂存): a task_draft row without a task, keyed by process.

Revision ID: 0022
Revises: 0018
Create Date: 2026-11-28 02:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('task_draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('process_key', sa.String(length=100), nullable=True))
        batch_op.alter_column('task_id', existing_type=sa.String(length=36), nullable=True)
        batch_op.create_unique_constraint('uq_task_draft_user_process', ['username', 'process_key'])


def downgrade():
    # Start-form drafts have no task: they cannot stay when task_id is required again.
    op.execute("DELETE FROM task_draft WHERE task_id IS NULL")
    with op.batch_alter_table('task_draft', schema=None) as batch_op:
        batch_op.drop_constraint('uq_task_draft_user_process', type_='unique')
        batch_op.alter_column('task_id', existing_type=sa.String(length=36), nullable=False)
        batch_op.drop_column('process_key')

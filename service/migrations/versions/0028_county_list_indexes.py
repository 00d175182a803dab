"""Indexes for two county lists found slow by tests/bench/bench_pages.py at a million cases.

- The fired deadlines (`GET /api/v1/timers?overdue=true`): the list walked every fired timer by due
  time (595,096 fired waits before the 30,326 fired deadlines) for its page and again for its capped
  count: 5 s.
- The cases flagged for the county's visit (`review_required`, 1 %): the list read the newest cases
  backwards and checked the flag on each, about 75,000 rows for the capped count: 0.6 s.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-28 10:05:00
"""
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_timer_list_kind_state', 'timer', ['kind', 'state', 'due_at', 'id'])
    op.create_index('ix_instance_list_review', 'process_instance', ['review_required', 'created_at', 'id'])


def downgrade():
    op.drop_index('ix_instance_list_review', table_name='process_instance')
    op.drop_index('ix_timer_list_kind_state', table_name='timer')

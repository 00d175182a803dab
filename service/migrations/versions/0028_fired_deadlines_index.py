"""An index for the fired deadlines (`GET /api/v1/timers?overdue=true`, the county's overdue timers).

At a million cases the list walked every fired timer by due time (595,096 fired waits before the
30,326 fired deadlines) for its page and again for its capped count: 5 s. Found by
tests/bench/bench_pages.py.

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


def downgrade():
    op.drop_index('ix_timer_list_kind_state', table_name='timer')
